"""Pages of this area."""

from flask import Blueprint

bp = Blueprint("schedule", __name__, url_prefix="/staff")
