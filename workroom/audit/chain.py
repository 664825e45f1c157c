"""The audit log's hash chain: a change, an insertion or a deletion made to the log
directly in the database shows.

Events are written without touching the chain, so writers never wait for one another
on a chain head. A job seals them later, in batches and in id order: each sealed event
gets the next position and a seal, an HMAC (key AUDIT_CHAIN_KEY, kept in the instance
folder, not in the database) of the previous seal, its position and every field of
the event. An event is sealed once it is AUDIT_SEAL_SETTLE_MINUTES old, so that a
transaction still open when the job runs is not left behind the chain.

``verify_chain`` walks the chain from its anchor and reports:
- a changed event (its seal does not match its fields),
- a deleted event (a position missing, or the chain ending before its head),
- an inserted event (one not in the chain although the chain has passed it, or one
  dated before events already sealed; the job never seals those), or a seal copied
  onto another row (a position twice).

The retention purge deletes events from the start of the chain and records the
position and seal it cut at as the new anchor, so the rest still verifies.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
from dataclasses import dataclass, field
from typing import Any

import click
import sqlalchemy as sa
from flask import current_app
from flask.cli import AppGroup
from flask_babel import lazy_gettext as _l

from workroom.audit.log import stored_words
from workroom.audit.models import AuditChain, AuditEvent
from workroom.clock import utcnow
from workroom.db import db, lock
from workroom.retention import cutoff

BATCH = 1000
_TABLE = AuditEvent.__table__
# The problems a verification lists in full; beyond, they are counted.
SHOWN_PROBLEMS = 5


def _key() -> bytes:
    return str(current_app.config["AUDIT_CHAIN_KEY"]).encode()


def _settle() -> dt.timedelta:
    return dt.timedelta(minutes=int(current_app.config["AUDIT_SEAL_SETTLE_MINUTES"]))


def seal_of(previous: str, index: int, row: Any, key: bytes | None = None) -> str:
    """The seal of event ``row`` at position ``index`` after the seal ``previous``."""
    fields = (
        str(index),
        str(row.id),
        row.at.isoformat(timespec="microseconds"),
        "" if row.actor_id is None else str(row.actor_id),
        row.actor_name or "",
        row.action or "",
        row.object_type or "",
        row.object_id or "",
        row.summary or "",
        row.client_address or "",
    )
    message = previous + "\x1e" + "\x1f".join(fields)
    return hmac.new(key or _key(), message.encode(), hashlib.sha256).hexdigest()


def chain_state(*, locked: bool = False) -> AuditChain:
    """The chain's state row, created at first use; ``locked`` takes it for update."""
    chain = db.session.get(AuditChain, 1)
    if chain is None:
        chain = AuditChain(id=1)
        db.session.add(chain)
        db.session.flush()
    if locked:
        lock(chain)
    return chain


def seal_events(now: dt.datetime) -> int:
    """Seal the events written since the last run (the job). Returns how many."""
    chain = chain_state(locked=True)
    settled = now - _settle()
    key = _key()
    sealed = 0
    while True:
        rows = db.session.execute(
            sa.select(_TABLE)
            .where(_TABLE.c.chain_index.is_(None), _TABLE.c.id > chain.head_event_id)
            .order_by(_TABLE.c.id)
            .limit(BATCH)
        ).all()
        values = []
        recent = False
        for row in rows:
            if row.at > settled:
                recent = True
                break
            if chain.head_at is not None and row.at < chain.head_at - _settle():
                # Dated before events already sealed: not written by the app's clock.
                continue
            index = chain.head_index + 1
            seal = seal_of(chain.head_seal, index, row, key)
            values.append({"event_id": row.id, "index": index, "seal": seal})
            chain.head_index, chain.head_seal = index, seal
            chain.head_event_id, chain.head_at = row.id, row.at
        if values:
            db.session.execute(
                _TABLE.update()
                .where(_TABLE.c.id == sa.bindparam("event_id"))
                .values(chain_index=sa.bindparam("index"), seal=sa.bindparam("seal")),
                values,
            )
            sealed += len(values)
        if len(rows) < BATCH or recent:
            break
        if not values:
            # A whole batch of rows the chain skips: go on after them.
            chain.head_event_id = rows[-1].id
    db.session.flush()
    return sealed


@dataclass(frozen=True)
class Problem:
    """What verification found: ``kind`` is changed, deleted or inserted."""

    kind: str
    message: Any

    def __str__(self) -> str:
        return str(self.message)


@dataclass
class Verification:
    checked: int = 0
    problems: list[Any] = field(default_factory=list)
    more: int = 0

    @property
    def ok(self) -> bool:
        return not self.problems

    def add(self, kind: str, message: Any) -> None:
        if len(self.problems) < SHOWN_PROBLEMS:
            self.problems.append(Problem(kind, message))
        else:
            self.more += 1

    def summary(self) -> Any:
        if self.ok:
            return _l("Intact: %(n)s events verified since the anchor.", n=self.checked)
        text = "; ".join(stored_words(p.message) for p in self.problems)
        if self.more:
            text += "; " + stored_words(_l("and %(n)s more", n=self.more))
        return text


def verify_chain() -> Verification:
    """Walk the chain from its anchor and report what does not match."""
    chain = chain_state()
    key = _key()
    result = Verification()
    previous, expected = chain.anchor_seal, chain.anchor_index + 1
    last_index, last_seal = chain.anchor_index, chain.anchor_seal
    rows = db.session.execute(
        sa.select(_TABLE)
        .where(_TABLE.c.chain_index > chain.anchor_index)
        .order_by(_TABLE.c.chain_index)
        .execution_options(yield_per=BATCH)
    )
    for row in rows:
        result.checked += 1
        if row.chain_index > expected:
            result.add(
                "deleted",
                _l(
                    "deleted: %(n)s events missing before event #%(id)s",
                    n=row.chain_index - expected,
                    id=row.id,
                ),
            )
        elif row.seal != seal_of(previous, row.chain_index, row, key):
            result.add("changed", _l("changed: event #%(id)s does not match its seal", id=row.id))
        previous, expected = row.seal or "", row.chain_index + 1
        last_index, last_seal = row.chain_index, row.seal or ""
    if last_index < chain.head_index:
        result.add(
            "deleted",
            _l(
                "deleted: the last %(n)s sealed events are missing",
                n=chain.head_index - last_index,
            ),
        )
    elif last_index == chain.head_index and last_seal != chain.head_seal:
        result.add("changed", _l("changed: the last sealed event does not match the chain's head"))
    behind = db.session.scalars(
        sa.select(_TABLE.c.id)
        .where(_TABLE.c.chain_index.is_(None), _TABLE.c.id < chain.head_event_id)
        .order_by(_TABLE.c.id)
    ).all()
    dated_before = []
    if chain.head_at is not None:
        dated_before = db.session.scalars(
            sa.select(_TABLE.c.id)
            .where(
                _TABLE.c.chain_index.is_(None),
                _TABLE.c.id > chain.head_event_id,
                _TABLE.c.at < chain.head_at - _settle(),
            )
            .order_by(_TABLE.c.id)
        ).all()
    outside = [*behind, *dated_before]
    if outside:
        result.add(
            "inserted",
            _l(
                "inserted: %(n)s events not in the chain (#%(ids)s)",
                n=len(outside),
                ids=", #".join(str(i) for i in outside[:10]),
            ),
        )
    return result


def run_verification(now: dt.datetime) -> Verification:
    """Verify and keep the result on the chain's state (the admin's messages page)."""
    result = verify_chain()
    chain = chain_state(locked=True)
    chain.checked_at = now
    chain.check_ok = result.ok
    chain.check_count = result.checked
    chain.check_summary = stored_words(result.summary())[:500]
    return result


def seal_and_verify(now: dt.datetime) -> None:
    """The daily job: seal what is due, then verify the whole chain."""
    seal_events(now)
    run_verification(now)


def purge_audit_events(now: dt.datetime) -> int:
    """Delete events past their retention (AUDIT_RETENTION_DAYS, never less than six
    months) from the start of the chain, and move the anchor to the last one deleted.
    Events the chain has not reached yet wait for it. Returns how many were deleted."""
    chain = chain_state(locked=True)
    limit = cutoff("AUDIT_RETENTION_DAYS", now)
    first_kept = db.session.scalar(
        sa.select(sa.func.min(_TABLE.c.chain_index)).where(
            _TABLE.c.chain_index > chain.anchor_index, _TABLE.c.at >= limit
        )
    )
    cut = chain.head_index if first_kept is None else first_kept - 1
    deleted = 0
    if cut > chain.anchor_index:
        seal = db.session.scalar(sa.select(_TABLE.c.seal).where(_TABLE.c.chain_index == cut))
        if seal is None:
            # The event at the cut is gone: verification reports it; keep the evidence.
            return 0
        deleted = (
            db.session.execute(sa.delete(_TABLE).where(_TABLE.c.chain_index <= cut)).rowcount or 0
        )
        chain.anchor_index, chain.anchor_seal, chain.anchored_at = cut, seal, now
    return deleted


# The command line

audit_cli = AppGroup("audit", help="The audit log.")


@audit_cli.command("verify")
@click.option("--seal/--no-seal", default=True, help="Seal what is due first (default).")
def verify_command(seal: bool) -> None:
    """Verify the audit log's hash chain; exit 1 when it shows tampering."""
    now = utcnow()
    if seal:
        seal_events(now)
    result = run_verification(now)
    db.session.commit()
    click.echo(stored_words(result.summary()))
    if not result.ok:
        raise SystemExit(1)
