"""The display board: what it shows, and that it never shows a visitor's data."""

from __future__ import annotations

import datetime as dt
import re

import pytest

from tests.test_queue_console import NOW, make_day, make_ticket
from workroom.visits import queue
from workroom.visits.models import DutyAttendance
from workroom.visits.views import public as board_module

ENGLISH = {"Accept-Language": "en"}


@pytest.fixture
def clock(monkeypatch):
    monkeypatch.setattr(board_module, "utcnow", lambda: NOW)
    return NOW


@pytest.fixture
def room(db, make_workroom, make_deputy, make_user):
    workroom = make_workroom(name="下摄司街道代表工作室", slug="xiasheshi")
    wang = make_deputy(name="王建国", workrooms=[workroom])
    li = make_deputy(name="李丽", workrooms=[workroom])
    day = make_day(db, workroom, [wang, li])
    db.session.add(DutyAttendance(reception_day_id=day.id, deputy_id=wang.id, signed_in_at=NOW))
    liaison = make_user("liaison", workrooms=[workroom])
    visitors = [
        make_ticket(
            db,
            workroom,
            n,
            minutes_ago=60 - n,
            visitor_name=f"张秘密{n}",
            phone=f"1380013800{n}",
            phone_hash=f"{n}" * 64,
            description=f"私人描述{n}",
        )
        for n in range(1, 9)
    ]
    return {"workroom": workroom, "wang": wang, "liaison": liaison, "visitors": visitors}


def _call(db, room, deputy=None, at=NOW):
    actor = room["liaison"]
    visit = queue.call_next(room["workroom"], actor, at, deputy)
    db.session.commit()
    return visit


def test_board_shows_the_call_where_to_go_the_next_tickets_and_the_deputies(
    client, db, room, clock
):
    _call(db, room, room["wang"], NOW - dt.timedelta(minutes=2))
    _call(db, room, None, NOW - dt.timedelta(minutes=1))

    state = client.get("/w/xiasheshi/board.json", headers=ENGLISH).get_json()
    assert state["calling"][0]["ticket"] == "002"
    assert state["calling"][0]["to"] == "Please go to the liaison"
    assert state["calling"][1]["ticket"] == "001"
    assert state["calling"][1]["to"] == "Please go to deputy 王建国"
    assert state["next"] == ["003", "004", "005", "006", "007"]
    assert state["waiting"] == 6 and state["waiting_text"] == "6 waiting"
    assert sorted(state["deputies"]) == sorted(["李丽", "王建国"])
    assert state["last_call"] == f"{room['visitors'][1].id}-1"

    page = client.get("/w/xiasheshi/board", headers=ENGLISH)
    html = page.get_data(as_text=True)
    assert page.status_code == 200
    assert 'id="board-ticket">002<' in html
    assert "Please go to the liaison" in html and "Please go to deputy 王建国" in html
    assert "<li>003</li>" in html and "<li>007</li>" in html and "<li>008</li>" not in html
    assert "王建国" in html and "李丽" in html
    assert 'data-state-url="/w/xiasheshi/board.json"' in html


def test_board_never_shows_a_visitors_name_number_or_words(client, db, room, clock):
    _call(db, room, room["wang"])
    html = client.get("/w/xiasheshi/board").get_data(as_text=True)
    body = client.get("/w/xiasheshi/board.json").get_data(as_text=True)
    for visitor in room["visitors"]:
        for value in (visitor.visitor_name, visitor.phone, visitor.phone[-4:], visitor.description):
            assert value not in html and value not in body
        assert visitor.receipt_code not in html and visitor.receipt_code not in body
    assert "张秘密" not in html and "1380013800" not in body
    assert "秘密" not in html and "私人" not in body


def test_board_page_has_no_inline_script_or_style(client, db, room, clock):
    html = client.get("/w/xiasheshi/board").get_data(as_text=True)
    assert re.findall(r"<script[^>]*>", html) == ['<script src="/static/js/board.js" defer>']
    assert "<style" not in html and " style=" not in html
    assert 'aria-pressed="false"' in html


def test_last_call_changes_with_every_call_and_recall(client, db, room, clock):
    def last_call():
        return client.get("/w/xiasheshi/board.json").get_json()["last_call"]

    assert last_call() is None
    visit = _call(db, room)
    first = last_call()
    queue.recall(visit, room["liaison"], NOW + dt.timedelta(seconds=30))
    db.session.commit()
    second = last_call()
    assert first and second and first != second
    queue.start(visit, room["liaison"], NOW + dt.timedelta(minutes=1))
    db.session.commit()
    # Starting is no new call: the board stays quiet.
    assert last_call() == second


def test_board_json_is_never_cached(client, db, room, clock):
    response = client.get("/w/xiasheshi/board.json")
    assert response.headers["Cache-Control"] == "no-store"
    assert response.mimetype == "application/json"


def test_board_of_an_unknown_or_closed_workroom_is_404(client, db, make_workroom, clock):
    make_workroom(slug="closed", active=False)
    for url in ("/w/nowhere/board", "/w/nowhere/board.json", "/w/closed/board"):
        assert client.get(url).status_code == 404


def test_board_on_a_day_without_reception_points_to_the_liaison(client, db, make_workroom, clock):
    make_workroom(slug="quiet")
    state = client.get("/w/quiet/board.json", headers=ENGLISH).get_json()
    assert state["calling"] == [] and state["next"] == [] and state["deputies"] == []
    html = client.get("/w/quiet/board", headers=ENGLISH).get_data(as_text=True)
    assert "The liaison receives you today." in html
    assert "Please wait for your number." in html


def test_board_speaks_chinese_by_default(client, db, room, clock):
    html = client.get("/w/xiasheshi/board").get_data(as_text=True)
    assert 'lang="zh-Hans-CN"' in html
    assert "<li>002</li>" in html
