"""Pages of this area."""

from flask import Blueprint

bp = Blueprint("roster_import", __name__, url_prefix="/staff")
