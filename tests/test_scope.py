"""Every page that names an object answers 404 to whoever may not see that object.

ROUTE_ACCESS lists each endpoint whose URL carries an object id or slug, with what
each role gets for an object inside its scope and for one outside it. A new route
with an object argument fails ``test_every_object_route_is_in_the_table`` until it
is added here.

The world: workrooms A and B; deputy DA attached to A (the deputy account's own
record) and DB attached to B; agency X (the handler's own) and Y. "Inside" means the
A/DA/X side, "outside" the B/DB/Y side; objects without an owner (areas, groups,
categories, accounts) have two equal instances. Schedule, visit, kiosk and suggestion
objects hang off the workroom (and agency) of their side.

Roles are signed in one after the other on the same world, so a POST that changes an
object (a ticket marked no-show, a suggestion accepted) leaves it changed for the roles
after: some expected answers below are 409 because an earlier role already acted.
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
# Refused for the role whatever the object (``require``): says nothing about the object.
NO403 = (403, 403)

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
PUBLIC = Access(admin=BOTH, viewer=BOTH, liaison=BOTH, deputy=BOTH, agency_handler=BOTH)
SCHEDULE_VIEW = Access(admin=BOTH, viewer=BOTH, liaison=INSIDE, deputy=INSIDE, agency_handler=NO403)
SCHEDULE_MANAGE = Access(
    admin=BOTH, liaison=INSIDE, viewer=NO403, deputy=NO403, agency_handler=NO403
)


def _own_days(deputy: tuple[Any, Any]) -> Access:
    """A deputy's own days: anyone else has none, refused before the assignment is read."""
    return Access(admin=NO403, viewer=NO403, liaison=NO403, deputy=deputy, agency_handler=NO403)


QUEUE_CONFLICT = Access(admin=(409, 409), liaison=(409, NO), deputy=(403, NO))
SUGGESTION_VIEW = Access(admin=BOTH, viewer=BOTH, liaison=INSIDE, deputy=INSIDE)
SUGGESTION_MANAGE = Access(admin=BOTH, liaison=INSIDE)

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
    # reception schedule
    **dict.fromkeys(
        (
            "schedule.rule_new",
            "schedule.rule_edit",
            "schedule.generate",
            "schedule.preview",
            "schedule.publish",
            "schedule.swaps",
            "schedule.add",
            "schedule.cancel",
            "schedule.replace",
            "schedule.swap_approve",
        ),
        SCHEDULE_MANAGE,
    ),
    "schedule.overview": SCHEDULE_VIEW,
    "schedule.day": SCHEDULE_VIEW,
    # The day has begun: taking a deputy off it, refusing a swap on it, or confirming or
    # declining it is too late (409); the forms of the other steps are refused first (400).
    "schedule.remove": dataclasses.replace(SCHEDULE_MANAGE, admin=(409, 409), liaison=(409, NO)),
    "schedule.swap_refuse": dataclasses.replace(
        SCHEDULE_MANAGE, admin=(409, 409), liaison=(409, NO)
    ),
    "schedule.my_day_confirm": _own_days(deputy=(409, NO)),
    "schedule.my_day_decline": _own_days(deputy=(409, NO)),
    "schedule.my_day_swap": _own_days(deputy=INSIDE),
    # public schedule pages
    "public.workroom": PUBLIC,
    "public.notice": PUBLIC,
    "public.qr": PUBLIC,
    "public.feed": PUBLIC,
    # Its POST (issue or revoke the link) is the deputy's own or an admin's: others who
    # may see the deputy get 403.
    "public.deputy_feed_manage": Access(admin=BOTH, viewer=BOTH, liaison=INSIDE, deputy=INSIDE),
    # kiosks and check-in
    "kiosk.kiosk_pairing_code": ADMIN_ONLY,
    "kiosk.kiosk_revoke": ADMIN_ONLY,
    "kiosk.phone_checkin": PUBLIC,
    # JSON from citizens' devices; the empty body is refused (400) on either side.
    "api.create_checkin": PUBLIC,
    # the display board
    "board.board": PUBLIC,
    "board.state": PUBLIC,
    # visits: no reception day today, so the world's deputy is not on duty (403) and
    # there is no ticket to call (409); the visit waits without a ticket of today.
    "visits.console": Access(admin=BOTH, viewer=BOTH, liaison=INSIDE, deputy=INSIDE),
    "visits.arrive": Access(admin=BOTH, liaison=INSIDE, deputy=(403, NO)),
    "visits.call_next": QUEUE_CONFLICT,
    # Viewers see the workroom but may not log visits anywhere.
    "visits.log_new": Access(admin=BOTH, viewer=NO403, liaison=INSIDE, deputy=INSIDE),
    # Its POST (saving the record) answers 404 to whoever may only view the visit.
    "visits.record": Access(admin=BOTH, viewer=BOTH, liaison=INSIDE, deputy=INSIDE),
    "visits.reveal": Access(admin=BOTH, liaison=INSIDE),
    "visits.recall": QUEUE_CONFLICT,
    # The liaison marks the inside ticket a no-show first; the admin finds it done.
    "visits.no_show": Access(admin=(409, OK), liaison=INSIDE, deputy=(403, NO)),
    "visits.start": QUEUE_CONFLICT,
    "visits.finish": QUEUE_CONFLICT,
    "visits.transfer": Access(admin=BOTH, liaison=INSIDE, deputy=(403, NO)),
    # routing rules
    "routing.rule_edit": ADMIN_ONLY,
    # suggestions: staff pages (agency handlers use the portal instead)
    "suggestions.detail": SUGGESTION_VIEW,
    "suggestions.attachment": dataclasses.replace(SUGGESTION_VIEW, agency_handler=INSIDE),
    **dict.fromkeys(
        (
            "suggestions.assign",
            "suggestions.decide_extension",
            "suggestions.follow_up",
            "suggestions.merge",
            "suggestions.rehandle",
            "suggestions.upload",
        ),
        SUGGESTION_MANAGE,
    ),
    # Only a replied suggestion can be closed (the world's is assigned).
    "suggestions.close": Access(admin=(409, 409), liaison=(409, NO)),
    # the agency portal: the inside handler accepts the suggestion; the other steps'
    # empty forms are refused (400)
    **dict.fromkeys(
        (
            "portal.detail",
            "portal.accept",
            "portal.reply",
            "portal.request_extension",
            "portal.return_misassigned",
            "portal.opinion",
        ),
        Access(agency_handler=INSIDE),
    ),
}

# Arguments that name files, not objects.
FILE_ROUTES = {"static", "security.static"}
# Arguments that are secrets (an uploader's pending file, a signed link), not object
# ids; each has its own access test next to its feature.
SECRET_ROUTES = {
    "roster_import.preview",  # tests/test_importing.py
    "roster_import.confirm",
    "public.deputy_feed",  # tests/test_feeds.py
    "public.respond",  # tests/test_reminders.py
    # A citizen's tracking code, answered only with the phone's last 4 digits
    # (workroom/suggestions/tracking.py).
    "tracking.api_track",
}
# Endpoints that take a JSON body instead of a form (no CSRF token: no session to forge).
JSON_ROUTES = {"api.create_checkin"}

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
    "reception_rule_id": ("reception_rule", "id"),
    "day_id": ("reception_day", "id"),
    "assignment_id": ("assignment", "id"),
    "swap_id": ("swap_request", "id"),
    "kiosk_id": ("kiosk", "id"),
    "visit_id": ("visit", "id"),
    "suggestion_id": ("suggestion", "id"),
    "attachment_id": ("attachment", "id"),
    "rule_id": ("routing_rule", "id"),
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
    for tag, side in zip("AB", sides.values(), strict=True):
        side.update(_side_objects(db, side, tag))
    db.session.commit()
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


# A reception day that has already begun: changes to it answer 409, so every role finds
# it as it was.
DAY_START = dt.datetime(2026, 3, 4, 1, 0)
# The pages run the next morning: the day has begun (and ended), and today has no
# reception day (see the visits entries above).
THE_DAY_AFTER = DAY_START + dt.timedelta(days=1, hours=1)


@pytest.fixture(autouse=True)
def clock_the_day_after(time_machine):
    """The pages compare the world's fixed days with the clock: hold it at THE_DAY_AFTER."""
    time_machine.move_to(THE_DAY_AFTER.replace(tzinfo=dt.UTC), tick=True)


def _side_objects(db, side: dict[str, Any], tag: str) -> dict[str, Any]:
    """The schedule, visit, kiosk and suggestion objects of one side's workroom and agency."""
    from workroom.schedule.models import Assignment, ReceptionDay, ReceptionRule, SwapRequest
    from workroom.suggestions import attachments
    from workroom.suggestions.models import (
        ExtensionRequest,
        RoutingRule,
        Suggestion,
        SuggestionAgency,
    )
    from workroom.visits.kiosk_auth import register_kiosk
    from workroom.visits.models import Visit

    room, deputy, agency = side["workroom"], side["deputy"], side["agency"]
    rule = ReceptionRule(
        workroom=room,
        rrule="FREQ=WEEKLY;BYDAY=WE",
        starts_at_time=dt.time(9, 0),
        ends_at_time=dt.time(11, 30),
        valid_from=dt.date(2026, 1, 1),
    )
    day = ReceptionDay(
        workroom=room,
        rule=rule,
        day=DAY_START.date(),
        starts_at=DAY_START,
        ends_at=DAY_START + dt.timedelta(hours=2, minutes=30),
        status="published",
        published_at=DAY_START - dt.timedelta(days=30),
    )
    assignment = Assignment(reception_day=day, deputy=deputy)
    swap = SwapRequest(
        workroom=room,
        reception_day=day,
        deputy=deputy,
        reason="出差",
        requested_at=DAY_START - dt.timedelta(days=7),
    )
    visit = Visit(
        workroom_id=room.id,
        channel="kiosk",
        kind="checkin",
        receipt_code=f"SCOPE{tag}",
        arrived_at=dt.datetime(2026, 1, 1),
        status="waiting",
        phone="13800138000",
    )
    routing_rule = RoutingRule(category=side["category"], area=room.area, lead_agency=agency)
    suggestion = Suggestion(
        tracking_code=f"SCOPE{tag}",
        title="路灯不亮",
        content="小区门口的路灯坏了一个月。",
        category=side["category"],
        area=room.area,
        workroom=room,
        source="liaison",
        status="assigned",
        lead_agency=agency,
        assigned_at=DAY_START,
        accept_due=dt.date(2026, 3, 6),
        reply_due=dt.date(2026, 3, 25),
        agencies=[SuggestionAgency(agency=agency, role="lead")],
        extension_requests=[
            ExtensionRequest(
                agency=agency, requested_due=dt.date(2026, 4, 30), reason="需要现场勘查"
            )
        ],
    )
    db.session.add_all([rule, day, assignment, swap, visit, routing_rule, suggestion])
    kiosk, _code = register_kiosk(room, "平板", DAY_START)
    upload = attachments.Upload(
        filename="来信.pdf", content_type="application/pdf", data=b"%PDF-1.4 scope"
    )
    attachment = attachments.store(suggestion, upload, kind="citizen", now=DAY_START, actor=None)
    return {
        "reception_rule": rule,
        "reception_day": day,
        "assignment": assignment,
        "swap_request": swap,
        "kiosk": kiosk,
        "visit": visit,
        "routing_rule": routing_rule,
        "suggestion": suggestion,
        "attachment": attachment,
    }


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
    if rule.endpoint in JSON_ROUTES:
        return client.post(url, json={})
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
