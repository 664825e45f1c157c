"""Form helpers shared by every area: text cleaning, domain errors on forms, saving a form."""

from __future__ import annotations

import unicodedata
from collections.abc import Callable
from typing import Any, TypeVar

from flask import render_template
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import SelectMultipleField, ValidationError
from wtforms.widgets import CheckboxInput, ListWidget

from workroom.db import db
from workroom.errors import DomainError

T = TypeVar("T")


def clean_text(value: Any) -> Any:
    """Strip surrounding space and drop NUL and other control characters (not newlines)."""
    if not isinstance(value, str):
        return value
    value = "".join(
        ch for ch in value if ch in "\n\t" or unicodedata.category(ch) not in ("Cc", "Cs")
    )
    return value.strip()


class NoControlCharacters:
    """Reject input that holds control characters other than newlines and tabs."""

    def __call__(self, _form: Any, field: Any) -> None:
        raw = field.raw_data[0] if field.raw_data else ""
        if isinstance(raw, str) and any(
            unicodedata.category(ch) == "Cc" and ch not in "\n\t\r" for ch in raw
        ):
            raise ValidationError(_l("Remove the invisible control characters."))


class Form(FlaskForm):
    """Base form: every text field is cleaned, and domain errors land on fields."""

    class Meta:
        def bind_field(self, form: Any, unbound_field: Any, options: dict[str, Any]) -> Any:
            filters = list(unbound_field.kwargs.get("filters", ()))
            if unbound_field.field_class.__name__ in (
                "StringField",
                "TextAreaField",
                "EmailField",
                "SearchField",
            ):
                filters.insert(0, clean_text)
                options = {**options, "filters": filters}
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
