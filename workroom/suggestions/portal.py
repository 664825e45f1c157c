"""Pages of this area."""

from flask import Blueprint

bp = Blueprint("portal", __name__, url_prefix="/agency")
