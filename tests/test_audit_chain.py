"""The audit log's hash chain shows a row changed, deleted or inserted directly in
the database, and still verifies after the retention purge."""

from __future__ import annotations

import datetime as dt

import pytest
import sqlalchemy as sa

from tests.conftest import login
from workroom.audit.chain import (
    chain_state,
    purge_audit_events,
    run_verification,
    seal_events,
    verify_chain,
)
from workroom.audit.log import record
from workroom.audit.models import AuditEvent
from workroom.clock import utcnow

AN_HOUR = dt.timedelta(hours=1)


def _write(db, n: int, at: dt.datetime) -> list[int]:
    """Write ``n`` events dated ``at``; answers their ids."""
    before = db.session.scalar(sa.select(sa.func.max(AuditEvent.id))) or 0
    for i in range(n):
        record("test.event", object_type="test", object_id=i, summary=f"第{i}件事", at=at)
    db.session.commit()
    return db.session.scalars(
        sa.select(AuditEvent.id).where(AuditEvent.id > before).order_by(AuditEvent.id)
    ).all()


@pytest.fixture
def sealed(db):
    """Twelve events written a day ago and sealed."""
    at = utcnow() - dt.timedelta(days=1)
    ids = _write(db, 12, at)
    assert seal_events(utcnow()) >= 12
    db.session.commit()
    return ids


def _sql(db, statement: str, **params) -> None:
    # Straight to the database, as someone with its password would.
    db.session.rollback()
    with db.engine.begin() as connection:
        connection.execute(sa.text(statement), params)
    db.session.expire_all()


def test_an_untouched_log_verifies(db, sealed):
    result = verify_chain()
    assert result.ok, result.problems
    assert result.checked >= 12


def test_sealing_twice_seals_nothing_new(db, sealed):
    assert seal_events(utcnow()) == 0
    assert verify_chain().ok


def test_events_are_sealed_once_settled(db, sealed):
    [fresh] = _write(db, 1, utcnow())[-1:]
    seal_events(utcnow())
    assert db.session.get(AuditEvent, fresh).seal is None
    seal_events(utcnow() + AN_HOUR)
    db.session.commit()
    assert db.session.get(AuditEvent, fresh).seal is not None
    assert verify_chain().ok


def test_an_update_is_detected(db, sealed):
    _sql(db, "UPDATE audit_event SET summary = '无事' WHERE id = :id", id=sealed[4])
    result = verify_chain()
    assert not result.ok
    assert any(f"#{sealed[4]}" in str(p) and p.kind == "changed" for p in result.problems)


def test_a_changed_time_is_detected(db, sealed):
    _sql(
        db,
        "UPDATE audit_event SET at = :at WHERE id = :id",
        at=utcnow() - dt.timedelta(days=3),
        id=sealed[2],
    )
    assert not verify_chain().ok


def test_a_delete_is_detected(db, sealed):
    _sql(db, "DELETE FROM audit_event WHERE id = :id", id=sealed[6])
    result = verify_chain()
    assert not result.ok
    assert any(p.kind == "deleted" for p in result.problems)


def test_deleting_the_newest_events_is_detected(db, sealed):
    _sql(db, "DELETE FROM audit_event WHERE id >= :id", id=sealed[-2])
    result = verify_chain()
    assert any(p.kind == "deleted" for p in result.problems)


def test_an_insert_behind_the_chain_is_detected(db, sealed):
    # A free id among the sealed ones: the gap left by a deleted test row is reused.
    _sql(db, "DELETE FROM audit_event WHERE id = :id", id=sealed[3])
    _sql(
        db,
        "INSERT INTO audit_event (id, at, actor_name, action, object_type, object_id, "
        "summary, client_address) VALUES (:id, :at, 'admin', 'user.create', 'user', '9', "
        "'伪造', '')",
        id=sealed[3],
        at=utcnow() - dt.timedelta(days=1),
    )
    seal_events(utcnow() + AN_HOUR)
    result = verify_chain()
    assert any(p.kind == "inserted" and f"#{sealed[3]}" in str(p) for p in result.problems)


def test_a_backdated_insert_is_never_sealed_and_is_detected(db, sealed):
    _sql(
        db,
        "INSERT INTO audit_event (at, actor_name, action, object_type, object_id, summary, "
        "client_address) VALUES (:at, 'admin', 'user.create', 'user', '9', '伪造', '')",
        at=utcnow() - dt.timedelta(days=30),
    )
    seal_events(utcnow() + AN_HOUR)
    db.session.commit()
    forged = db.session.scalar(sa.select(AuditEvent).where(AuditEvent.summary == "伪造"))
    assert forged.seal is None
    assert any(p.kind == "inserted" for p in verify_chain().problems)


def test_a_copied_seal_is_detected(db, sealed):
    row = db.session.get(AuditEvent, sealed[5])
    _sql(
        db,
        "INSERT INTO audit_event (at, actor_name, action, object_type, object_id, summary, "
        "client_address, chain_index, seal) VALUES (:at, 'admin', 'user.create', 'user', "
        "'9', '伪造', '', :index, :seal)",
        at=row.at,
        index=chain_state().head_index + 1,
        seal=row.seal,
    )
    assert not verify_chain().ok


def test_verification_survives_the_purge(app, db):
    long_ago = utcnow() - dt.timedelta(days=400)
    old = _write(db, 5, long_ago)
    seal_events(long_ago + AN_HOUR)
    db.session.commit()
    recent = _write(db, 3, utcnow() - dt.timedelta(days=2))
    seal_events(utcnow())
    db.session.commit()

    deleted = purge_audit_events(utcnow())
    db.session.commit()
    assert deleted >= 5
    assert db.session.get(AuditEvent, old[0]) is None
    assert db.session.get(AuditEvent, recent[0]) is not None
    chain = chain_state()
    assert chain.anchor_index > 0 and chain.anchor_seal
    result = verify_chain()
    assert result.ok, result.problems
    # A second purge changes nothing and the chain still verifies.
    assert purge_audit_events(utcnow()) == 0
    assert verify_chain().ok
    # Tampering after the purge still shows.
    _sql(db, "UPDATE audit_event SET summary = '无事' WHERE id = :id", id=recent[1])
    assert not verify_chain().ok


def test_the_purge_keeps_six_months_whatever_is_configured(app, db):
    app.config["AUDIT_RETENTION_DAYS"] = 1
    ids = _write(db, 2, utcnow() - dt.timedelta(days=100))
    seal_events(utcnow())
    db.session.commit()
    assert purge_audit_events(utcnow()) == 0
    assert db.session.get(AuditEvent, ids[0]) is not None


def test_the_command_verifies_and_fails_on_tampering(app, db, runner, sealed):
    result = runner.invoke(args=["audit", "verify"])
    assert result.exit_code == 0, result.output
    _sql(db, "UPDATE audit_event SET actor_name = 'nobody' WHERE id = :id", id=sealed[0])
    result = runner.invoke(args=["audit", "verify"])
    assert result.exit_code == 1
    assert f"#{sealed[0]}" in result.output


def test_the_jobs_seal_and_verify(app, db):
    from workroom.jobs import job_named
    from workroom.runner.scheduler import run_job

    assert run_job(app, job_named("seal_audit"))
    assert run_job(app, job_named("verify_audit"))


def test_the_messages_page_shows_the_last_result(client, db, make_user, sealed):
    login(client, make_user("admin"))
    assert "尚未校验" in client.get("/staff/messages").get_data(as_text=True)
    run_verification(utcnow())
    db.session.commit()
    text = client.get("/staff/messages?lang=en").get_data(as_text=True)
    assert "Intact" in text
    _sql(db, "UPDATE audit_event SET summary = '无事' WHERE id = :id", id=sealed[1])
    run_verification(utcnow())
    db.session.commit()
    text = client.get("/staff/messages?lang=en").get_data(as_text=True)
    assert "Tampering shown" in text and f"#{sealed[1]}" in text
