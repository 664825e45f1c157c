"""Pages of this area."""

from flask import Blueprint

bp = Blueprint("routing", __name__, url_prefix="/staff")
