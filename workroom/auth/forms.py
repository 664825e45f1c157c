from __future__ import annotations

from flask_babel import lazy_gettext as _l
from wtforms import BooleanField, SelectField, StringField
from wtforms.validators import DataRequired, Length

from workroom.auth.permissions import ROLES
from workroom.forms import Form, MultiCheckboxField


class UserForm(Form):
    username = StringField(
        _l("Username"),
        description=_l("Letters, digits, dots, dashes or underscores; used to sign in."),
        validators=[DataRequired(_l("Enter a username.")), Length(max=60)],
    )
    display_name = StringField(_l("Display name"), validators=[Length(max=60)])
    role = SelectField(_l("Role"), choices=[(k, v) for k, v in ROLES.items()])
    workroom_ids = MultiCheckboxField(
        _l("Workrooms (for a liaison)"), coerce=int, validate_choice=False
    )
    agency_id = SelectField(_l("Agency (for an agency handler)"), coerce=int)
    deputy_id = SelectField(_l("Deputy (for a deputy account)"), coerce=int)
    active = BooleanField(_l("Active"), default=True)
