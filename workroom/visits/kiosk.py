"""Pages of this area."""

from flask import Blueprint

bp = Blueprint("kiosk", __name__)
