"""Staff pages of the outbox area."""

from flask import Blueprint

bp = Blueprint("outbox", __name__, url_prefix="/staff")
