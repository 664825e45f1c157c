"""Pages of this area."""

from flask import Blueprint

bp = Blueprint("visits", __name__, url_prefix="/staff")
