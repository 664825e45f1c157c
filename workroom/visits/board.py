"""Pages of this area."""

from flask import Blueprint

bp = Blueprint("board", __name__)
