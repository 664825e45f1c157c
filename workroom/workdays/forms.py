from __future__ import annotations

from flask_babel import lazy_gettext as _l
from wtforms import DateField, IntegerField, SelectField, StringField
from wtforms.validators import DataRequired, InputRequired, Length, NumberRange

from workroom.forms import Form
from workroom.workdays.calendar import FIRST_YEAR, LAST_YEAR
from workroom.workdays.models import ADJUSTMENT_KINDS

_YEAR_RANGE = NumberRange(
    min=FIRST_YEAR,
    max=LAST_YEAR,
    message=_l("Choose a year from %(first)s to %(last)s.", first=FIRST_YEAR, last=LAST_YEAR),
)


class AdjustmentForm(Form):
    day = DateField(
        _l("Day"),
        validators=[DataRequired(_l("Enter the day."))],
    )
    kind = SelectField(
        _l("Kind"),
        choices=list(ADJUSTMENT_KINDS.items()),
        validators=[DataRequired(_l("Choose a day off or a makeup workday."))],
    )
    name = StringField(
        _l("Holiday"),
        description=_l("The holiday it belongs to, such as 春节 or 国庆节."),
        validators=[
            DataRequired(_l("Enter the holiday it belongs to, such as 春节.")),
            Length(max=60),
        ],
    )
    notice = StringField(
        _l("Notice"),
        description=_l("The State Council notice it comes from, such as 国办发明电〔2025〕7号."),
        validators=[
            DataRequired(_l("Enter the notice this comes from.")),
            Length(max=100),
        ],
    )


class ConfirmYearForm(Form):
    year = IntegerField(
        _l("Year"),
        validators=[InputRequired(_l("Enter the year.")), _YEAR_RANGE],
    )
    note = StringField(
        _l("Notice"),
        description=_l("The State Council notice that sets this year's holidays."),
        validators=[
            DataRequired(_l("Name the State Council notice for this year.")),
            Length(max=200),
        ],
    )
