"""Forms of the suggestion pages: intake, the staff's steps and the agency's steps."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf.file import FileField, MultipleFileField
from wtforms import BooleanField, DateField, SelectField, StringField, TextAreaField
from wtforms.validators import DataRequired, Length, Optional

from workroom.forms import Form, MultiCheckboxField
from workroom.suggestions.lifecycle import NOTE_MAX, TEXT_MAX, TITLE_MAX
from workroom.suggestions.models import DEADLINE_POLICIES, REPLY_CLASSES, SATISFACTION

# Where a suggestion raised directly (not from a visit) may come from.
DIRECT_SOURCES = ("deputy", "liaison", "other")


def _reason_field(label: str = _l("Reason")) -> TextAreaField:
    return TextAreaField(
        label,
        validators=[
            DataRequired(_l("Give a reason.")),
            Length(max=NOTE_MAX),
        ],
    )


class SuggestionForm(Form):
    title = StringField(
        _l("Title"),
        validators=[
            DataRequired(_l("Enter a title.")),
            Length(max=TITLE_MAX),
        ],
    )
    content = TextAreaField(
        _l("The suggestion"),
        validators=[
            DataRequired(_l("Describe the suggestion.")),
            Length(max=TEXT_MAX),
        ],
    )
    category_id = SelectField(
        _l("Category"), coerce=int, validators=[DataRequired(_l("Choose a category."))]
    )
    area_id = SelectField(
        _l("Area"),
        coerce=int,
        description=_l("Where the matter is; it decides which agency handles it."),
        validators=[DataRequired(_l("Choose an area."))],
    )
    workroom_id = SelectField(_l("Workroom"), coerce=int)
    source = SelectField(_l("Comes from"))
    deputy_id = SelectField(_l("Deputy raising it"), coerce=int)
    citizen_name = StringField(
        _l("Citizen's name"),
        description=_l("Optional."),
        validators=[Length(max=50)],
    )
    citizen_phone = StringField(
        _l("Citizen's phone"),
        description=_l(
            "Optional. With a mobile number the citizen gets an SMS when the answer is "
            "published, and can follow the progress with the last four digits."
        ),
        validators=[Length(max=30)],
    )
    confidential = BooleanField(
        _l("Keep the citizen's identity from the agencies (为本人保密)"),
    )
    attachments = MultipleFileField(_l("Attachments"))


class AssignForm(Form):
    lead_agency_id = SelectField(
        _l("Lead agency"), coerce=int, validators=[DataRequired(_l("Choose the lead agency."))]
    )
    co_agency_ids = MultiCheckboxField(_l("Co-handling agencies"), coerce=int)
    deadline_policy = SelectField(
        _l("Deadline policy"),
        choices=[("", _l("As the routing rule says"))] + list(DEADLINE_POLICIES.items()),
        validators=[Optional()],
    )
    override = BooleanField(_l("Override the routing rules"))
    reason = TextAreaField(
        _l("Reason"),
        description=_l("Required when overriding the rules or changing the agency."),
        validators=[Length(max=NOTE_MAX)],
    )


class FollowUpForm(Form):
    satisfaction = SelectField(
        _l("The citizen is"),
        choices=[("", _l("Choose"))] + list(SATISFACTION.items()),
        validators=[DataRequired(_l("Choose how satisfied the citizen is."))],
    )
    note = TextAreaField(_l("Note"), validators=[Length(max=NOTE_MAX)])


class CloseForm(Form):
    """Nothing to fill in: the CSRF token alone."""


class RehandleForm(Form):
    reason = _reason_field(_l("Why it is handled again"))


class MergeForm(Form):
    into_code = StringField(
        _l("Tracking code of the suggestion to merge into"),
        validators=[
            DataRequired(_l("Enter a tracking code.")),
            Length(max=20),
        ],
    )


class ExtensionDecisionForm(Form):
    decision = SelectField(
        _l("Decision"),
        choices=[("", _l("Choose")), ("approve", _l("Approve")), ("refuse", _l("Refuse"))],
        validators=[DataRequired(_l("Choose to approve or refuse."))],
    )
    note = TextAreaField(_l("Note"), validators=[Length(max=NOTE_MAX)])


class AttachmentForm(Form):
    files = MultipleFileField(_l("Files"))


# The agency portal


class AcceptForm(Form):
    """Nothing to fill in: the CSRF token alone."""


class ReplyForm(Form):
    text = TextAreaField(
        _l("Answer"),
        validators=[
            DataRequired(_l("Write the answer.")),
            Length(max=TEXT_MAX),
        ],
    )
    reply_class = SelectField(
        _l("Class of the answer"),
        choices=[("", _l("Choose"))] + list(REPLY_CLASSES.items()),
        validators=[DataRequired(_l("Choose the class of the answer."))],
    )
    letter = FileField(_l("Reply letter (答复函)"))


class ExtensionRequestForm(Form):
    requested_due = DateField(
        _l("New deadline"),
        validators=[DataRequired(_l("Enter the new deadline."))],
    )
    reason = _reason_field()


class ReturnForm(Form):
    reason = _reason_field(_l("Why it is not your agency's business"))


class OpinionForm(Form):
    opinion = TextAreaField(
        _l("Opinion for the lead agency"),
        validators=[
            DataRequired(_l("Write the opinion.")),
            Length(max=TEXT_MAX),
        ],
    )


# Public tracking


class TrackForm(Form):
    code = StringField(
        _l("Tracking code or receipt code"),
        description=_l("The code on your receipt or in our SMS, such as 7K3M9QXH."),
        validators=[DataRequired(_l("Enter the code.")), Length(max=40)],
    )
    phone4 = StringField(
        _l("Last 4 digits of your phone number"),
        validators=[
            DataRequired(_l("Enter the last 4 digits of your phone number.")),
            Length(max=10),
        ],
    )
