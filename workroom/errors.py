"""Errors raised by domain functions and shown to users."""

from __future__ import annotations


class DomainError(Exception):
    """A rule was broken. ``field`` names the form field the message belongs to.

    ``message`` is a lazy or plain translated string; views put it on the form or
    answer it with a 4xx status (``status``, 400 by default).
    """

    status = 400

    def __init__(self, message: str, field: str | None = None, status: int | None = None):
        super().__init__(str(message))
        self.message = message
        self.field = field
        if status is not None:
            self.status = status


class NotFound(DomainError):
    status = 404


class Conflict(DomainError):
    """The action does not fit the object's current state (HTTP 409)."""

    status = 409
