"""The staff queue console: who may call tickets, the ticket lifecycle, and its pages."""

from __future__ import annotations

import datetime as dt
import itertools
from typing import Any

import pytest
import sqlalchemy as sa

from tests.conftest import csrf_from
from workroom.audit.models import AuditEvent
from workroom.errors import Conflict, DomainError
from workroom.schedule.models import Assignment, ReceptionDay
from workroom.visits import queue
from workroom.visits.models import DutyAttendance, Visit
from workroom.visits.views import public as board_module
from workroom.visits.views import staff as views_module

# Wednesday 2 December 2026, 10:00 in Xiangtan (UTC+8).
NOW = dt.datetime(2026, 12, 2, 2, 0)
TODAY = dt.date(2026, 12, 2)
_receipts = itertools.count(1)


@pytest.fixture
def clock(monkeypatch):
    """Pages see NOW as the current time."""
    monkeypatch.setattr(views_module, "utcnow", lambda: NOW)
    monkeypatch.setattr(board_module, "utcnow", lambda: NOW)
    return NOW


@pytest.fixture
def english(app):
    """Domain messages in English (outside a request they follow the default, Chinese)."""
    with app.test_request_context(headers={"Accept-Language": "en"}):
        yield


def make_day(db, workroom, deputies=(), *, status="published", day=TODAY, declined=()):
    """A reception day 09:00–11:30 local with these deputies assigned."""
    start = dt.datetime.combine(day, dt.time(1, 0))
    reception = ReceptionDay(
        workroom_id=workroom.id,
        day=day,
        starts_at=start,
        ends_at=start + dt.timedelta(hours=2, minutes=30),
        deputies_needed=max(1, len(deputies)),
        status=status,
        published_at=start - dt.timedelta(days=7) if status == "published" else None,
    )
    reception.assignments = [
        Assignment(deputy_id=d.id, status="declined" if d in declined else "assigned")
        for d in deputies
    ]
    db.session.add(reception)
    db.session.commit()
    return reception


def make_ticket(db, workroom, number: int, *, minutes_ago: int = 30, **fields: Any) -> Visit:
    fields.setdefault("status", "waiting")
    fields.setdefault("channel", "kiosk")
    visit = Visit(
        workroom_id=workroom.id,
        kind="checkin",
        ticket_date=TODAY,
        ticket_number=number,
        ticket_label=f"{number:03d}",
        receipt_code=f"TQ{next(_receipts):06d}",
        arrived_at=NOW - dt.timedelta(minutes=minutes_ago),
        **fields,
    )
    db.session.add(visit)
    db.session.commit()
    return visit


def sign_in_deputy(db, reception, deputy, at=NOW):
    db.session.add(
        DutyAttendance(reception_day_id=reception.id, deputy_id=deputy.id, signed_in_at=at)
    )
    db.session.commit()


def post(client, url: str, data: dict[str, Any] | None = None, page: str | None = None):
    """POST a console form with the CSRF token from the console page (or ``page``)."""
    source = client.get(page or "/staff")
    token = csrf_from(source.get_data(as_text=True))
    return client.post(url, data={**(data or {}), "csrf_token": token})


@pytest.fixture
def room(db, make_workroom, make_deputy):
    """A workroom with two attached deputies and today's published reception day."""
    workroom = make_workroom(name="下摄司街道代表工作室", slug="xiasheshi")
    wang = make_deputy(name="王建国", workrooms=[workroom])
    li = make_deputy(name="李丽", workrooms=[workroom])
    reception = make_day(db, workroom, [wang, li])
    return {"workroom": workroom, "wang": wang, "li": li, "day": reception}


# The domain functions


def test_call_next_takes_the_longest_waiting_ticket_for_the_liaison(db, room, make_user):
    workroom = room["workroom"]
    liaison = make_user("liaison", workrooms=[workroom])
    later = make_ticket(db, workroom, 2, minutes_ago=5)
    first = make_ticket(db, workroom, 1, minutes_ago=20)

    called = queue.call_next(workroom, liaison, NOW)
    db.session.commit()

    assert called.id == first.id
    assert (called.status, called.called_at, called.call_count) == ("called", NOW, 1)
    assert called.to_liaison and called.deputy_id is None
    assert db.session.get(Visit, later.id).status == "waiting"
    event = db.session.scalar(sa.select(AuditEvent).where(AuditEvent.action == "visit.call"))
    assert event.object_id == str(first.id) and event.actor_id == liaison.id


def test_the_whole_lifecycle_records_every_time(db, room, make_user):
    workroom = room["workroom"]
    liaison = make_user("liaison", workrooms=[workroom])
    visit = make_ticket(db, workroom, 1)
    later = NOW + dt.timedelta(minutes=2)

    queue.call_next(workroom, liaison, NOW)
    queue.recall(visit, liaison, NOW + dt.timedelta(minutes=1))
    queue.start(visit, liaison, later)
    queue.finish(visit, liaison, later + dt.timedelta(minutes=15))
    db.session.commit()

    visit = db.session.get(Visit, visit.id)
    assert visit.status == "done"
    assert visit.call_count == 2
    assert visit.called_at == NOW + dt.timedelta(minutes=1)
    assert visit.started_at == later
    assert visit.ended_at == later + dt.timedelta(minutes=15)
    assert visit.received_by_id == liaison.id
    actions = db.session.scalars(
        sa.select(AuditEvent.action).where(AuditEvent.object_type == "visit")
    ).all()
    assert actions == ["visit.call", "visit.recall", "visit.start", "visit.finish"]


def test_transitions_that_do_not_fit_are_conflicts(english, db, room, make_user):
    workroom = room["workroom"]
    liaison = make_user("liaison", workrooms=[workroom])
    visit = make_ticket(db, workroom, 1)
    with pytest.raises(Conflict):
        queue.start(visit, liaison, NOW)
    with pytest.raises(Conflict):
        queue.finish(visit, liaison, NOW)
    with pytest.raises(Conflict):
        queue.recall(visit, liaison, NOW)
    queue.mark_no_show(visit, liaison, NOW)
    with pytest.raises(Conflict):
        queue.mark_no_show(visit, liaison, NOW)
    with pytest.raises(Conflict, match="Nobody is waiting"):
        queue.call_next(workroom, liaison, NOW)


def test_a_deputy_must_be_on_duty_and_signed_in(english, db, room, make_user, make_deputy):
    workroom = room["workroom"]
    stranger = make_deputy(name="赵六", workrooms=[workroom])
    visit = make_ticket(db, workroom, 1)
    off_duty = make_user("deputy", deputy=stranger)
    wang = make_user("deputy", deputy=room["wang"])

    with pytest.raises(DomainError, match="not on duty") as error:
        queue.call_next(workroom, off_duty, NOW)
    assert error.value.status == 403
    with pytest.raises(DomainError, match="Sign in on arrival"):
        queue.call_next(workroom, wang, NOW)

    queue.sign_in(workroom, room["wang"], wang, NOW)
    called = queue.call_next(workroom, wang, NOW)
    assert called.id == visit.id and called.deputy_id == room["wang"].id
    assert called.reception_day_id == room["day"].id


def test_declined_draft_or_other_days_do_not_put_a_deputy_on_duty(
    english, db, make_workroom, make_deputy, make_user
):
    declined_room, draft_room, tomorrow_room = make_workroom(), make_workroom(), make_workroom()
    deputy = make_deputy(workrooms=[declined_room, draft_room, tomorrow_room])
    account = make_user("deputy", deputy=deputy)
    make_day(db, declined_room, [deputy], declined=[deputy])
    make_day(db, draft_room, [deputy], status="draft")
    make_day(db, tomorrow_room, [deputy], day=TODAY + dt.timedelta(days=1))
    for workroom in (declined_room, draft_room, tomorrow_room):
        make_ticket(db, workroom, 1)
        with pytest.raises(DomainError, match="not on duty"):
            queue.sign_in(workroom, deputy, account, NOW)
        with pytest.raises(DomainError, match="not on duty"):
            queue.call_next(workroom, account, NOW)


def test_signing_in_twice_keeps_the_first_time(db, room, make_user):
    wang = make_user("deputy", deputy=room["wang"])
    first = queue.sign_in(room["workroom"], room["wang"], wang, NOW)
    again = queue.sign_in(room["workroom"], room["wang"], wang, NOW + dt.timedelta(hours=1))
    db.session.commit()
    assert again.id == first.id and again.signed_in_at == NOW
    assert db.session.scalar(sa.select(sa.func.count(DutyAttendance.id))) == 1


def test_transfer_sends_a_ticket_to_a_present_deputy_or_the_liaison(english, db, room, make_user):
    workroom = room["workroom"]
    liaison = make_user("liaison", workrooms=[workroom])
    called = make_ticket(db, workroom, 1)
    waiting = make_ticket(db, workroom, 2, minutes_ago=10)
    queue.call_next(workroom, liaison, NOW)

    with pytest.raises(DomainError, match="has not signed in"):
        queue.transfer(called, liaison, NOW, room["li"])
    sign_in_deputy(db, room["day"], room["li"])

    queue.transfer(called, liaison, NOW + dt.timedelta(minutes=1), room["li"])
    assert (called.status, called.deputy_id, called.to_liaison) == ("called", room["li"].id, False)
    assert called.call_count == 2

    # A waiting ticket keeps waiting, now reserved for that deputy.
    queue.transfer(waiting, liaison, NOW, room["li"])
    assert waiting.status == "waiting" and waiting.deputy_id == room["li"].id
    with pytest.raises(Conflict, match="Nobody is waiting"):
        queue.call_next(workroom, liaison, NOW)
    li = make_user("deputy", deputy=room["li"])
    assert queue.call_next(workroom, li, NOW).id == waiting.id

    queue.transfer(called, liaison, NOW, None)
    assert called.to_liaison and called.deputy_id is None
    with pytest.raises(DomainError, match="already there"):
        queue.transfer(called, liaison, NOW, None)


def test_a_deputy_cannot_call_for_another_deputy(english, db, room, make_user):
    sign_in_deputy(db, room["day"], room["wang"])
    sign_in_deputy(db, room["day"], room["li"])
    make_ticket(db, room["workroom"], 1)
    wang = make_user("deputy", deputy=room["wang"])
    with pytest.raises(DomainError, match="only call tickets for yourself"):
        queue.call_next(room["workroom"], wang, NOW, room["li"])


# The pages


def test_liaison_works_the_queue_from_the_console(client, db, room, login_as, clock):
    workroom = room["workroom"]
    login_as("liaison", workrooms=[workroom])
    visit = make_ticket(db, workroom, 1, minutes_ago=12)
    console = f"/staff/workrooms/{workroom.id}/queue"

    page = client.get(console, headers={"Accept-Language": "en"})
    text = page.get_data(as_text=True)
    assert page.status_code == 200
    assert "001" in text and "12 min" in text
    assert "王建国" in text and "Not arrived yet" in text

    response = post(client, f"{console}/call", {"deputy_id": "liaison"}, console)
    assert response.status_code == 303
    assert db.session.get(Visit, visit.id).status == "called"

    for action, status in (("recall", "called"), ("start", "in_progress")):
        response = post(client, f"/staff/visits/{visit.id}/{action}", page=console)
        assert response.status_code == 303
        assert db.session.get(Visit, visit.id).status == status
    assert db.session.get(Visit, visit.id).call_count == 2

    response = post(client, f"/staff/visits/{visit.id}/finish", page=console)
    assert response.status_code == 303
    assert response.headers["Location"].endswith(f"/staff/visits/{visit.id}")
    visit = db.session.get(Visit, visit.id)
    assert visit.status == "done" and visit.ended_at == NOW


def test_liaison_records_a_deputys_arrival_and_calls_for_them(client, db, room, login_as, clock):
    workroom = room["workroom"]
    login_as("liaison", workrooms=[workroom])
    visit = make_ticket(db, workroom, 1)
    console = f"/staff/workrooms/{workroom.id}/queue"

    response = post(
        client, f"{console}/arrive", {"deputy_id": f"deputy:{room['wang'].id}"}, console
    )
    assert response.status_code == 303
    assert db.session.scalar(
        sa.select(DutyAttendance).where(DutyAttendance.deputy_id == room["wang"].id)
    )
    response = post(client, f"{console}/call", {"deputy_id": f"deputy:{room['wang'].id}"}, console)
    assert response.status_code == 303
    assert db.session.get(Visit, visit.id).deputy_id == room["wang"].id
    board = client.get("/w/xiasheshi/board.json", headers={"Accept-Language": "en"}).get_json()
    assert board["calling"][0] == {
        "ticket": "001",
        "to": "Please go to deputy 王建国",
        "key": f"{visit.id}-1",
    }


def test_deputy_signs_in_on_arrival_then_calls(client, db, room, login_as, clock):
    workroom = room["workroom"]
    login_as("deputy", deputy=room["wang"])
    visit = make_ticket(db, workroom, 1)
    console = f"/staff/workrooms/{workroom.id}/queue"

    response = post(client, f"{console}/call", {}, console)
    assert response.status_code == 403
    assert db.session.get(Visit, visit.id).status == "waiting"

    page = client.get(console).get_data(as_text=True)
    assert f'action="{console}/arrive"' in page
    assert post(client, f"{console}/arrive", {}, console).status_code == 303
    attendance = db.session.scalar(sa.select(DutyAttendance))
    assert attendance.deputy_id == room["wang"].id and attendance.signed_in_at == NOW

    assert post(client, f"{console}/call", {}, console).status_code == 303
    visit = db.session.get(Visit, visit.id)
    assert visit.status == "called" and visit.deputy_id == room["wang"].id


def test_a_deputy_not_on_duty_cannot_call_tickets(client, db, room, login_as, make_deputy, clock):
    workroom = room["workroom"]
    other = make_deputy(name="赵六", workrooms=[workroom])
    login_as("deputy", deputy=other)
    visit = make_ticket(db, workroom, 1)
    console = f"/staff/workrooms/{workroom.id}/queue"

    page = client.get(console, headers={"Accept-Language": "en"}).get_data(as_text=True)
    assert "not on duty" in page
    assert "Call next" not in page
    response = post(client, f"{console}/call", {}, console)
    assert response.status_code == 403
    assert post(client, f"/staff/visits/{visit.id}/no-show", page=console).status_code == 403
    assert post(client, f"{console}/arrive", {}, console).status_code == 403
    assert db.session.get(Visit, visit.id).status == "waiting"


def test_a_liaison_of_another_workroom_gets_404(client, db, room, login_as, make_workroom, clock):
    workroom = room["workroom"]
    visit = make_ticket(db, workroom, 1)
    login_as("liaison", workrooms=[make_workroom()])
    console = f"/staff/workrooms/{workroom.id}/queue"

    assert client.get(console).status_code == 404
    assert post(client, f"{console}/call", {}).status_code == 404
    assert post(client, f"{console}/arrive", {}).status_code == 404
    for action in ("recall", "no-show", "start", "finish", "transfer"):
        assert post(client, f"/staff/visits/{visit.id}/{action}").status_code == 404
    assert client.get(f"/staff/visits/{visit.id}").status_code == 404
    assert db.session.get(Visit, visit.id).status == "waiting"


def test_actions_change_state_only_by_post_with_csrf(client, db, room, login_as, clock):
    workroom = room["workroom"]
    login_as("liaison", workrooms=[workroom])
    visit = make_ticket(db, workroom, 1)
    console = f"/staff/workrooms/{workroom.id}/queue"

    assert client.get(f"{console}/call").status_code == 405
    assert client.get(f"/staff/visits/{visit.id}/no-show").status_code == 405
    assert client.post(f"{console}/call", data={"deputy_id": "liaison"}).status_code == 400
    assert client.post(f"/staff/visits/{visit.id}/no-show").status_code == 400
    assert db.session.get(Visit, visit.id).status == "waiting"
    assert post(client, f"/staff/visits/{visit.id}/no-show", page=console).status_code == 303
    assert db.session.get(Visit, visit.id).status == "no_show"


def test_an_action_that_does_not_fit_answers_409_with_the_reason(client, db, room, login_as, clock):
    workroom = room["workroom"]
    login_as("liaison", workrooms=[workroom])
    visit = make_ticket(db, workroom, 1)
    console = f"/staff/workrooms/{workroom.id}/queue"

    response = client.post(
        f"/staff/visits/{visit.id}/start",
        data={"csrf_token": csrf_from(client.get(console).get_data(as_text=True))},
        headers={"Accept-Language": "en"},
    )
    assert response.status_code == 409
    assert "no longer in a state for this" in response.get_data(as_text=True)
    visit_status = db.session.get(Visit, visit.id).status
    assert visit_status == "waiting"

    post(client, f"/staff/visits/{visit.id}/no-show", page=console)
    response = client.post(
        f"{console}/call",
        data={"csrf_token": csrf_from(client.get(console).get_data(as_text=True))},
        headers={"Accept-Language": "en"},
    )
    assert response.status_code == 409
    assert "Nobody is waiting" in response.get_data(as_text=True)


def test_transfer_from_the_console_needs_a_target(client, db, room, login_as, clock):
    workroom = room["workroom"]
    login_as("liaison", workrooms=[workroom])
    sign_in_deputy(db, room["day"], room["li"])
    visit = make_ticket(db, workroom, 1)
    console = f"/staff/workrooms/{workroom.id}/queue"

    assert (
        post(client, f"/staff/visits/{visit.id}/transfer", {"to": ""}, console).status_code == 400
    )
    assert (
        post(
            client, f"/staff/visits/{visit.id}/transfer", {"to": "deputy:999999"}, console
        ).status_code
        == 400
    )
    response = post(
        client, f"/staff/visits/{visit.id}/transfer", {"to": f"deputy:{room['li'].id}"}, console
    )
    assert response.status_code == 303
    assert db.session.get(Visit, visit.id).deputy_id == room["li"].id


def test_viewer_reads_the_queue_but_cannot_act(client, db, room, login_as, clock):
    workroom = room["workroom"]
    login_as("viewer")
    visit = make_ticket(db, workroom, 1)
    console = f"/staff/workrooms/{workroom.id}/queue"
    page = client.get(console, headers={"Accept-Language": "en"})
    assert page.status_code == 200
    text = page.get_data(as_text=True)
    assert "001" in text and "Call next" not in text
    assert post(client, f"{console}/call", {}, console).status_code == 404
    assert post(client, f"/staff/visits/{visit.id}/start", page=console).status_code == 404


def test_console_lists_only_todays_tickets_in_order(client, db, room, login_as, clock):
    workroom = room["workroom"]
    login_as("liaison", workrooms=[workroom])
    make_ticket(db, workroom, 3, minutes_ago=3)
    make_ticket(db, workroom, 1, minutes_ago=40)
    old = make_ticket(db, workroom, 9, minutes_ago=60 * 24)
    old.ticket_date = TODAY - dt.timedelta(days=1)
    old.ticket_label = "昨天009"
    db.session.commit()
    text = client.get(f"/staff/workrooms/{workroom.id}/queue").get_data(as_text=True)
    assert text.index(">001<") < text.index(">003<")
    assert "昨天009" not in text


def test_returning_visitors_are_marked(client, db, room, login_as, clock):
    workroom = room["workroom"]
    login_as("liaison", workrooms=[workroom])
    earlier = make_ticket(db, workroom, 1, minutes_ago=60 * 24 * 30, phone_hash="h" * 64)
    earlier.ticket_date = TODAY - dt.timedelta(days=30)
    earlier.status = "done"
    make_ticket(db, workroom, 2, phone_hash="h" * 64)
    db.session.commit()
    text = client.get(
        f"/staff/workrooms/{workroom.id}/queue", headers={"Accept-Language": "en"}
    ).get_data(as_text=True)
    assert "Returning: 1 earlier" in text
