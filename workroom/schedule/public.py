"""Pages of this area."""

from flask import Blueprint

bp = Blueprint("public", __name__)
