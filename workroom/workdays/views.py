"""Staff pages of the workdays area."""

from flask import Blueprint

bp = Blueprint("workdays", __name__, url_prefix="/staff")
