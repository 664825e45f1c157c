from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_babel import lazy_pgettext
from wtforms import (
    BooleanField,
    DateField,
    EmailField,
    IntegerField,
    SelectField,
    StringField,
)
from wtforms.validators import DataRequired, Email, Length, NumberRange, Optional

from workroom.forms import Form, MultiCheckboxField
from workroom.people.models import DEPUTY_LEVELS

_EMAIL_MESSAGE = _l("Enter an email address such as name@example.com.")
_CODE_HINT = _l("Lower-case letters, digits and dashes. It cannot change later.")


def _email_field() -> EmailField:
    return EmailField(
        _l("Email"),
        validators=[Optional(), Length(max=120), Email(message=_EMAIL_MESSAGE)],
    )


class DeputyForm(Form):
    name = StringField(
        lazy_pgettext("person", "Name"),
        validators=[DataRequired(_l("Enter a name.")), Length(max=50)],
    )
    level = SelectField(_l("Level"), choices=[(k, v) for k, v in DEPUTY_LEVELS.items()])
    term = StringField(
        _l("Term"),
        description=_l("For example 第十八届"),
        validators=[Length(max=30)],
    )
    constituency = StringField(_l("Constituency"), validators=[Length(max=100)])
    sector = StringField(_l("Occupation or sector"), validators=[Length(max=100)])
    phone = StringField(_l("Phone"), validators=[Length(max=30)])
    email = _email_field()
    group_ids = MultiCheckboxField(_l("Professional groups"), coerce=int)
    workroom_ids = MultiCheckboxField(_l("Workrooms"), coerce=int)
    monthly_cap = IntegerField(
        _l("Most reception days a month"),
        description=_l("Leave empty for no limit."),
        validators=[
            Optional(),
            NumberRange(
                min=1,
                max=31,
                message=_l("Enter a number from 1 to 31, or leave it empty for no limit."),
            ),
        ],
    )
    active = BooleanField(_l("Active"), default=True)


class UnavailabilityForm(Form):
    starts_on = DateField(_l("First day"), validators=[DataRequired(_l("Enter the first day."))])
    ends_on = DateField(_l("Last day"), validators=[DataRequired(_l("Enter the last day."))])
    reason = StringField(_l("Reason"), validators=[Length(max=200)])


class GroupForm(Form):
    code = StringField(
        _l("Code"),
        description=_CODE_HINT,
        validators=[DataRequired(_l("Enter a code.")), Length(max=40)],
    )
    name = StringField(
        _l("Name"),
        validators=[DataRequired(_l("Enter a name.")), Length(max=100)],
    )
    active = BooleanField(_l("Active"), default=True)


class AgencyForm(Form):
    code = StringField(
        _l("Code"),
        description=_CODE_HINT,
        validators=[DataRequired(_l("Enter a code.")), Length(max=40)],
    )
    name = StringField(
        _l("Name"),
        validators=[DataRequired(_l("Enter a name.")), Length(max=100)],
    )
    area_id = SelectField(_l("Area it serves"), coerce=int)
    contact_name = StringField(_l("Contact person"), validators=[Length(max=50)])
    contact_phone = StringField(_l("Contact phone"), validators=[Length(max=30)])
    email = _email_field()
    # The view checks the choice against the domain rules (no self, no cycle).
    supervisor_id = SelectField(_l("Supervising agency"), coerce=int, validate_choice=False)
    active = BooleanField(_l("Active"), default=True)
