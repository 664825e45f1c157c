"""The audit log keeps its codes and shows them as words in the reader's language."""

from __future__ import annotations

import re
from pathlib import Path

from tests.conftest import PASSWORD, login
from workroom.audit.labels import ACTIONS, OBJECTS
from workroom.visits.models import KINDS as VISIT_KINDS

SOURCE = Path(__file__).resolve().parent.parent / "workroom"
# record("area.create", ...) and record(\n    "roster.publish", ...)
RECORDED = re.compile(r'record\(\s*"([a-z_]+\.[a-z_]+)"')
DEACTIVATED = re.compile(r'set_active\([^)]*"([a-z_]+)"')


def _codes_in_the_source() -> set[str]:
    codes: set[str] = set()
    for path in SOURCE.rglob("*.py"):
        text = path.read_text(encoding="utf-8")
        codes.update(RECORDED.findall(text))
        for kind in DEACTIVATED.findall(text):
            codes.update({f"{kind}.activate", f"{kind}.deactivate"})
    codes.update(f"visit.{kind}" for kind in VISIT_KINDS)
    codes.update({"reception_rule.activate", "reception_rule.deactivate"})
    return codes


def test_every_action_written_has_words():
    missing = sorted(_codes_in_the_source() - set(ACTIONS))
    assert not missing, f"audit actions without a label: {missing}"


def test_every_object_type_named_is_a_table_or_written_by_name(db):
    tables = {table.name for table in db.metadata.sorted_tables}
    named = set()
    for path in SOURCE.rglob("*.py"):
        named.update(re.findall(r'object_type="([a-z_]+)"', path.read_text(encoding="utf-8")))
    assert set(OBJECTS) <= tables | named
    assert named <= set(OBJECTS)


def test_the_log_shows_words_and_keeps_the_codes(client, db, make_user):
    admin = make_user("admin", username="root")
    login(client, admin, PASSWORD)
    chinese = client.get("/staff/audit").get_data(as_text=True)
    assert "登录成功" in chinese and '<code class="code-note">login.success</code>' in chinese
    assert "账号" in client.get("/staff/audit?object_type=user").get_data(as_text=True)
    english = client.get("/staff/audit?lang=en").get_data(as_text=True)
    assert "Signed in" in english and "login.success" in english
    # The filter still takes the stored code.
    filtered = client.get("/staff/audit?action=login.").get_data(as_text=True)
    assert "登录成功" in filtered
