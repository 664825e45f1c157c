"""The retention job: visitors' names, numbers and number hashes go; statistics stay."""

from __future__ import annotations

import datetime as dt

import pytest
import sqlalchemy as sa

from workroom.audit.models import AuditEvent
from workroom.categories.models import Category
from workroom.jobs import job_named
from workroom.suggestions.models import Suggestion, SuggestionCitizen
from workroom.visits.checkin import visitor_phone_hash
from workroom.visits.models import Visit
from workroom.visits.retention import purge_visitor_data

NOW = dt.datetime(2026, 12, 2, 19, 41)


@pytest.fixture
def visits(db, make_workroom):
    workroom = make_workroom()
    category = db.session.scalar(sa.select(Category).where(Category.code == "health"))

    def visit(code: str, arrived: dt.datetime, phone: str | None = "13800138000") -> Visit:
        row = Visit(
            workroom_id=workroom.id,
            channel="kiosk",
            kind="checkin",
            category_id=category.id,
            visitor_name="李秀英",
            phone=phone,
            phone_hash=visitor_phone_hash(phone) if phone else None,
            description="社区医院排队太久",
            receipt_code=code,
            status="done",
            arrived_at=arrived,
            called_at=arrived + dt.timedelta(minutes=5),
            started_at=arrived + dt.timedelta(minutes=6),
            ended_at=arrived + dt.timedelta(minutes=20),
            summary="建议增加周末门诊",
            outcome="suggestion",
        )
        db.session.add(row)
        return row

    rows = {
        "old": visit("OLD00001", NOW - dt.timedelta(days=2 * 366)),
        "anonymous_old": visit("OLD00002", NOW - dt.timedelta(days=800), phone=None),
        "recent": visit("NEW00001", NOW - dt.timedelta(days=700)),
    }
    suggestion = Suggestion(
        tracking_code="TRK0001",
        title="周末门诊",
        content="建议社区医院周末开门诊",
        category_id=category.id,
        area_id=workroom.area_id,
        workroom_id=workroom.id,
        source="visit",
    )
    db.session.add(suggestion)
    db.session.flush()
    for key in ("old", "recent"):
        db.session.add(
            SuggestionCitizen(
                suggestion_id=suggestion.id,
                visit_id=rows[key].id,
                name="李秀英",
                phone="13800138000",
                satisfaction="satisfied",
            )
        )
    db.session.commit()
    return rows


def test_purge_removes_personal_data_past_24_months_and_keeps_statistics(db, visits):
    counts = purge_visitor_data(NOW)
    db.session.commit()
    db.session.expire_all()

    assert counts == {"visits": 2, "citizens": 1}
    old = db.session.get(Visit, visits["old"].id)
    assert (old.visitor_name, old.phone, old.phone_hash) == (None, None, None)
    assert old.purged_at == NOW
    assert old.category_id is not None and old.outcome == "suggestion"
    assert old.arrived_at and old.called_at and old.started_at and old.ended_at
    assert old.summary == "建议增加周末门诊"
    recent = db.session.get(Visit, visits["recent"].id)
    assert recent.phone == "13800138000" and recent.visitor_name == "李秀英"
    assert recent.purged_at is None

    citizens = {c.visit_id: c for c in db.session.scalars(sa.select(SuggestionCitizen))}
    gone, kept = citizens[visits["old"].id], citizens[visits["recent"].id]
    assert (gone.name, gone.phone, gone.purged_at) == (None, None, NOW)
    assert gone.satisfaction == "satisfied"
    assert kept.phone == "13800138000" and kept.purged_at is None

    event = db.session.scalar(sa.select(AuditEvent).where(AuditEvent.action == "visit.purge"))
    assert "已清除 2 条来访" in event.summary and "13800138000" not in event.summary


def test_a_second_run_changes_nothing(db, visits):
    purge_visitor_data(NOW)
    db.session.commit()
    events = db.session.scalar(sa.select(sa.func.count(AuditEvent.id)))

    later = NOW + dt.timedelta(hours=1)
    assert purge_visitor_data(later) == {"visits": 0, "citizens": 0}
    db.session.commit()
    db.session.expire_all()
    assert db.session.get(Visit, visits["old"].id).purged_at == NOW
    assert db.session.scalar(sa.select(sa.func.count(AuditEvent.id))) == events


def test_the_retention_period_is_configurable(app, db, visits):
    app.config["VISITOR_RETENTION_MONTHS"] = 12
    assert purge_visitor_data(NOW)["visits"] == 3
    db.session.commit()
    db.session.expire_all()
    assert db.session.get(Visit, visits["recent"].id).phone is None


def test_the_job_table_runs_the_purge(app, db, visits):
    from workroom.runner.scheduler import run_job

    job = job_named("purge_visitor_data")
    assert job.function is purge_visitor_data
    assert run_job(app, job)
