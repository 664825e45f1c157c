"""The README says what the code does: its permission table is the one in
``auth/permissions.py``, and its Layout section names every package."""

from __future__ import annotations

import re
from pathlib import Path

from workroom.auth.permissions import ALL, OWN, PERMISSIONS

ROOT = Path(__file__).resolve().parent.parent
README = (ROOT / "README.md").read_text(encoding="utf-8")
ROLES = ("admin", "viewer", "liaison", "deputy", "agency_handler")
# Each row of the README's table and the permissions it stands for.
ROWS = {
    "areas: view": ("area.view",),
    "areas: manage": ("area.manage",),
    "workrooms: view": ("workroom.view",),
    "workrooms: manage": ("workroom.manage",),
    "deputies: view": ("deputy.view",),
    "deputies: manage": ("deputy.manage",),
    "professional groups: view": ("group.view",),
    "agencies: view": ("agency.view",),
    "agencies, groups, categories: manage": ("agency.manage", "group.manage", "category.manage"),
    "categories: view": ("category.view",),
    "schedule: view": ("schedule.view",),
    "schedule: manage (rules, generate, publish, changes, swaps)": ("schedule.manage",),
    "own reception days: confirm, decline, ask to swap": ("schedule.respond",),
    "visits: view": ("visit.view",),
    "visits: queue console and records": ("visit.manage",),
    "visitor's full phone number (audited)": ("visit.reveal",),
    "kiosks: register, pair, revoke": ("kiosk.manage",),
    "suggestions: view": ("suggestion.view",),
    "suggestions: raise": ("suggestion.raise",),
    "suggestions: assign, follow up, close, re-handle, merge, decide extensions": (
        "suggestion.manage",
    ),
    "suggestions: accept, reply, return, ask for extension, co-handler opinion": (
        "suggestion.handle",
    ),
    "routing rules: view": ("routing.view",),
    "routing rules: manage": ("routing.manage",),
    "working-day calendar: view": ("calendar.view",),
    "working-day calendar: manage": ("calendar.manage",),
    "accounts: manage": ("user.manage",),
    "audit log, outbox, settings: view": ("audit.view", "outbox.manage", "settings.view"),
}


def _section(title: str) -> str:
    match = re.search(rf"^## {re.escape(title)}\n(.*?)(?=^## |\Z)", README, re.M | re.S)
    assert match, f"README has no section {title!r}"
    return match.group(1)


def _readme_table() -> dict[str, dict[str, str | None]]:
    rows = {}
    for line in _section("Who may do what").splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if len(cells) != 1 + len(ROLES) or cells[0] in ("permission", "---"):
            continue
        rows[cells[0]] = {
            role: None if cell == "—" else ALL if cell == "all" else OWN
            for role, cell in zip(ROLES, cells[1:], strict=True)
        }
    return rows


def test_the_readme_permission_table_is_the_code_s():
    table = _readme_table()
    assert set(table) == set(ROWS), "rows added or removed: update ROWS and the README"
    for label, permissions in ROWS.items():
        for permission in permissions:
            code = {role: PERMISSIONS[permission].get(role) for role in ROLES}
            assert code == table[label], f"{label!r} ({permission}) differs from the code"


def test_every_permission_has_a_row_in_the_readme():
    shown = {permission for permissions in ROWS.values() for permission in permissions}
    assert shown == set(PERMISSIONS)


def test_the_layout_names_every_package():
    layout = _section("Layout")
    packages = sorted(
        path.parent.relative_to(ROOT / "workroom").as_posix()
        for path in (ROOT / "workroom").glob("*/__init__.py")
    )
    missing = [name for name in packages if not re.search(rf"\b{re.escape(name)}/", layout)]
    assert not missing, f"README Layout does not name: {', '.join(missing)}"
