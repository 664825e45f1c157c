"""The audit log, for administrators."""

from __future__ import annotations

import datetime as dt
from typing import Any

import sqlalchemy as sa
from flask import Blueprint, current_app, render_template, request
from flask_security import auth_required

from workroom.audit.labels import object_label
from workroom.audit.models import AuditEvent
from workroom.auth.permissions import require
from workroom.db import db
from workroom.listing import page_of

bp = Blueprint("audit", __name__, url_prefix="/staff")


def _date_arg(name: str) -> dt.date | None:
    try:
        return dt.date.fromisoformat(request.args.get(name, ""))
    except ValueError:
        return None


@bp.get("/audit")
@auth_required()
def events() -> Any:
    require("audit.view")
    stmt = sa.select(AuditEvent)
    actor = (request.args.get("actor") or "").strip()[:60]
    action = (request.args.get("action") or "").strip()[:60]
    object_type = (request.args.get("object_type") or "").strip()[:40]
    since, until = _date_arg("since"), _date_arg("until")
    if actor:
        stmt = stmt.where(AuditEvent.actor_name.ilike(f"%{actor}%"))
    if action:
        stmt = stmt.where(AuditEvent.action.ilike(f"{action}%"))
    if object_type:
        stmt = stmt.where(AuditEvent.object_type == object_type)
    if since:
        stmt = stmt.where(AuditEvent.at >= dt.datetime.combine(since, dt.time()))
    if until:
        stmt = stmt.where(
            AuditEvent.at < dt.datetime.combine(until + dt.timedelta(days=1), dt.time())
        )
    page = page_of(
        stmt.order_by(AuditEvent.at.desc(), AuditEvent.id.desc()),
        per_page=current_app.config["PAGE_SIZE"] * 2,
    )
    object_types = db.session.scalars(
        sa.select(AuditEvent.object_type).distinct().order_by(AuditEvent.object_type)
    ).all()
    return render_template(
        "audit/events.html",
        page=page,
        filters={
            "actor": actor,
            "action": action,
            "object_type": object_type,
            "since": since.isoformat() if since else "",
            "until": until.isoformat() if until else "",
        },
        object_types=sorted(((t, object_label(t)) for t in object_types if t), key=lambda o: o[1]),
    )
