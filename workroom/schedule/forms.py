from __future__ import annotations

from flask_babel import lazy_gettext as _l
from wtforms import (
    BooleanField,
    DateField,
    HiddenField,
    IntegerField,
    MonthField,
    SelectField,
    StringField,
    TimeField,
)
from wtforms.validators import (
    DataRequired,
    InputRequired,
    Length,
    NumberRange,
    Optional,
    ValidationError,
)

from workroom.db import db
from workroom.forms import Form, MultiCheckboxField
from workroom.people.models import Deputy
from workroom.schedule.changes import MAX_REASON
from workroom.schedule.models import MAX_DEPUTIES_PER_DAY, NON_WORKING_DAY_POLICIES
from workroom.schedule.periods import PERIOD_LENGTHS
from workroom.schedule.rules import KINDS, LAST, WEEKDAY_CODES

WEEKDAY_NAMES = (
    _l("Monday"),
    _l("Tuesday"),
    _l("Wednesday"),
    _l("Thursday"),
    _l("Friday"),
    _l("Saturday"),
    _l("Sunday"),
)
NTH_NAMES = [
    (1, _l("1st")),
    (2, _l("2nd")),
    (3, _l("3rd")),
    (4, _l("4th")),
    (LAST, _l("Last")),
]
MAX_CAPACITY = 1000


def _month_days() -> list[tuple[int, str]]:
    return [(0, _l("Not used")), *((d, str(d)) for d in range(1, 32)), (LAST, _l("Last day"))]


class RuleForm(Form):
    kind = SelectField(_l("Repeats"), choices=list(KINDS.items()))
    weekdays = MultiCheckboxField(
        _l("Weekdays"),
        description=_l("For weekly rules and for the Nth weekday of the month."),
        choices=list(zip(WEEKDAY_CODES, WEEKDAY_NAMES, strict=True)),
    )
    nth = MultiCheckboxField(
        _l("Which weeks of the month"),
        description=_l("Only for the Nth weekday of the month, e.g. the 2nd and 4th."),
        choices=NTH_NAMES,
        coerce=int,
    )
    month_day = SelectField(
        _l("Day of the month"),
        description=_l("Only for a day of the month. A month without that day is skipped."),
        choices=_month_days(),
        coerce=int,
        default=0,
    )
    starts_at_time = TimeField(
        _l("Starts at"), validators=[InputRequired(_l("Enter the start time."))]
    )
    ends_at_time = TimeField(_l("Ends at"), validators=[InputRequired(_l("Enter the end time."))])
    deputies_needed = IntegerField(
        _l("Deputies per day"),
        default=2,
        validators=[
            InputRequired(_l("Enter how many deputies receive citizens.")),
            NumberRange(1, MAX_DEPUTIES_PER_DAY),
        ],
    )
    capacity = IntegerField(
        _l("Visitors per day"),
        default=20,
        validators=[
            InputRequired(_l("Enter how many visitors can be received.")),
            NumberRange(0, MAX_CAPACITY),
        ],
    )
    valid_from = DateField(
        _l("Valid from"), validators=[InputRequired(_l("Enter the first day the rule applies."))]
    )
    valid_until = DateField(
        _l("Valid until"),
        description=_l("Leave empty for no end."),
        validators=[Optional()],
    )
    on_non_working_day = SelectField(
        _l("On a holiday or other non-working day"),
        choices=list(NON_WORKING_DAY_POLICIES.items()),
        default="next_working_day",
    )
    active = BooleanField(_l("Active"), default=True)


class GenerateForm(Form):
    start_month = MonthField(
        _l("First month"),
        description=_l("For example 2026-04."),
        validators=[InputRequired(_l("Choose the first month."))],
    )
    length = SelectField(_l("Period"), choices=list(PERIOD_LENGTHS.items()), coerce=int, default=1)
    # The unconfirmed years the person was shown and acknowledged, e.g. "2027".
    acknowledged_years = HiddenField()
    acknowledge = BooleanField(_l("I have checked the holiday arrangements"))


def _existing_deputy(_form: Form, field: SelectField) -> None:
    if field.data and db.session.get(Deputy, field.data) is None:
        raise ValidationError(_l("Choose a deputy."))


def deputy_field(label: str) -> SelectField:
    # The list offers the deputies as the page saw them. Whether one may hold the day is
    # decided when the change is made, against the current state (changes._check_can_hold):
    # someone taken in the meantime is refused there with a 409, not here as a bad choice.
    return SelectField(
        label,
        coerce=int,
        validators=[DataRequired(_l("Choose a deputy.")), _existing_deputy],
        validate_choice=False,
    )


class ReplaceForm(Form):
    deputy_id = deputy_field(_l("Replace with"))


class AddDeputyForm(Form):
    deputy_id = deputy_field(_l("Add a deputy"))


class CancelDayForm(Form):
    reason = StringField(
        _l("Reason for cancelling"),
        description=_l("Deputies on duty receive it with the cancellation."),
        validators=[
            DataRequired(_l("Say why the day is cancelled.")),
            Length(max=MAX_REASON),
        ],
    )


class SwapRequestForm(Form):
    reason = StringField(
        _l("Why you need to swap"),
        validators=[
            DataRequired(_l("Say why you need to swap.")),
            Length(max=MAX_REASON),
        ],
    )


class ApproveSwapForm(Form):
    deputy_id = deputy_field(_l("Substitute"))


class RefuseSwapForm(Form):
    note = StringField(
        _l("Note to the deputy"),
        validators=[Optional(), Length(max=MAX_REASON)],
    )
