from __future__ import annotations

from flask_babel import lazy_gettext as _l
from wtforms import BooleanField, SelectField, StringField
from wtforms.validators import DataRequired, Length, Optional

from workroom.forms import Form
from workroom.places.models import AREA_LEVELS


class AreaForm(Form):
    name = StringField(
        _l("Name"),
        validators=[DataRequired(_l("Enter a name.")), Length(max=100)],
    )
    level = SelectField(_l("Level"), choices=[(k, v) for k, v in AREA_LEVELS.items()])
    parent_id = SelectField(_l("Parent area"), coerce=int, validators=[Optional()])
    active = BooleanField(_l("Active"), default=True)


class WorkroomForm(Form):
    name = StringField(
        _l("Name"),
        validators=[DataRequired(_l("Enter a name.")), Length(max=100)],
    )
    slug = StringField(
        _l("Address name"),
        description=_l(
            "Used in the public address and on posters, e.g. xiasheshi. It cannot change later."
        ),
        validators=[DataRequired(_l("Enter an address name.")), Length(max=60)],
    )
    area_id = SelectField(_l("Area"), coerce=int)
    address = StringField(_l("Street address"), validators=[Length(max=200)])
    phone = StringField(_l("Phone"), validators=[Length(max=30)])
    liaison_hours = StringField(
        _l("Liaison hours on working days"),
        description=_l("For example 09:00-12:00, 14:30-17:30"),
        validators=[Length(max=100)],
    )
    active = BooleanField(_l("Active"), default=True)
