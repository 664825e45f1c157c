"""Form helpers shared by every area: text cleaning, domain errors on forms, saving a form."""

from __future__ import annotations

import unicodedata
from collections.abc import Callable
from typing import Any, TypeVar

from flask import render_template
from flask_wtf import FlaskForm
from wtforms import SelectMultipleField
from wtforms.validators import StopValidation
from wtforms.widgets import CheckboxInput, ListWidget

from workroom.db import db
from workroom.errors import DomainError
from workroom.text import text_problem

T = TypeVar("T")


def clean_text(value: Any) -> Any:
    """Strip surrounding space and drop NUL and other control characters (not newlines)."""
    if not isinstance(value, str):
        return value
    value = "".join(
        ch for ch in value if ch in "\n\t" or unicodedata.category(ch) not in ("Cc", "Cs")
    )
    return value.strip()


class TypedText:
    """Refuse what the submitted text may not hold (``workroom.text``): in a single-line
    field a line break or a control character, in a multi-line field a control
    character other than line breaks and tabs. Checks the text as sent, before the
    cleaning filter."""

    def __init__(self, *, multiline: bool) -> None:
        self.multiline = multiline

    def __call__(self, _form: Any, field: Any) -> None:
        raw = field.raw_data[0] if field.raw_data else ""
        if isinstance(raw, str):
            problem = text_problem(raw, multiline=self.multiline)
            if problem:
                raise StopValidation(problem)


_SINGLE_LINE_FIELDS = ("StringField", "EmailField", "SearchField", "TelField", "URLField")
_MULTI_LINE_FIELDS = ("TextAreaField",)


class Form(FlaskForm):
    """Base form: every text field is checked (``TypedText``) and cleaned, and domain
    errors land on fields."""

    class Meta:
        def bind_field(self, form: Any, unbound_field: Any, options: dict[str, Any]) -> Any:
            kind = unbound_field.field_class.__name__
            if kind in _SINGLE_LINE_FIELDS or kind in _MULTI_LINE_FIELDS:
                filters = [clean_text, *unbound_field.kwargs.get("filters", ())]
                # Validators are given by keyword throughout (``validators=[…]``).
                validators = [
                    TypedText(multiline=kind in _MULTI_LINE_FIELDS),
                    *unbound_field.kwargs.get("validators", ()),
                ]
                options = {**options, "filters": filters, "validators": validators}
            return unbound_field.bind(form=form, **options)

    def add_error(self, error: DomainError) -> None:
        field = getattr(self, error.field, None) if error.field else None
        if field is not None:
            field.errors = [*field.errors, error.message]
        else:
            self.form_errors.append(error.message)


class MultiCheckboxField(SelectMultipleField):
    """A multiple choice shown as checkboxes (easier than a multi-select list)."""

    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()


def save(form: Form, change: Callable[[], T]) -> T | None:
    """Validate the submitted ``form``, run ``change`` and commit.

    Answers what ``change`` answered (the saved object), or None when the form was not
    submitted, is invalid, or ``change`` raised DomainError; then the session is rolled
    back and the error is put on the form.
    """
    if not form.validate_on_submit():
        return None
    try:
        result = change()
        db.session.commit()
    except DomainError as error:
        db.session.rollback()
        form.add_error(error)
        return None
    return result


def render_form(template: str, form: Form, **context: Any) -> tuple[str, int]:
    """Render ``template`` with ``form``: 400 when the form holds errors, else 200."""
    return render_template(template, form=form, **context), 400 if form.errors else 200
