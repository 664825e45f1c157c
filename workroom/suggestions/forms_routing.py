from __future__ import annotations

from typing import Any

from flask_babel import lazy_gettext as _l
from wtforms import BooleanField, IntegerField, SelectField, ValidationError
from wtforms.validators import InputRequired, NumberRange

from workroom.forms import Form, MultiCheckboxField
from workroom.suggestions.models import DEADLINE_POLICIES
from workroom.suggestions.routing import PRIORITY_RANGE

_PRIORITY_MESSAGE = _l(
    "Enter a whole number from %(low)s to %(high)s.", low=PRIORITY_RANGE[0], high=PRIORITY_RANGE[1]
)


class RoutingRuleForm(Form):
    category_id = SelectField(
        _l("Category"),
        coerce=int,
        description=_l("A rule on a category also covers its sub-categories."),
    )
    area_id = SelectField(
        _l("Area"),
        coerce=int,
        description=_l("The rule covers this area and every area inside it."),
    )
    lead_agency_id = SelectField(_l("Lead agency"), coerce=int)
    co_agency_ids = MultiCheckboxField(_l("Co-handling agencies"), coerce=int)
    group_id = SelectField(_l("Professional group to keep informed"), coerce=int)
    deadline_policy = SelectField(
        _l("Deadline policy"), choices=[(k, v) for k, v in DEADLINE_POLICIES.items()]
    )
    priority = IntegerField(
        _l("Priority"),
        default=0,
        description=_l("Breaks ties between equally specific rules: the higher number wins."),
        validators=[
            InputRequired(_PRIORITY_MESSAGE),
            NumberRange(min=PRIORITY_RANGE[0], max=PRIORITY_RANGE[1], message=_PRIORITY_MESSAGE),
        ],
    )
    active = BooleanField(_l("Active"), default=True)

    def validate_category_id(self, field: Any) -> None:
        if not field.data:
            raise ValidationError(_l("Choose a category."))

    def validate_area_id(self, field: Any) -> None:
        if not field.data:
            raise ValidationError(_l("Choose an area."))

    def validate_lead_agency_id(self, field: Any) -> None:
        if not field.data:
            raise ValidationError(_l("Choose the lead agency."))


class RoutePreviewForm(Form):
    """The category and area to try; read from the query string."""

    class Meta:
        csrf = False

    category = SelectField(_l("Category"), coerce=int)
    area = SelectField(_l("Area"), coerce=int)
