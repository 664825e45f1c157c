"""The migration that stores routing decisions as data: old English texts become the
decision (shown in the reader's language), unreadable ones stay as they are, and the
downgrade writes the texts back. On SQLite, and on PostgreSQL when configured."""

from __future__ import annotations

import datetime as dt
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from flask_migrate import downgrade, upgrade

from tests.conftest import base_config
from workroom import create_app

BEFORE = "sg02"
AT = dt.datetime(2026, 11, 30, 2, 0)
# Per suggestion: its old routing_reason and the note of its "assigned" event (or None).
OLD = {
    "rule": (
        "matched: 生态环境 × 岳塘区 → 生态环境分局",
        "matched: 生态环境 × 岳塘区 → 生态环境分局",
    ),
    "rule_reason": (
        "matched: 生态环境 × 岳塘区 → 生态环境分局 (按规则交办)",
        "matched: 生态环境 × 岳塘区 → 生态环境分局 (按规则交办)",
    ),
    "no_rule": ("no rule matches: 其他 × 下摄司街道 → triage", None),
    "manual": ("assigned by staff", "assigned by staff"),
    "manual_reason": ("assigned by staff: 路灯归住建", "assigned by staff: 路灯归住建"),
    "override": ("override: 噪声归住建", "override: 噪声归住建"),
    "returned": ("returned by 生态环境分局: 属水利局职责", None),
    "unreadable": ("routed by telephone", "routed by telephone"),
    "unknown_agency": (
        "matched: 生态环境 × 岳塘区 → 已撤销的局",
        "matched: 生态环境 × 岳塘区 → 已撤销的局",
    ),
}


@pytest.fixture(params=["sqlite", "postgresql"])
def empty_database(request, tmp_path: Path) -> Iterator[str]:
    """An empty database of its own (PostgreSQL only with WORKROOM_TEST_POSTGRES_URL)."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'migration.sqlite'}"
        return
    url = os.environ.get("WORKROOM_TEST_POSTGRES_URL")
    if not url:
        pytest.skip("PostgreSQL: set WORKROOM_TEST_POSTGRES_URL")
    server = sa.engine.make_url(url)
    own = server.set(
        database=f"{server.database}_routing_{os.environ.get('PYTEST_XDIST_WORKER', 'main')}"
    )
    admin = sa.create_engine(server, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{own.database}"'))
        conn.execute(sa.text(f'CREATE DATABASE "{own.database}"'))
    yield own.render_as_string(hide_password=False)
    with admin.connect() as conn:
        conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{own.database}" WITH (FORCE)'))
    admin.dispose()


def _insert(conn: sa.Connection, tables: sa.MetaData, table_name: str, **values: Any) -> int:
    """Insert a row as the schema stood at BEFORE, filling the other required columns."""
    table = tables.tables[table_name]
    for column in table.columns:
        if column.name in values or column.nullable or column.primary_key:
            continue
        python_type = column.type.python_type
        if python_type is dt.datetime:
            values[column.name] = AT
        elif python_type is bool:
            values[column.name] = column.name == "active"
        elif python_type is int:
            values[column.name] = 0
        else:
            values[column.name] = ""
    return conn.execute(table.insert().values(**values).returning(table.c.id)).scalar_one()


def _old_rows(conn: sa.Connection) -> dict[str, int]:
    """Places, agencies, a rule and one suggestion per old text; their ids by case."""
    tables = sa.MetaData()
    tables.reflect(conn)
    city = _insert(conn, tables, "area", name="湘潭市", level="city")
    district = _insert(conn, tables, "area", name="岳塘区", level="district", parent_id=city)
    street = _insert(conn, tables, "area", name="下摄司街道", level="street", parent_id=district)
    ecology = _insert(conn, tables, "agency", code="yt-ecology", name="生态环境分局")
    housing = _insert(conn, tables, "agency", code="yt-housing", name="住房和城乡建设局")
    category = {
        code: conn.scalar(sa.text("SELECT id FROM category WHERE code = :c"), {"c": code})
        for code in ("environment", "environment-air", "other", "urban-roads")
    }
    rule = _insert(
        conn,
        tables,
        "routing_rule",
        category_id=category["environment"],
        area_id=district,
        lead_agency_id=ecology,
        deadline_policy="citizen",
    )
    ids = {"street": street, "district": district, "ecology": ecology, "housing": housing}
    for n, (case, (reason, note)) in enumerate(OLD.items()):
        routed = case.startswith("rule") or case == "unknown_agency"
        lead = None
        if case not in ("no_rule", "returned"):
            lead = ecology if routed else housing
        s = _insert(
            conn,
            tables,
            "suggestion",
            tracking_code=f"OLD{n:05d}",
            title=case,
            content=case,
            category_id=category["environment-air" if routed else "urban-roads"]
            if case != "no_rule"
            else category["other"],
            area_id=street,
            source="liaison",
            status="triage" if case in ("no_rule", "returned") else "assigned",
            lead_agency_id=lead,
            routing_rule_id=rule if routed else None,
            routing_reason=reason,
            deadline_policy="citizen",
        )
        ids[case] = s
        _insert(conn, tables, "suggestion_event", suggestion_id=s, kind="submitted", at=AT)
        if note is not None:
            ids[f"{case}_event"] = _insert(
                conn,
                tables,
                "suggestion_event",
                suggestion_id=s,
                kind="assigned",
                at=AT,
                note=note,
                agency_id=lead,
            )
        if case == "returned":
            ids["returned_event"] = _insert(
                conn,
                tables,
                "suggestion_event",
                suggestion_id=s,
                kind="returned",
                at=AT,
                note="属水利局职责",
                agency_id=ecology,
            )
    return ids


def test_old_routing_texts_become_decisions_and_come_back_on_downgrade(
    empty_database: str, tmp_path: Path
) -> None:
    app = create_app(base_config(tmp_path, empty_database))
    from workroom.db import db
    from workroom.suggestions.models import Suggestion, SuggestionEvent
    from workroom.suggestions.routing import explain_routing

    directory = app.extensions["migrate"].directory
    with app.app_context():
        upgrade(directory=directory, revision=BEFORE)
        with db.engine.begin() as conn:
            ids = _old_rows(conn)
        upgrade(directory=directory)

        def decision(case: str) -> tuple:
            s = db.session.get(Suggestion, ids[case])
            return (
                s.routing_kind,
                s.routing_category.code if s.routing_category else None,
                s.routing_area_id,
                s.routing_agency_id,
                s.routing_note,
                s.routing_reason,
            )

        def event(case: str) -> tuple[str, str]:
            e = db.session.get(SuggestionEvent, ids[f"{case}_event"])
            return e.detail, e.note

        street, district = ids["street"], ids["district"]
        ecology, housing = ids["ecology"], ids["housing"]
        assert decision("rule") == ("rule", "environment", district, ecology, "", "")
        assert decision("rule_reason") == (
            "rule",
            "environment",
            district,
            ecology,
            "按规则交办",
            "",
        )
        assert decision("no_rule") == ("no_rule", "other", street, None, "", "")
        assert decision("manual") == ("manual", None, None, housing, "", "")
        assert decision("manual_reason") == ("manual", None, None, housing, "路灯归住建", "")
        assert decision("override") == ("override", None, None, housing, "噪声归住建", "")
        assert decision("returned") == ("returned", None, None, ecology, "属水利局职责", "")
        # What the migration cannot read stays as it was, shown as it is.
        assert decision("unreadable") == ("", None, None, None, "", "routed by telephone")
        assert decision("unknown_agency")[0] == ""
        assert event("rule") == ("rule", "")
        assert event("rule_reason") == ("rule", "按规则交办")
        assert event("manual") == ("manual", "")
        assert event("manual_reason") == ("manual", "路灯归住建")
        assert event("override") == ("override", "噪声归住建")
        assert event("unreadable") == ("", "routed by telephone")
        assert event("returned") == ("", "属水利局职责")

        # Shown in the reader's language.
        routed = db.session.get(Suggestion, ids["rule_reason"])
        assert explain_routing(routed, "zh_Hans_CN") == (
            "匹配：生态环境 × 岳塘区 → 生态环境分局（按规则交办）"
        )
        assert explain_routing(routed, "en") == (
            "Matched: Ecology and environment × 岳塘区 → 生态环境分局 (按规则交办)"
        )
        returned = db.session.get(Suggestion, ids["returned"])
        assert explain_routing(returned, "zh_Hans_CN") == "生态环境分局 退办：属水利局职责"
        assert explain_routing(returned, "en") == "生态环境分局 returned it: 属水利局职责"
        old = db.session.get(Suggestion, ids["unreadable"])
        assert explain_routing(old, "zh_Hans_CN") == "routed by telephone"
        db.session.remove()

        downgrade(directory=directory, revision=BEFORE)
        with db.engine.connect() as conn:
            for case, (reason, note) in OLD.items():
                stored = conn.scalar(
                    sa.text("SELECT routing_reason FROM suggestion WHERE id = :id"),
                    {"id": ids[case]},
                )
                assert stored == reason, case
                if note is not None:
                    back = conn.execute(
                        sa.text("SELECT note, detail FROM suggestion_event WHERE id = :id"),
                        {"id": ids[f"{case}_event"]},
                    ).one()
                    assert tuple(back) == (note, ""), case
        db.engine.dispose()
