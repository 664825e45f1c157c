from __future__ import annotations

from flask_babel import lazy_gettext as _l
from wtforms import BooleanField, IntegerField, SelectField, StringField
from wtforms.validators import DataRequired, Length, NumberRange, Optional

from workroom.forms import Form


class CategoryForm(Form):
    code = StringField(
        _l("Code"),
        description=_l(
            "Used by routing rules, reports and the API, e.g. urban-roads. It cannot change later."
        ),
        validators=[DataRequired(_l("Enter a code.")), Length(max=40)],
    )
    label_zh = StringField(
        _l("Chinese label"),
        validators=[
            DataRequired(_l("Enter the Chinese label.")),
            Length(max=60),
        ],
    )
    label_en = StringField(
        _l("English label"),
        validators=[
            DataRequired(_l("Enter the English label.")),
            Length(max=80),
        ],
    )
    # The domain function checks the depth rule and says why a choice is refused.
    parent_id = SelectField(_l("Parent category"), coerce=int, validate_choice=False)
    position = IntegerField(
        _l("Position"),
        description=_l("Smaller numbers come first."),
        default=0,
        validators=[
            Optional(),
            NumberRange(min=0, max=9999, message=_l("Enter a number from 0 to 9999.")),
        ],
    )
    active = BooleanField(_l("Active"), default=True)
