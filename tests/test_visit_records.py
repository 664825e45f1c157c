"""Visit records, visits logged by staff, visitor history, phone reveal, the list, the demo."""

from __future__ import annotations

import datetime as dt

import pytest
import sqlalchemy as sa

from tests.conftest import csrf_from, post_form
from tests.test_queue_console import NOW, TODAY, make_ticket
from workroom.audit.models import AuditEvent
from workroom.categories.models import Category
from workroom.visits.checkin import visitor_phone_hash
from workroom.visits.models import Visit
from workroom.visits.views import staff as views_module

ENGLISH = {"Accept-Language": "en"}
PHONE = "13800138000"


@pytest.fixture
def clock(monkeypatch):
    monkeypatch.setattr(views_module, "utcnow", lambda: NOW)
    return NOW


@pytest.fixture
def room(db, make_workroom, make_deputy):
    workroom = make_workroom(name="下摄司街道代表工作室", slug="xiasheshi")
    wang = make_deputy(name="王建国", workrooms=[workroom])
    return {"workroom": workroom, "wang": wang}


def _category(db, code: str = "urban-housing") -> Category:
    return db.session.scalar(sa.select(Category).where(Category.code == code))


def _finished(db, workroom, number: int = 1, **fields) -> Visit:
    fields.setdefault("phone", PHONE)
    fields.setdefault("visitor_name", "李秀英")
    return make_ticket(
        db,
        workroom,
        number,
        status="done",
        phone_hash=visitor_phone_hash(fields["phone"]) if fields["phone"] else None,
        ended_at=NOW,
        **fields,
    )


# The record


def test_liaison_fills_in_the_record(client, db, room, login_as, clock):
    workroom = room["workroom"]
    liaison = login_as("liaison", workrooms=[workroom])
    visit = _finished(db, workroom)
    url = f"/staff/visits/{visit.id}"

    page = client.get(url, headers=ENGLISH)
    assert page.status_code == 200
    assert 'selected value="liaison"' in page.get_data(as_text=True)

    response = post_form(
        client,
        url,
        {
            "summary": "电梯经常停运",
            "notes": "物业答应下周维修。\n再跟进。",
            "outcome": "suggestion",
            "received_by": f"deputy:{room['wang'].id}",
        },
    )
    assert response.status_code == 303
    visit = db.session.get(Visit, visit.id)
    assert visit.summary == "电梯经常停运"
    assert visit.outcome == "suggestion"
    assert visit.deputy_id == room["wang"].id and not visit.to_liaison
    assert visit.received_by_id == liaison.id
    event = db.session.scalar(sa.select(AuditEvent).where(AuditEvent.action == "visit.record"))
    assert event.object_id == str(visit.id)
    text = client.get(url).get_data(as_text=True)
    assert "物业答应下周维修。" in text


def test_record_form_explains_its_errors(client, db, room, login_as, clock):
    workroom = room["workroom"]
    login_as("liaison", workrooms=[workroom])
    visit = _finished(db, workroom)
    url = f"/staff/visits/{visit.id}"
    token = csrf_from(client.get(url).get_data(as_text=True))
    response = client.post(
        url,
        data={"csrf_token": token, "summary": "长" * 501, "outcome": "", "received_by": "x"},
        headers=ENGLISH,
    )
    assert response.status_code == 400
    text = response.get_data(as_text=True)
    assert "Choose an outcome." in text
    assert "500" in text
    assert db.session.get(Visit, visit.id).outcome is None

    response = client.post(
        url,
        data={"csrf_token": token, "outcome": "answered", "received_by": "deputy:99999"},
        headers=ENGLISH,
    )
    assert response.status_code == 400
    assert "Choose who received the visitor." in response.get_data(as_text=True)


def test_a_message_left_outside_hours_is_closed_by_its_record(client, db, room, login_as, clock):
    workroom = room["workroom"]
    login_as("liaison", workrooms=[workroom])
    message = Visit(
        workroom_id=workroom.id,
        channel="phone",
        kind="message",
        status="open",
        receipt_code="MSG00001",
        arrived_at=NOW - dt.timedelta(hours=14),
        description="晚上来过，想反映停车问题。",
    )
    db.session.add(message)
    db.session.commit()
    console = client.get(f"/staff/workrooms/{workroom.id}/queue", headers=ENGLISH)
    assert "1 message or record waits for its record" in console.get_data(as_text=True)

    response = post_form(
        client,
        f"/staff/visits/{message.id}",
        {"summary": "停车难", "outcome": "answered", "received_by": "liaison"},
    )
    assert response.status_code == 303
    message = db.session.get(Visit, message.id)
    assert message.status == "done" and message.ended_at == NOW


def test_a_deputy_reads_but_a_viewer_cannot_save_a_record(client, db, room, login_as, clock):
    visit = _finished(db, room["workroom"], summary="原有摘要")
    login_as("viewer")
    url = f"/staff/visits/{visit.id}"
    page = client.get(url).get_data(as_text=True)
    assert "原有摘要" in page and 'name="outcome"' not in page
    token = csrf_from(client.get("/staff").get_data(as_text=True))
    response = client.post(url, data={"csrf_token": token, "outcome": "none"})
    assert response.status_code == 404
    assert db.session.get(Visit, visit.id).outcome is None


# Phone numbers


def test_phone_is_masked_and_revealed_only_by_post_with_an_audit_record(
    client, db, room, login_as, clock
):
    workroom = room["workroom"]
    liaison = login_as("liaison", workrooms=[workroom])
    visit = _finished(db, workroom)
    url = f"/staff/visits/{visit.id}"

    page = client.get(url, headers=ENGLISH).get_data(as_text=True)
    assert PHONE not in page and "138****8000" in page
    assert "Show full number" in page
    listing = client.get("/staff/visits").get_data(as_text=True)
    assert PHONE not in listing and "138****8000" in listing

    assert client.get(f"{url}/reveal").status_code == 405
    response = post_form(client, f"{url}/reveal", {})
    assert response.status_code == 200
    assert PHONE in response.get_data(as_text=True)
    assert response.headers["Cache-Control"] == "no-store"
    event = db.session.scalar(
        sa.select(AuditEvent).where(AuditEvent.action == "visit.reveal_phone")
    )
    assert event.actor_id == liaison.id and event.object_id == str(visit.id)
    assert PHONE not in event.summary
    # Shown once: the page afterwards is masked again.
    assert PHONE not in client.get(url).get_data(as_text=True)


def test_users_without_visit_reveal_never_see_the_number(client, db, room, login_as, clock):
    visit = _finished(db, room["workroom"])
    login_as("deputy", deputy=room["wang"])
    url = f"/staff/visits/{visit.id}"
    page = client.get(url, headers=ENGLISH).get_data(as_text=True)
    assert "138****8000" in page and "Show full number" not in page and PHONE not in page
    token = csrf_from(page)
    assert client.post(f"{url}/reveal", data={"csrf_token": token}).status_code == 404
    assert (
        db.session.scalar(sa.select(AuditEvent).where(AuditEvent.action == "visit.reveal_phone"))
        is None
    )


def test_reveal_without_csrf_is_refused(client, db, room, login_as, clock):
    login_as("liaison", workrooms=[room["workroom"]])
    visit = _finished(db, room["workroom"])
    response = client.post(f"/staff/visits/{visit.id}/reveal")
    assert response.status_code == 400
    assert PHONE not in response.get_data(as_text=True)


# Visitor history


def test_history_links_repeat_visits_by_number_within_what_the_user_sees(
    client, db, room, login_as, make_workroom, clock
):
    workroom = room["workroom"]
    elsewhere = make_workroom(name="别处联络站")
    login_as("liaison", workrooms=[workroom])
    earlier = _finished(db, workroom, 1, summary="第一次来访")
    earlier.arrived_at = NOW - dt.timedelta(days=40)
    hidden = _finished(db, elsewhere, 1, summary="别处的来访")
    other_person = _finished(db, workroom, 2, phone="13900139000", summary="另一个人")
    current = _finished(db, workroom, 3)
    db.session.commit()

    text = client.get(f"/staff/visits/{current.id}", headers=ENGLISH).get_data(as_text=True)
    assert "Other visits from the same number" in text
    assert "第一次来访" in text
    assert "别处的来访" not in text and "另一个人" not in text
    assert hidden.phone_hash == current.phone_hash and other_person.phone_hash != current.phone_hash


# Logging a visit


def test_liaison_logs_a_phone_call_with_its_record(client, db, room, login_as, clock):
    workroom = room["workroom"]
    liaison = login_as("liaison", workrooms=[workroom])
    url = f"/staff/workrooms/{workroom.id}/visits/new"
    assert client.get(url).status_code == 200

    response = post_form(
        client,
        url,
        {
            "channel": "call",
            "category_id": _category(db).id,
            "name": "<b>张三</b>",
            "phone": "0731-5858 1234",
            "description": "电话反映小区路灯不亮。",
            "summary": "路灯不亮",
            "notes": "",
            "outcome": "referred",
            "received_by": "liaison",
        },
    )
    assert response.status_code == 303
    visit = db.session.scalar(sa.select(Visit).where(Visit.channel == "call"))
    assert visit.kind == "record" and visit.status == "done"
    assert visit.phone == "073158581234"
    assert visit.phone_hash == visitor_phone_hash("073158581234")
    assert visit.outcome == "referred" and visit.to_liaison
    assert visit.received_by_id == liaison.id and visit.arrived_at == NOW
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "&lt;b&gt;张三&lt;/b&gt;" in page and "<b>张三</b>" not in page
    assert "073****1234" in page


def test_logging_a_visit_checks_every_field(client, db, room, login_as, clock):
    workroom = room["workroom"]
    login_as("liaison", workrooms=[workroom])
    url = f"/staff/workrooms/{workroom.id}/visits/new"
    token = csrf_from(client.get(url).get_data(as_text=True))
    response = client.post(
        url,
        data={
            "csrf_token": token,
            "channel": "fax",
            "category_id": 0,
            "phone": "12345",
            "description": "长" * 2001,
            "outcome": "",
            "received_by": "liaison",
        },
        headers=ENGLISH,
    )
    assert response.status_code == 400
    text = response.get_data(as_text=True)
    assert "Choose a category." in text and "Choose an outcome." in text
    response = client.post(
        url,
        data={
            "csrf_token": token,
            "channel": "walk_in",
            "category_id": _category(db).id,
            "phone": "12345",
            "outcome": "none",
            "received_by": "liaison",
        },
        headers=ENGLISH,
    )
    assert response.status_code == 400
    assert "landline with its area code" in response.get_data(as_text=True)
    response = client.post(
        url,
        data={
            "csrf_token": token,
            "channel": "letter",
            "category_id": _category(db).id,
            "outcome": "none",
            "received_by": "liaison",
            "name": "\x00张三",
        },
        headers=ENGLISH,
    )
    assert response.status_code == 400
    assert "Remove the invisible control characters." in response.get_data(as_text=True)
    assert db.session.scalar(sa.select(sa.func.count(Visit.id))) == 0


def test_logging_on_a_non_working_day_is_allowed_with_a_notice(
    client, db, room, login_as, monkeypatch
):
    saturday = dt.datetime(2026, 12, 5, 2, 0)
    monkeypatch.setattr(views_module, "utcnow", lambda: saturday)
    login_as("liaison", workrooms=[room["workroom"]])
    page = client.get(
        f"/staff/workrooms/{room['workroom'].id}/visits/new", headers=ENGLISH
    ).get_data(as_text=True)
    assert "Today is not a working day" in page


def test_viewer_and_other_liaisons_cannot_log_visits(
    client, db, room, login_as, make_workroom, clock
):
    url = f"/staff/workrooms/{room['workroom'].id}/visits/new"
    login_as("liaison", workrooms=[make_workroom()])
    assert client.get(url).status_code == 404
    client.post(
        "/logout", data={"csrf_token": csrf_from(client.get("/staff").get_data(as_text=True))}
    )
    login_as("viewer")
    assert client.get(url).status_code == 403


# The list


def test_visit_list_filters_and_stays_in_scope(client, db, room, login_as, make_workroom, clock):
    workroom = room["workroom"]
    login_as("liaison", workrooms=[workroom])
    _finished(db, workroom, 1, visitor_name="今天来的", channel="kiosk")
    old = _finished(db, workroom, 2, visitor_name="上个月来的", channel="phone")
    old.arrived_at = NOW - dt.timedelta(days=30)
    _finished(db, make_workroom(), 1, visitor_name="别处的人")
    db.session.commit()

    text = client.get("/staff/visits").get_data(as_text=True)
    assert "今天来的" in text and "上个月来的" in text and "别处的人" not in text
    text = client.get("/staff/visits?channel=kiosk").get_data(as_text=True)
    assert "今天来的" in text and "上个月来的" not in text
    day = TODAY.isoformat()
    text = client.get(f"/staff/visits?since={day}&until={day}").get_data(as_text=True)
    assert "今天来的" in text and "上个月来的" not in text
    top = _category(db, "urban")
    text = client.get(f"/staff/visits?category={top.id}").get_data(as_text=True)
    assert "今天来的" not in text
    assert client.get("/staff/visits?since=garbage").status_code == 200
    assert client.get("/staff/visits?page=x").status_code == 400


def test_agency_handlers_have_no_visit_pages(client, db, room, login_as, make_agency, clock):
    visit = _finished(db, room["workroom"])
    login_as("agency_handler", agency=make_agency())
    assert client.get("/staff/visits").status_code == 403
    assert client.get(f"/staff/visits/{visit.id}").status_code == 404
    assert client.get(f"/staff/workrooms/{room['workroom'].id}/queue").status_code == 404


# The demo


def test_demo_visits_are_added_once(db, make_workroom, make_deputy):
    from workroom.visits.demo import seed

    workroom = make_workroom(slug="xiasheshi")
    make_deputy(workrooms=[workroom])
    created = seed(NOW)
    db.session.commit()
    assert created >= 10
    assert seed(NOW) == 0
    visits = db.session.scalars(sa.select(Visit)).all()
    assert {v.channel for v in visits} >= {"kiosk", "phone", "walk_in", "call", "letter"}
    hashes = [v.phone_hash for v in visits if v.phone_hash]
    assert len(hashes) > len(set(hashes)), "a repeat visitor shows the history"
    assert all(v.arrived_at < NOW for v in visits)
