"""Public tracking: the /track page and /api/v1/track/<code>, the same 404 for every
miss, the daily lock after 5 wrong attempts, and the rate limit."""

from __future__ import annotations

import datetime as dt

import pytest
import sqlalchemy as sa

from tests import test_suggestion_views as base
from tests.conftest import csrf_from
from tests.test_suggestion_views import make_visit, raise_suggestion, text_of
from workroom.clock import utcnow
from workroom.suggestions import lifecycle, tracking
from workroom.suggestions.models import TrackingAttempt

# Shared fixtures: the world of accounts and places, pages in English.
world = base.world
english = base.english

NOW = dt.datetime(2026, 3, 2, 1, 0)


def api(client, code: str, phone4: str):
    return client.get(f"/api/v1/track/{code}?phone4={phone4}")


def track_page(client, code: str, phone4: str):
    token = csrf_from(text_of(client.get("/track")))
    return client.post("/track", data={"csrf_token": token, "code": code, "phone4": phone4})


@pytest.fixture
def answered(db, world):
    """A suggestion answered by the ecology agency, from 张三 (phone ending 8000)."""
    s = raise_suggestion(db, world)
    lifecycle.accept(s, agency=world["ecology"], now=utcnow(), actor=None)
    lifecycle.reply(
        s,
        agency=world["ecology"],
        text="已完成河道清淤。",
        reply_class="A",
        now=utcnow(),
        actor=None,
    )
    db.session.commit()
    return s


def test_the_citizen_sees_status_steps_and_the_answer(client, db, world, answered):
    response = api(client, answered.tracking_code, "8000")
    assert response.status_code == 200
    body = response.get_json()
    [item] = body["suggestions"]
    assert item["code"] == answered.tracking_code and item["status"] == "replied"
    assert [step["step"] for step in item["steps"]] == [
        "submitted",
        "assigned",
        "accepted",
        "replied",
    ]
    assert item["steps"][1]["agency"] == "生态环境分局"
    assert item["reply"]["text"] == "已完成河道清淤。" and item["reply"]["class"] == "A"
    assert "张三" not in response.get_data(as_text=True)
    assert response.headers["Cache-Control"] == "no-store"

    page = track_page(client, answered.tracking_code.lower(), "8000")
    html = text_of(page)
    assert page.status_code == 200
    assert "已完成河道清淤。" in html and "张三" not in html and "138" not in html


def test_the_answer_is_shown_only_once_published(client, db, world):
    s = raise_suggestion(db, world)
    body = api(client, s.tracking_code, "8000").get_json()
    assert body["suggestions"][0]["reply"] is None
    assert body["suggestions"][0]["status"] == "assigned"


def test_a_receipt_code_lists_the_suggestions_of_that_visit(client, db, world):
    visit = make_visit(db, world["room_a"], receipt_code="VISIT234", phone="13800138001")
    first = raise_suggestion(
        db, world, citizens=[{"visit": visit, "name": None, "phone": None}], title="河道"
    )
    second = raise_suggestion(
        db, world, code="urban-roads", citizens=[{"visit": visit}], title="路灯"
    )
    raise_suggestion(db, world, title="别人的事")
    body = api(client, "visit-234", "8001").get_json()
    assert body["kind"] == "visit"
    assert [x["code"] for x in body["suggestions"]] == [first.tracking_code, second.tracking_code]
    html = text_of(track_page(client, "VISIT234", "8001"))
    assert "河道" in html and "路灯" in html and "别人的事" not in html


def test_a_visit_without_suggestions_says_so(client, db, world):
    make_visit(db, world["room_a"], receipt_code="ALONE234", phone="13800138009")
    body = api(client, "ALONE234", "8009").get_json()
    assert body == {"kind": "visit", "visit_on": body["visit_on"], "suggestions": []}
    assert "No suggestion has been raised from your visit yet." in text_of(
        track_page(client, "ALONE234", "8009")
    )


def test_unknown_and_wrong_answers_are_byte_identical(client, db, world, answered):
    wrong = api(client, answered.tracking_code, "1111")
    unknown = api(client, "ZZZZZZZZ", "8000")
    assert wrong.status_code == unknown.status_code == 404
    assert wrong.data == unknown.data
    wrong_page = track_page(client, answered.tracking_code, "1111")
    unknown_page = track_page(client, "ZZZZZZZZ", "8000")
    assert wrong_page.status_code == unknown_page.status_code == 404
    assert wrong_page.data == unknown_page.data
    assert answered.tracking_code.encode() not in wrong_page.data


def test_a_suggestion_without_a_phone_cannot_be_tracked(client, db, world):
    s = raise_suggestion(db, world, citizens=[{"visit": None, "name": "无电话", "phone": None}])
    miss = api(client, s.tracking_code, "0000")
    assert miss.status_code == 404
    assert miss.data == api(client, "ZZZZZZZZ", "0000").data


def test_five_wrong_attempts_lock_the_code_for_the_day(client, db, world, answered):
    for _ in range(5):
        assert api(client, answered.tracking_code, "1234").status_code == 404
    locked = api(client, answered.tracking_code, "8000")
    assert locked.status_code == 404
    assert locked.data == api(client, "ZZZZZZZZ", "8000").data
    assert track_page(client, answered.tracking_code, "8000").status_code == 404


def test_the_lock_lasts_one_day_and_also_covers_unknown_codes(db, world, answered):
    code = answered.tracking_code
    for _ in range(5):
        assert tracking.lookup(code, "1234", NOW) is None
        assert tracking.lookup("UNKNOWN7", "1234", NOW) is None
    assert tracking.lookup(code, "8000", NOW) is None
    assert tracking.lookup(code, "8000", NOW + dt.timedelta(days=1)) is not None
    attempts = {(a.code, a.failures) for a in db.session.scalars(sa.select(TrackingAttempt))}
    assert attempts == {(code, 5), ("UNKNOWN7", 5)}


def test_merged_citizens_follow_the_handling_suggestion(client, db, world):
    first = raise_suggestion(db, world, title="第一件")
    duplicate = raise_suggestion(
        db,
        world,
        title="重复件",
        citizens=[{"visit": None, "name": "孙六", "phone": "13711112222"}],
    )
    lifecycle.merge(duplicate, into=first, now=utcnow(), actor=None)
    lifecycle.accept(first, agency=world["ecology"], now=utcnow(), actor=None)
    lifecycle.reply(
        first,
        agency=world["ecology"],
        text="一并处理完毕",
        reply_class="B",
        now=utcnow(),
        actor=None,
    )
    db.session.commit()
    body = api(client, duplicate.tracking_code, "2222").get_json()
    [item] = body["suggestions"]
    assert item["code"] == duplicate.tracking_code and item["title"] == "重复件"
    assert item["status"] == "replied" and item["reply"]["text"] == "一并处理完毕"
    assert "第一件" not in str(body) and first.tracking_code not in str(body)


def test_bad_input(client, db, world):
    assert api(client, "ABCDEFGH", "12").status_code == 400
    assert client.get("/api/v1/track/ABCDEFGH").status_code == 400
    page = client.get("/track")
    assert page.status_code == 200
    token = csrf_from(text_of(page))
    bad = client.post("/track", data={"csrf_token": token, "code": "??", "phone4": "12a4"})
    assert bad.status_code == 400
    html = text_of(bad)
    assert "Enter the code as printed" in html and "Enter exactly 4 digits." in html
    assert client.post("/track", data={"code": "ABCDEFGH", "phone4": "1234"}).status_code == 400


def test_the_form_keeps_codes_out_of_urls(client, db, world):
    html = text_of(client.get("/track"))
    assert 'method="post"' in html and 'action="/track"' in html


def test_requests_are_rate_limited_per_client(app, client, db, world):
    app.config["TRACK_RATE_LIMIT"] = "3 per minute"
    codes = [api(client, "ZZZZZZZZ", "0000").status_code for _ in range(4)]
    assert codes == [404, 404, 404, 429]
    assert track_page(client, "ZZZZZZZZ", "0000").status_code == 429
