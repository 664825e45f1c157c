"""Two people acting at once: exactly one wins, the loser is told (409), nothing is
doubled and nobody hears of what did not happen. Threads on SQLite, processes on
PostgreSQL (see tests/race.py); the PostgreSQL pass of ``make test`` runs them there."""

from __future__ import annotations

import datetime as dt
from collections import Counter

import pytest
import sqlalchemy as sa

from tests import test_suggestion_views
from tests.conftest import IsolatedClient
from tests.race import Call, race, statuses
from workroom.audit.models import AuditEvent
from workroom.outbox.models import OutboxMessage
from workroom.schedule import periods, reception_rules
from workroom.schedule.models import Assignment, ReceptionDay, SwapRequest

D = dt.date
# Monday 2 March 2026, 08:00 in Shanghai; the days raced over are in April.
NOW = dt.datetime(2026, 3, 2, 0, 0, tzinfo=dt.UTC)
CALLERS = 6


def told(app, answers, status: int, message: str) -> None:
    """Every loser (``status``) reads ``message``, in Chinese (the callers name no language)."""
    from flask_babel import force_locale, gettext

    with app.test_request_context(), force_locale("zh_Hans_CN"):
        words = gettext(message)
    losers = [a for a in answers if a.status == status]
    assert losers and all(words in a.text for a in losers), words


def no_server_error(answers) -> None:
    assert all(a.status < 500 for a in answers), [a.text[:300] for a in answers if a.status >= 500]


@pytest.fixture
def room(db, make_workroom, make_deputy, make_user):
    """A workroom with a Wednesday rule for two deputies and twelve deputies attached."""
    workroom = make_workroom(name="下摄司街道代表工作室")
    reception_rules.create_rule(
        workroom,
        rrule="FREQ=WEEKLY;BYDAY=WE",
        starts_at_time=dt.time(9),
        ends_at_time=dt.time(11, 30),
        deputies_needed=2,
        capacity=20,
        valid_from=D(2026, 1, 1),
        on_non_working_day="next_working_day",
    )
    for n in range(12):
        deputy = make_deputy(name=f"代表{n}", email=f"d{n}@example.cn")
        deputy.workrooms.append(workroom)
    db.session.commit()
    for n in range(CALLERS):
        make_user("liaison", username=f"liaison{n}", workrooms=[workroom])
    return workroom


def _drafts(db, workroom):
    periods.generate_period(workroom, D(2026, 4, 1), D(2026, 4, 30), NOW)
    db.session.commit()


def _first_day(db, workroom) -> ReceptionDay:
    return db.session.scalar(
        sa.select(ReceptionDay)
        .where(ReceptionDay.workroom_id == workroom.id)
        .order_by(ReceptionDay.starts_at)
    )


def _published_day(db, workroom) -> ReceptionDay:
    _drafts(db, workroom)
    periods.publish_days(workroom, D(2026, 4, 1), D(2026, 4, 30), NOW)
    db.session.commit()
    return _first_day(db, workroom)


def _free_deputies(db, day: ReceptionDay) -> list:
    from workroom.schedule import changes

    return [o.deputy for o in changes.propose_substitutes(day)]


def test_two_publications_at_once_publish_once(app, db, room, tmp_path):
    _drafts(db, room)
    form = {"start": "2026-04-01", "end": "2026-04-30"}
    calls = [Call("liaison0", f"/staff/workrooms/{room.id}/publish", form) for _ in range(2)]
    calls[1] = Call("liaison1", calls[1].url, form)

    answers = race(app, calls, at=NOW, tmp_path=tmp_path)

    no_server_error(answers)
    db.session.expire_all()
    events = db.session.scalars(sa.select(AuditEvent).where(AuditEvent.action == "roster.publish"))
    assert len(events.all()) == 1
    statuses_of_days = set(db.session.scalars(sa.select(ReceptionDay.status)))
    assert statuses_of_days == {"published"}
    keys = db.session.scalars(sa.select(OutboxMessage.dedupe_key)).all()
    assert len(keys) == len(set(keys))


def test_the_same_deputy_added_at_once_is_added_once(app, db, room, tmp_path):
    day = _published_day(db, room)
    deputy = _free_deputies(db, day)[0]
    sequence = day.sequence
    calls = [
        Call(f"liaison{n}", f"/staff/days/{day.id}/add", {"add-deputy_id": deputy.id})
        for n in range(CALLERS)
    ]

    answers = race(app, calls, at=NOW, tmp_path=tmp_path)

    no_server_error(answers)
    assert statuses(answers) == [302] + [409] * (CALLERS - 1)
    told(app, answers, 409, "That did not work.")
    db.session.expire_all()
    held = db.session.scalars(
        sa.select(Assignment).where(
            Assignment.reception_day_id == day.id, Assignment.deputy_id == deputy.id
        )
    ).all()
    assert len(held) == 1
    assert db.session.get(ReceptionDay, day.id).sequence == sequence + 1
    notices = db.session.scalars(
        sa.select(OutboxMessage.dedupe_key).where(
            OutboxMessage.dedupe_key.like(f"reminder:{day.id}:{deputy.id}:%")
        )
    ).all()
    assert notices == [f"reminder:{day.id}:{deputy.id}:published:{sequence + 1}:email"]


def test_one_swap_approved_by_many_hands_one_substitute(app, db, room, tmp_path, make_user):
    day = _published_day(db, room)
    mine = day.assignments[0]
    from workroom.schedule import deputy_days

    swap = deputy_days.request_swap(mine, "外地出差", NOW)
    db.session.commit()
    requester = mine.deputy_id
    substitutes = _free_deputies(db, day)[:CALLERS]
    assert len(substitutes) == CALLERS
    sequence = day.sequence
    before = set(db.session.scalars(sa.select(OutboxMessage.id)))
    calls = [
        Call(f"liaison{n}", f"/staff/swaps/{swap.id}/approve", {f"s{swap.id}-deputy_id": d.id})
        for n, d in enumerate(substitutes)
    ]

    answers = race(app, calls, at=NOW, tmp_path=tmp_path)

    no_server_error(answers)
    assert statuses(answers) == [302] + [409] * (CALLERS - 1)
    told(app, answers, 409, "This swap request was already answered.")
    db.session.expire_all()
    day = db.session.get(ReceptionDay, day.id)
    swap = db.session.get(SwapRequest, swap.id)
    assert swap.status == "approved"
    assert len(day.assignments) == day.deputies_needed == 2
    assert swap.substitute_id in {a.deputy_id for a in day.assignments}
    assert day.sequence == sequence + 1
    new = db.session.scalars(sa.select(OutboxMessage).where(OutboxMessage.id.not_in(before)))
    keys = [m.dedupe_key.split(":") for m in new]
    assert {k[2] for k in keys if k[0] == "reminder"} == {str(swap.substitute_id)}
    assert {k[2] for k in keys if k[0] == "removed"} == {str(requester)}


def test_a_swap_asked_for_at_once_is_asked_once(app, db, room, tmp_path, make_user):
    day = _published_day(db, room)
    mine = day.assignments[0]
    make_user("deputy", username="the-deputy", deputy=mine.deputy)
    calls = [
        Call("the-deputy", f"/staff/my-days/{mine.id}/swap", {f"s{mine.id}-reason": "外地出差"})
        for _ in range(CALLERS)
    ]

    answers = race(app, calls, at=NOW, tmp_path=tmp_path)

    no_server_error(answers)
    assert statuses(answers) == [302] + [409] * (CALLERS - 1)
    told(app, answers, 409, "Your swap request for this day is already waiting.")
    db.session.expire_all()
    pending = db.session.scalars(sa.select(SwapRequest).where(SwapRequest.status == "pending"))
    assert len(pending.all()) == 1
    events = Counter(db.session.scalars(sa.select(AuditEvent.action)))
    assert events["swap_request.create"] == 1


def test_a_unique_violation_answers_409_in_the_readers_language(app, db, make_workroom, caplog):
    from workroom.places.models import Workroom

    taken = make_workroom(slug="taken")

    def second_with_the_same_slug():
        db.session.add(Workroom(name="另一个", slug=taken.slug, area_id=taken.area_id))
        db.session.flush()
        return "unreachable"

    app.add_url_rule("/staff/test-duplicate", view_func=second_with_the_same_slug)
    app.add_url_rule("/api/v1/test-duplicate", "api_duplicate", second_with_the_same_slug)
    client = IsolatedClient(app, app.response_class)

    back = "http://localhost/staff/workrooms"
    page = client.get(
        "/staff/test-duplicate", headers={"Accept-Language": "zh-CN", "Referer": back}
    )
    assert page.status_code == 409
    assert "就在同一时刻，有人修改了这项内容" in page.get_data(as_text=True)
    assert f'<a class="button button--primary" href="{back}">返回原页面</a>' in page.get_data(
        as_text=True
    )
    elsewhere = client.get("/staff/test-duplicate", headers={"Referer": "https://example.org/"})
    assert "example.org" not in elsewhere.get_data(as_text=True)
    answer = client.get("/api/v1/test-duplicate", headers={"Accept-Language": "en"})
    assert answer.status_code == 409
    assert answer.get_json()["message"].startswith("Someone changed this at the same moment.")
    assert "changed meanwhile: GET /staff/test-duplicate" in caplog.text
    db.session.rollback()
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Workroom)) == 1


# Suggestions

# The world of accounts, places and agencies the suggestion pages are tested in.
world = test_suggestion_views.world


@pytest.fixture
def raised(db, world):
    """A suggestion routed to the ecology bureau, and a second one to merge with."""
    raise_suggestion = test_suggestion_views.raise_suggestion
    return raise_suggestion(db, world), raise_suggestion(db, world, title="河道又有异味")


def _handlers(make_user, world, n: int = CALLERS) -> list[str]:
    return [make_user("agency_handler", agency=world["ecology"]).username for _ in range(n)]


def _managers(make_user, world, n: int = CALLERS) -> list[str]:
    return [make_user("liaison", workrooms=[world["room_a"]]).username for _ in range(n)]


def _events(db, s, kind: str) -> int:
    from workroom.suggestions.models import SuggestionEvent

    return db.session.scalar(
        sa.select(sa.func.count())
        .select_from(SuggestionEvent)
        .where(SuggestionEvent.suggestion_id == s.id, SuggestionEvent.kind == kind)
    )


def test_an_agency_accepts_once_when_its_handlers_press_at_once(
    app, db, world, raised, make_user, tmp_path
):
    s, _ = raised
    calls = [Call(u, f"/agency/suggestions/{s.id}/accept") for u in _handlers(make_user, world)]

    answers = race(app, calls, tmp_path=tmp_path)

    no_server_error(answers)
    assert statuses(answers) == [303] + [409] * (CALLERS - 1)
    told(app, answers, 409, "Only an assigned suggestion can be accepted.")
    db.session.expire_all()
    assert _events(db, s, "accepted") == 1


def test_two_merges_of_one_pair_in_opposite_directions(app, db, world, raised, make_user, tmp_path):
    first, second = raised
    one, other = _managers(make_user, world, 2)
    calls = [
        Call(
            one, f"/staff/suggestions/{first.id}/merge", {"merge-into_code": second.tracking_code}
        ),
        Call(
            other, f"/staff/suggestions/{second.id}/merge", {"merge-into_code": first.tracking_code}
        ),
    ]

    answers = race(app, calls, tmp_path=tmp_path)

    no_server_error(answers)
    assert statuses(answers) == [303, 409]
    db.session.expire_all()
    from workroom.suggestions.models import Suggestion

    states = sorted(db.session.scalars(sa.select(Suggestion.status)))
    assert states.count("merged") == 1


def test_an_extension_is_decided_once(app, db, world, raised, make_user, tmp_path):
    from workroom.clock import local_today, utcnow
    from workroom.suggestions import lifecycle

    s, _ = raised
    _prepare(db, world, s, "accepted")
    lifecycle.request_extension(
        s,
        agency=world["ecology"],
        requested_due=local_today() + dt.timedelta(days=40),
        reason="需要协调多个部门",
        now=utcnow(),
        actor=world["agency1"],
    )
    db.session.commit()
    calls = [
        Call(u, f"/staff/suggestions/{s.id}/extension", {"extension-decision": "approve"})
        for u in _managers(make_user, world)
    ]

    answers = race(app, calls, tmp_path=tmp_path)

    no_server_error(answers)
    assert statuses(answers) == [303] + [409] * (CALLERS - 1)
    db.session.expire_all()
    from workroom.suggestions.models import Suggestion

    assert db.session.get(Suggestion, s.id).extensions_used == 1
    assert _events(db, s, "extension_approved") == 1


def test_a_suggestion_is_handled_again_once(app, db, world, raised, make_user, tmp_path):
    s, _ = raised
    _prepare(db, world, s, "followed", satisfaction="dissatisfied")
    calls = [
        Call(u, f"/staff/suggestions/{s.id}/rehandle", {"rehandle-reason": "群众仍不满意"})
        for u in _managers(make_user, world)
    ]

    answers = race(app, calls, tmp_path=tmp_path)

    no_server_error(answers)
    assert statuses(answers) == [303] + [409] * (CALLERS - 1)
    db.session.expire_all()
    from workroom.suggestions.models import Suggestion

    assert db.session.get(Suggestion, s.id).rehandle_count == 1


# The queue console, kiosks and sign-in


@pytest.fixture
def queue_room(db, make_workroom, make_deputy, make_user):
    """Today's reception day with two deputies signed in on arrival, and their accounts."""
    from tests.test_queue_console import make_day, sign_in_deputy

    workroom = make_workroom(name="下摄司街道代表工作室", slug="xiasheshi")
    deputies = [make_deputy(name=n, workrooms=[workroom]) for n in ("王建国", "李丽")]
    day = make_day(db, workroom, deputies)
    for deputy in deputies:
        sign_in_deputy(db, day, deputy)
    users = [make_user("deputy", deputy=d).username for d in deputies]
    return workroom, deputies, users


def test_two_deputies_calling_next_at_once_call_two_tickets(app, db, queue_room, tmp_path):
    from tests.test_queue_console import NOW as QUEUE_NOW
    from tests.test_queue_console import make_ticket
    from workroom.visits.models import Visit

    workroom, deputies, users = queue_room
    tickets = [make_ticket(db, workroom, n, minutes_ago=30 - n) for n in (1, 2, 3)]
    url = f"/staff/workrooms/{workroom.id}/queue/call"

    answers = race(
        app, [Call(u, url) for u in users], at=QUEUE_NOW.replace(tzinfo=dt.UTC), tmp_path=tmp_path
    )

    no_server_error(answers)
    assert statuses(answers) == [303, 303]
    db.session.expire_all()
    called = db.session.scalars(sa.select(Visit).where(Visit.status == "called")).all()
    assert sorted(v.id for v in called) == [tickets[0].id, tickets[1].id]
    assert {v.deputy_id for v in called} == {d.id for d in deputies}


def test_one_ticket_started_by_many_hands_starts_once(app, db, queue_room, make_user, tmp_path):
    from tests.test_queue_console import NOW as QUEUE_NOW
    from tests.test_queue_console import make_ticket

    workroom, _, _ = queue_room
    ticket = make_ticket(db, workroom, 1, status="called", to_liaison=True)
    liaisons = [make_user("liaison", workrooms=[workroom]).username for _ in range(CALLERS)]
    calls = [Call(u, f"/staff/visits/{ticket.id}/start") for u in liaisons]

    answers = race(app, calls, at=QUEUE_NOW.replace(tzinfo=dt.UTC), tmp_path=tmp_path)

    no_server_error(answers)
    assert statuses(answers) == [303] + [409] * (CALLERS - 1)
    events = Counter(db.session.scalars(sa.select(AuditEvent.action)))
    assert events["visit.start"] == 1


def test_a_pairing_code_typed_on_many_tablets_at_once_pairs_one(app, db, make_workroom, tmp_path):
    from workroom.clock import utcnow
    from workroom.visits import kiosk_auth
    from workroom.visits.models import Kiosk

    kiosk, code = kiosk_auth.register_kiosk(make_workroom(), "前台平板", utcnow())
    db.session.commit()
    calls = [Call(None, "/kiosk/pair", {"code": code}) for _ in range(CALLERS)]

    answers = race(app, calls, tmp_path=tmp_path)

    no_server_error(answers)
    assert statuses(answers) == [302] + [400] * (CALLERS - 1)
    db.session.expire_all()
    assert db.session.get(Kiosk, kiosk.id).credential_version == 1
    events = Counter(db.session.scalars(sa.select(AuditEvent.action)))
    assert events["kiosk.pair"] == 1


def test_failed_sign_ins_sent_at_once_are_all_counted(app, db, make_user, tmp_path):
    from workroom.auth.models import User

    user = make_user("viewer")
    calls = [
        Call(None, "/login", {"username": user.username, "password": "wrong-password"})
        for _ in range(CALLERS)
    ]

    answers = race(app, calls, tmp_path=tmp_path)

    no_server_error(answers)
    db.session.expire_all()
    assert db.session.get(User, user.id).failed_logins == CALLERS


# The same button pressed by many hands: one step, the others told it was taken


def _prepare(db, world, s, upto: str, satisfaction: str = "satisfied") -> None:
    """Bring ``s`` (assigned by the rules) to ``upto``: accepted, replied or followed
    (every citizen with ``satisfaction``)."""
    from workroom.clock import utcnow
    from workroom.suggestions import lifecycle

    handler, ecology = world["agency1"], world["ecology"]
    lifecycle.accept(s, agency=ecology, now=utcnow(), actor=handler)
    if upto in ("replied", "followed"):
        lifecycle.reply(
            s, agency=ecology, text="已清淤。", reply_class="A", now=utcnow(), actor=handler
        )
    if upto == "followed":
        for citizen in lifecycle.group_citizens(s):
            lifecycle.record_follow_up(
                s, citizen, satisfaction=satisfaction, now=utcnow(), actor=world["liaison"]
            )
    db.session.commit()


@pytest.mark.parametrize(
    ("step", "upto", "portal", "event", "lost"),
    [
        # A returned suggestion leaves the agency: a late caller no longer finds it.
        ("return", "", True, "returned", {404, 409}),
        ("reply", "accepted", True, "replied", {409}),
        ("follow-up", "replied", False, "followed_up", {409}),
        ("close", "followed", False, "closed", {409}),
    ],
)
def test_a_suggestion_step_pressed_at_once_is_taken_once(
    app, db, world, raised, make_user, tmp_path, step, upto, portal, event, lost
):
    from workroom.suggestions import lifecycle

    s, _ = raised
    if upto:
        _prepare(db, world, s, upto)
    (citizen,) = lifecycle.group_citizens(s)
    data = {
        "return": {"return-reason": "不属于本单位职责"},
        "reply": {"reply-text": "已完成河道清淤。", "reply-reply_class": "A"},
        "follow-up": {"citizen_id": citizen.id, f"c{citizen.id}-satisfaction": "satisfied"},
        "close": {},
    }[step]
    users = _handlers(make_user, world) if portal else _managers(make_user, world)
    url = f"/{'agency' if portal else 'staff'}/suggestions/{s.id}/{step}"

    answers = race(app, [Call(u, url, data) for u in users], tmp_path=tmp_path)

    no_server_error(answers)
    won = [a for a in answers if a.status == 303]
    assert len(won) == 1 and {a.status for a in answers if a is not won[0]} <= lost
    db.session.expire_all()
    assert _events(db, s, event) == 1


def test_a_day_cancelled_at_once_is_cancelled_once(app, db, room, tmp_path):
    day = _published_day(db, room)
    on_duty = len(day.assignments)
    sequence = day.sequence
    calls = [
        Call(f"liaison{n}", f"/staff/days/{day.id}/cancel", {"cancel-reason": "街道停电"})
        for n in range(CALLERS)
    ]

    answers = race(app, calls, at=NOW, tmp_path=tmp_path)

    no_server_error(answers)
    assert statuses(answers) == [302] + [409] * (CALLERS - 1)
    told(app, answers, 409, "This reception day is cancelled.")
    db.session.expire_all()
    assert db.session.get(ReceptionDay, day.id).sequence == sequence + 1
    cancelled = db.session.scalars(
        sa.select(OutboxMessage).where(OutboxMessage.dedupe_key.like(f"cancelled:{day.id}:%"))
    ).all()
    assert len(cancelled) == on_duty


def test_a_swap_refused_at_once_is_refused_once(app, db, room, tmp_path):
    from workroom.schedule import deputy_days

    day = _published_day(db, room)
    swap = deputy_days.request_swap(day.assignments[0], "外地出差", NOW)
    db.session.commit()
    calls = [
        Call(f"liaison{n}", f"/staff/swaps/{swap.id}/refuse", {f"s{swap.id}-note": "请自行协调"})
        for n in range(CALLERS)
    ]

    answers = race(app, calls, at=NOW, tmp_path=tmp_path)

    no_server_error(answers)
    assert statuses(answers) == [302] + [409] * (CALLERS - 1)
    told(app, answers, 409, "This swap request was already answered.")
    events = Counter(db.session.scalars(sa.select(AuditEvent.action)))
    assert events["swap_request.refuse"] == 1


def test_two_generations_at_once_draft_each_day_once(app, db, room, tmp_path):
    url = f"/staff/workrooms/{room.id}/generate"
    form = {"start_month": "2026-04", "length": "1"}
    calls = [Call(f"liaison{n}", url, form) for n in range(2)]

    answers = race(app, calls, at=NOW, tmp_path=tmp_path)

    no_server_error(answers)
    db.session.expire_all()
    days = db.session.scalars(sa.select(ReceptionDay)).all()
    assert len(days) == len({(d.workroom_id, d.starts_at) for d in days}) == 5  # Wednesdays
    assert all(len(d.assignments) == d.deputies_needed for d in days)


def test_one_place_replaced_by_many_hands_is_replaced_once(app, db, room, tmp_path):
    day = _published_day(db, room)
    first = day.assignments[0]
    substitutes = _free_deputies(db, day)[:CALLERS]
    url = f"/staff/days/{day.id}/assignments/{first.id}/replace"
    calls = [
        Call(f"liaison{n}", url, {f"a{first.id}-deputy_id": d.id})
        for n, d in enumerate(substitutes)
    ]

    answers = race(app, calls, at=NOW, tmp_path=tmp_path)

    no_server_error(answers)
    won = [a for a in answers if a.status == 302]
    # A late caller finds the place gone (404) or its holder changed (409).
    assert len(won) == 1 and {a.status for a in answers if a is not won[0]} <= {404, 409}
    db.session.expire_all()
    assert len(db.session.get(ReceptionDay, day.id).assignments) == 2


def test_a_suggestion_in_triage_assigned_at_once_is_assigned_once(
    app, db, world, make_user, tmp_path
):
    s = test_suggestion_views.raise_suggestion(db, world, code="urban-roads")
    form = {"assign-lead_agency_id": str(world["housing"].id), "assign-reason": "路灯归住建"}
    calls = [
        Call(u, f"/staff/suggestions/{s.id}/assign", form) for u in _managers(make_user, world)
    ]

    answers = race(app, calls, tmp_path=tmp_path)

    no_server_error(answers)
    assert statuses(answers) == [303] + [409] * (CALLERS - 1)
    db.session.expire_all()
    assert _events(db, s, "assigned") == 1


def test_an_extension_asked_for_at_once_is_asked_once(app, db, world, raised, make_user, tmp_path):
    from workroom.suggestions.models import ExtensionRequest

    s, _ = raised
    _prepare(db, world, s, "accepted")
    form = {
        "extension-requested_due": (s.reply_due + dt.timedelta(days=7)).isoformat(),
        "extension-reason": "需要勘查",
    }
    calls = [
        Call(u, f"/agency/suggestions/{s.id}/extension", form) for u in _handlers(make_user, world)
    ]

    answers = race(app, calls, tmp_path=tmp_path)

    no_server_error(answers)
    assert statuses(answers) == [303] + [409] * (CALLERS - 1)
    told(app, answers, 409, "An extension request is already waiting for a decision.")
    db.session.expire_all()
    requests = db.session.scalars(
        sa.select(ExtensionRequest).where(ExtensionRequest.status == "pending")
    )
    assert len(requests.all()) == 1


@pytest.mark.parametrize(
    ("action", "status", "after", "event"),
    [
        ("recall", "called", "called", "visit.recall"),
        ("no-show", "called", "no_show", "visit.no_show"),
        ("finish", "in_progress", "done", "visit.finish"),
    ],
)
def test_a_ticket_pressed_at_once_moves_once(
    app, db, queue_room, make_user, tmp_path, action, status, after, event
):
    from tests.test_queue_console import NOW as QUEUE_NOW
    from tests.test_queue_console import make_ticket
    from workroom.visits.models import Visit

    workroom, _, _ = queue_room
    ticket = make_ticket(db, workroom, 1, status=status, to_liaison=True, call_count=1)
    liaisons = [make_user("liaison", workrooms=[workroom]).username for _ in range(CALLERS)]
    calls = [Call(u, f"/staff/visits/{ticket.id}/{action}") for u in liaisons]

    answers = race(app, calls, at=QUEUE_NOW.replace(tzinfo=dt.UTC), tmp_path=tmp_path)

    no_server_error(answers)
    db.session.expire_all()
    visit = db.session.get(Visit, ticket.id)
    assert visit.status == after
    events = Counter(db.session.scalars(sa.select(AuditEvent.action)))
    if action == "recall":
        # Calling again is allowed many times; each call counts, none is lost.
        assert statuses(answers) == [303] * CALLERS
        assert visit.call_count == 1 + CALLERS == 1 + events[event]
    else:
        assert statuses(answers) == [303] + [409] * (CALLERS - 1)
        assert events[event] == 1


def test_a_kiosk_revoked_at_once_is_revoked_once(app, db, make_workroom, make_user, tmp_path):
    from workroom.clock import utcnow
    from workroom.visits import kiosk_auth
    from workroom.visits.models import Kiosk

    kiosk, _code = kiosk_auth.register_kiosk(make_workroom(), "前台平板", utcnow())
    db.session.commit()
    admins = [make_user("admin").username for _ in range(CALLERS)]
    calls = [Call(u, f"/staff/kiosks/{kiosk.id}/revoke") for u in admins]

    answers = race(app, calls, tmp_path=tmp_path)

    no_server_error(answers)
    db.session.expire_all()
    assert db.session.get(Kiosk, kiosk.id).credential_version == 1
    events = Counter(db.session.scalars(sa.select(AuditEvent.action)))
    assert events["kiosk.revoke"] == 1
