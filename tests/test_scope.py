"""Every page that names an object answers 404 to whoever may not see that object.

ROUTE_ACCESS lists each endpoint whose URL carries an object id or slug, with what
each role gets for an object inside its scope and for one outside it. A new route
with an object argument fails ``test_every_object_route_is_in_the_table`` until it
is added here.

The world: workrooms A and B; deputy DA attached to A (the deputy account's own
record) and DB attached to B; agency X (the handler's own) and Y. "Inside" means the
A/DA/X side, "outside" the B/DB/Y side; objects without an owner (areas, groups,
categories, accounts) have two equal instances.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from typing import Any

import pytest
import sqlalchemy as sa

from tests.conftest import IsolatedClient, csrf_from, login

OK = "ok"
NO = 404

BOTH = (OK, OK)
INSIDE = (OK, NO)
NEITHER = (NO, NO)

# Signed in in this order; admin last, so a destructive POST cannot hide another role's result.
ROLES = ("viewer", "liaison", "deputy", "agency_handler", "admin")


@dataclasses.dataclass(frozen=True)
class Access:
    """What each role gets on one endpoint: (inside its scope, outside it)."""

    admin: tuple[Any, Any] = NEITHER
    viewer: tuple[Any, Any] = NEITHER
    liaison: tuple[Any, Any] = NEITHER
    deputy: tuple[Any, Any] = NEITHER
    agency_handler: tuple[Any, Any] = NEITHER


ADMIN_ONLY = Access(admin=BOTH)

ROUTE_ACCESS: dict[str, Access] = {
    # places
    "places.area_edit": ADMIN_ONLY,
    "places.workroom_detail": Access(admin=BOTH, viewer=BOTH, liaison=INSIDE, deputy=INSIDE),
    "places.workroom_edit": ADMIN_ONLY,
    # accounts
    "auth.user_edit": ADMIN_ONLY,
    "auth.user_reset_password": ADMIN_ONLY,
    # people
    "people.deputy_detail": Access(admin=BOTH, viewer=BOTH, liaison=INSIDE, deputy=INSIDE),
    "people.deputy_edit": ADMIN_ONLY,
    "people.unavailability_add": ADMIN_ONLY,
    "people.unavailability_delete": ADMIN_ONLY,
    "people.group_edit": ADMIN_ONLY,
    "people.agency_detail": Access(
        admin=BOTH, viewer=BOTH, liaison=BOTH, deputy=BOTH, agency_handler=INSIDE
    ),
    "people.agency_edit": ADMIN_ONLY,
    # categories
    "categories.edit": ADMIN_ONLY,
    # working-day calendar
    "workdays.adjustment_delete": ADMIN_ONLY,
    # outgoing messages
    "outbox.retry": ADMIN_ONLY,
}

# Arguments that name files, not objects.
FILE_ROUTES = {"static", "security.static"}
# Arguments that are secrets (an uploader's pending file, a signed link), not object
# ids; each has its own access test next to its feature.
SECRET_ROUTES = {
    "roster_import.preview",  # tests/test_importing.py
    "roster_import.confirm",
}

# Which object of the world a URL argument names, and which attribute gives its value.
ARGUMENTS = {
    "workroom_id": ("workroom", "id"),
    "slug": ("workroom", "slug"),
    "workroom_slug": ("workroom", "slug"),
    "area_id": ("area", "id"),
    "user_id": ("user", "id"),
    "deputy_id": ("deputy", "id"),
    "period_id": ("unavailability", "id"),
    "unavailability_id": ("unavailability", "id"),
    "group_id": ("group", "id"),
    "agency_id": ("agency", "id"),
    "category_id": ("category", "id"),
    "adjustment_id": ("adjustment", "id"),
    "message_id": ("message", "id"),
}


def _object_rules(app) -> dict[str, Any]:
    return {
        rule.endpoint: rule
        for rule in app.url_map.iter_rules()
        if rule.arguments and rule.endpoint not in FILE_ROUTES | SECRET_ROUTES
    }


def test_every_object_route_is_in_the_table(app) -> None:
    missing = sorted(set(_object_rules(app)) - set(ROUTE_ACCESS))
    assert missing == [], f"add these endpoints to ROUTE_ACCESS in tests/test_scope.py: {missing}"


def test_every_table_entry_is_a_route(app) -> None:
    stale = sorted(set(ROUTE_ACCESS) - set(_object_rules(app)))
    assert stale == [], f"ROUTE_ACCESS names endpoints the app does not have: {stale}"


def test_every_route_argument_is_known(app) -> None:
    unknown = {
        endpoint: sorted(rule.arguments - set(ARGUMENTS))
        for endpoint, rule in _object_rules(app).items()
        if rule.arguments - set(ARGUMENTS)
    }
    assert unknown == {}, f"add these arguments to ARGUMENTS in tests/test_scope.py: {unknown}"


@pytest.fixture
def world(db, make_area, make_workroom, make_deputy, make_agency, make_user) -> dict[str, Any]:
    """Inside and outside objects, and one account per role scoped to the inside ones."""
    from workroom.categories.models import Category
    from workroom.outbox.models import OutboxMessage
    from workroom.people.models import ProfessionalGroup, Unavailability
    from workroom.workdays.models import CalendarAdjustment

    room_a, room_b = make_workroom(name="甲工作室"), make_workroom(name="乙工作室")
    deputy_a = make_deputy(name="甲代表", workrooms=[room_a])
    deputy_b = make_deputy(name="乙代表", workrooms=[room_b])
    agency_x, agency_y = make_agency(name="甲单位"), make_agency(name="乙单位")
    groups = [ProfessionalGroup(code=f"scope-group-{n}", name=f"小组{n}") for n in (1, 2)]
    periods = [
        Unavailability(deputy=d, starts_on=dt.date(2027, 3, 1), ends_on=dt.date(2027, 3, 10))
        for d in (deputy_a, deputy_b)
    ]
    adjustments = [
        CalendarAdjustment(day=dt.date(2031, 1, n), kind="holiday", name="元旦") for n in (1, 2)
    ]
    messages = [
        OutboxMessage(
            dedupe_key=f"scope-test:{n}",
            channel="email",
            recipient=f"deputy{n}@example.org",
            subject="接待日提醒",
            status="failed",
        )
        for n in (1, 2)
    ]
    db.session.add_all(groups + periods + adjustments + messages)
    db.session.commit()
    categories = [
        db.session.scalar(sa.select(Category).where(Category.code == code))
        for code in ("urban", "health")
    ]
    sides = {
        "inside": {
            "workroom": room_a,
            "deputy": deputy_a,
            "agency": agency_x,
            "unavailability": periods[0],
            "area": make_area(),
            "group": groups[0],
            "category": categories[0],
            "user": make_user("viewer"),
            "adjustment": adjustments[0],
            "message": messages[0],
        },
        "outside": {
            "workroom": room_b,
            "deputy": deputy_b,
            "agency": agency_y,
            "unavailability": periods[1],
            "area": make_area(),
            "group": groups[1],
            "category": categories[1],
            "user": make_user("viewer"),
            "adjustment": adjustments[1],
            "message": messages[1],
        },
    }
    scope = {
        "liaison": {"workrooms": [room_a]},
        "deputy": {"deputy": deputy_a},
        "agency_handler": {"agency": agency_x},
    }
    accounts = {
        role: make_user(role, username="scope" + role.replace("_", ""), **scope.get(role, {}))
        for role in ROLES
    }
    return {**sides, "accounts": accounts}


def _url(app, rule, objects: dict[str, Any]) -> str:
    values = {}
    for argument in rule.arguments:
        kind, attribute = ARGUMENTS[argument]
        values[argument] = getattr(objects[kind], attribute)
    with app.test_request_context():
        from flask import url_for

        return url_for(rule.endpoint, **values)


def _request(client, rule, url: str):
    if "GET" in rule.methods:
        return client.get(url)
    token = csrf_from(client.get("/staff").get_data(as_text=True))
    return client.post(url, data={"csrf_token": token})


def _outcome(rule, status: int) -> Any:
    if status == 404:
        return NO
    allowed = {200} if "GET" in rule.methods else {200, 302, 303, 400}
    return OK if status in allowed else status


@pytest.mark.parametrize("endpoint", sorted(ROUTE_ACCESS))
def test_route_answers_by_role_and_scope(app, db, world, endpoint: str) -> None:
    rule = _object_rules(app).get(endpoint)
    if rule is None:
        pytest.skip(f"{endpoint} is not a route of this app")
    access = ROUTE_ACCESS[endpoint]
    # URLs are built before any request, while the objects are still loaded.
    urls = {side: _url(app, rule, world[side]) for side in ("inside", "outside")}
    app.test_client_class = IsolatedClient
    wrong = {}
    for role in ROLES:
        client = app.test_client()
        login(client, world["accounts"][role])
        for side, want in zip(("inside", "outside"), getattr(access, role), strict=True):
            got = _outcome(rule, _request(client, rule, urls[side]).status_code)
            if got != want:
                wrong[f"{role} {side}"] = f"got {got}, expected {want}"
    assert wrong == {}, f"{endpoint} {rule.rule}"
