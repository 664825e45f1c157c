"""Staff pages of the outbox: outgoing messages, their errors, and the job runner's state."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_security import auth_required

from workroom.audit.models import AuditChain
from workroom.auth.permissions import get_or_404, require
from workroom.clock import utcnow
from workroom.db import db
from workroom.errors import DomainError
from workroom.listing import page_of
from workroom.outbox.models import CHANNELS, STATUSES, OutboxMessage
from workroom.outbox.queue import retry_message
from workroom.runner.scheduler import runner_state

bp = Blueprint("outbox", __name__, url_prefix="/staff")

# Admins only, like the audit log.
PERMISSION = "outbox.manage"


@bp.get("/messages")
@auth_required()
def messages() -> Any:
    require(PERMISSION)
    status = request.args.get("status", "")
    channel = request.args.get("channel", "")
    stmt = sa.select(OutboxMessage)
    if status in STATUSES:
        stmt = stmt.where(OutboxMessage.status == status)
    else:
        status = ""
    if channel in CHANNELS:
        stmt = stmt.where(OutboxMessage.channel == channel)
    else:
        channel = ""
    page = page_of(stmt.order_by(OutboxMessage.created_at.desc(), OutboxMessage.id.desc()))
    counts = dict(
        db.session.execute(
            sa.select(OutboxMessage.status, sa.func.count()).group_by(OutboxMessage.status)
        ).all()
    )
    return render_template(
        "outbox/messages.html",
        audit_chain=db.session.get(AuditChain, 1),
        page=page,
        filters={"status": status, "channel": channel},
        statuses=STATUSES,
        channels=CHANNELS,
        counts=counts,
        runner=runner_state(utcnow()),
    )


@bp.post("/messages/<int:message_id>/retry")
@auth_required()
def retry(message_id: int) -> Any:
    message = get_or_404(OutboxMessage, message_id, PERMISSION)
    try:
        retry_message(message, utcnow())
        db.session.commit()
        flash(_("The message will be sent again shortly."))
    except DomainError as error:
        db.session.rollback()
        flash(str(error.message), "error")
    return redirect(url_for("outbox.messages", **_list_args()))


def _list_args() -> dict[str, str]:
    """The list filters the retry form carried, so the admin returns to the same view."""
    args = {k: request.form.get(k, "")[:20] for k in ("status", "channel", "page")}
    return {k: v for k, v in args.items() if v}
