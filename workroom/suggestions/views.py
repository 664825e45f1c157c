"""Pages of this area."""

from flask import Blueprint

bp = Blueprint("suggestions", __name__, url_prefix="/staff")
