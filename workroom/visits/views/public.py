"""The display board on a TV in the workroom: ticket numbers being called, where to go,
the next tickets and today's deputies. Public, and never shows a visitor's data."""

from __future__ import annotations

import datetime as dt
from typing import Any

import sqlalchemy as sa
from flask import Blueprint, abort, current_app, render_template, request, url_for
from flask_babel import format_date, format_datetime, ngettext
from flask_babel import gettext as _

from workroom.clock import utcnow
from workroom.db import db
from workroom.places.models import Workroom
from workroom.visits.queue import BoardCall, board_snapshot
from workroom.workdays.calendar import is_working_day

bp = Blueprint("board", __name__)

# Calls shown at once: the newest large, the others beside it.
SHOWN_CALLS = 4


def _workroom(slug: str) -> Workroom:
    workroom = db.session.scalar(
        sa.select(Workroom).where(Workroom.slug == slug, Workroom.active.is_(True))
    )
    if workroom is None:
        abort(404)
    return workroom


def _where_to_go(call: BoardCall) -> str:
    if call.deputy_name:
        return _("Please go to deputy %(name)s", name=call.deputy_name)
    return _("Please go to the liaison")


def board_state(workroom: Workroom) -> dict[str, Any]:
    """The board's content as JSON-ready data, in the request's language."""
    now = utcnow()
    snap = board_snapshot(workroom, now)
    return {
        "workroom": workroom.name,
        "date": format_date(snap.today, "full"),
        "updated": format_datetime(now, "HH:mm"),
        "calling": [
            {"ticket": c.ticket, "to": _where_to_go(c), "key": c.key}
            for c in snap.calling[:SHOWN_CALLS]
        ],
        "next": snap.next_tickets,
        "waiting": snap.waiting_count,
        "waiting_text": ngettext("%(num)s waiting", "%(num)s waiting", snap.waiting_count),
        "deputies": snap.deputies,
        "nobody": _nobody_on_duty(workroom, snap.today),
        "last_call": snap.last_call,
    }


def _nobody_on_duty(workroom: Workroom, today: dt.date) -> str:
    """What the board says when no deputy receives today."""
    if workroom.liaison_hours and is_working_day(today):
        return _("The liaison receives you today.")
    return _("No reception today.")


def _poll_seconds() -> int:
    return max(1, int(current_app.config.get("BOARD_POLL_SECONDS", 3)))


@bp.get("/w/<slug>/board")
def board(slug: str) -> Any:
    workroom = _workroom(slug)
    # The language chosen with ?lang= carries over to the polled state.
    lang = {"lang": request.args["lang"]} if request.args.get("lang") else {}
    return render_template(
        "board/board.html",
        workroom=workroom,
        state=board_state(workroom),
        state_url=url_for("board.state", slug=slug, **lang),
        poll_seconds=_poll_seconds(),
    )


@bp.get("/w/<slug>/board.json")
def state(slug: str) -> Any:
    response = current_app.json.response(board_state(_workroom(slug)))
    response.headers["Cache-Control"] = "no-store"
    return response
