"""The JSON API: categories, the check-in contract (201, replay, 409, 400 per field in the
request's language, 404, 429), messages outside hours, kiosks and the OpenAPI document."""

from __future__ import annotations

import datetime as dt
import itertools
import json

import pytest
import sqlalchemy as sa
import time_machine

# Wednesday 4 March 2026 at 10:00 in Shanghai: liaison hours on a working day.
OPEN = dt.datetime(2026, 3, 4, 2, 0, tzinfo=dt.UTC)
# Saturday 7 March 2026 at 10:00 in Shanghai: closed.
CLOSED = dt.datetime(2026, 3, 7, 2, 0, tzinfo=dt.UTC)

_keys = itertools.count(1)


@pytest.fixture
def workroom(make_workroom):
    return make_workroom(slug="xiasheshi", liaison_hours="09:00-12:00,14:30-17:30")


@pytest.fixture
def at_open():
    with time_machine.travel(OPEN, tick=False):
        yield


def body(**changes):
    return {"category": "environment-noise", "consent": True, **changes}


def post(client, payload, *, key=None, slug="xiasheshi", headers=None, **kw):
    headers = dict(headers or {})
    if key is not False:
        headers["Idempotency-Key"] = key or f"key-{next(_keys)}"
    return client.post(f"/api/v1/workrooms/{slug}/checkins", json=payload, headers=headers, **kw)


def stored(db):
    from workroom.visits.models import Visit

    return db.session.scalars(sa.select(Visit).order_by(Visit.id)).all()


# Categories, notice, document


def test_categories_list_codes_and_both_labels(client, db):
    response = client.get("/api/v1/categories")
    assert response.status_code == 200
    top = response.get_json()["categories"]
    environment = next(c for c in top if c["code"] == "environment")
    assert environment["label_zh"] == "生态环境"
    assert environment["label_en"] == "Ecology and environment"
    assert environment["label"] == "生态环境"
    assert "environment-noise" in [c["code"] for c in environment["children"]]
    english = client.get("/api/v1/categories", headers={"Accept-Language": "en"}).get_json()
    assert english["categories"][0]["label"] == english["categories"][0]["label_en"]


def test_inactive_categories_are_not_listed(client, db):
    from workroom.categories.models import Category

    noise = db.session.scalars(
        sa.select(Category).where(Category.code == "environment-noise")
    ).one()
    noise.active = False
    db.session.commit()
    top = client.get("/api/v1/categories").get_json()["categories"]
    codes = [child["code"] for c in top for child in c["children"]]
    assert "environment-noise" not in codes and "environment-air" in codes


def test_the_privacy_notice_is_served_with_its_version(client, db):
    from workroom.visits.privacy_notice import CURRENT_VERSION

    notice = client.get("/api/v1/privacy-notice", headers={"Accept-Language": "en"}).get_json()
    assert notice["version"] == CURRENT_VERSION
    assert "24 months" in notice["retention"]
    assert notice["purpose"] and notice["who_sees"]


def test_the_openapi_document_describes_the_api(client, db):
    response = client.get("/api/v1/openapi.json")
    assert response.status_code == 200
    document = response.get_json()
    assert document["openapi"] == "3.1.0"
    assert document["servers"] == [{"url": "http://workroom.test/api/v1"}]
    paths = document["paths"]
    assert set(paths) >= {"/categories", "/workrooms/{slug}/checkins", "/track/{code}"}
    checkin = paths["/workrooms/{slug}/checkins"]["post"]
    statuses = {"200", "201", "400", "401", "403", "404", "409", "413", "415", "429"}
    assert set(checkin["responses"]) == statuses
    assert any(p["name"] == "Idempotency-Key" and p["required"] for p in checkin["parameters"])
    assert set(paths["/track/{code}"]["get"]["responses"]) == {"200", "400", "404", "429"}
    # A check-in may choose the categories listed, and only those.
    body = document["components"]["schemas"]["CheckinRequest"]["properties"]
    assert "environment-noise" in body["category"]["enum"]
    assert "environment" in body["category"]["enum"]
    # Every reference resolves.
    text = json.dumps(document)
    for name in {part.split('"')[0] for part in text.split('"$ref": "#/components/schemas/')[1:]}:
        assert name in document["components"]["schemas"], name


# The check-in contract


def test_check_in_answers_201_with_ticket_receipt_position_and_duty(client, db, workroom, at_open):
    first = post(client, body(name="张三", phone="13800138000"))
    assert first.status_code == 201, first.get_json()
    answer = first.get_json()
    assert answer["ticket"] == "001"
    assert answer["ticket_number"] == 1
    assert answer["ticket_date"] == "2026-03-04"
    assert answer["position"] == 0
    assert answer["kind"] == "checkin" and answer["receiving"] is True
    assert len(answer["receipt"]) == 8
    assert [p["role"] for p in answer["on_duty"]] == ["liaison"]
    assert answer["next_reception"] is None
    assert answer["channel"] == "phone"
    assert answer["arrived_at"] == "2026-03-04T10:00:00+08:00"

    second = post(client, body()).get_json()
    assert (second["ticket"], second["position"]) == ("002", 1)

    visit = stored(db)[0]
    visit.status = "called"
    db.session.commit()
    # Only 002 still waits ahead of 003 once 001 is called.
    third = post(client, body()).get_json()
    assert (third["ticket"], third["position"]) == ("003", 1)

    assert (visit.visitor_name, visit.phone, visit.wants_reply) == ("张三", "13800138000", True)
    assert visit.consent_version == answer["privacy_notice"]
    assert visit.consented_at == OPEN.replace(tzinfo=None)
    assert visit.channel == "phone"


def test_no_csrf_token_or_cookie_is_needed(app, db, workroom, at_open):
    # A fresh client that never loaded a page: no session, no token.
    response = post(app.test_client(), body())
    assert response.status_code == 201


def test_replaying_a_key_answers_200_with_the_same_answer(client, db, workroom, at_open):
    first = post(client, body(name="张三"), key="abc-123")
    post(client, body(), key="other")
    again = post(client, body(name="张三"), key="abc-123")
    assert (first.status_code, again.status_code) == (201, 200)
    one, two = first.get_json(), again.get_json()
    assert one == two
    assert len(stored(db)) == 2


def test_a_key_reused_with_another_body_answers_409(client, db, workroom, make_workroom, at_open):
    assert post(client, body(name="张三"), key="abc-123").status_code == 201
    conflict = post(client, body(name="李四"), key="abc-123")
    assert conflict.status_code == 409
    assert conflict.get_json()["error"] == "conflict"
    # The same key and body sent to another workroom is another request too.
    make_workroom(slug="another-room")
    assert post(client, body(name="张三"), key="abc-123", slug="another-room").status_code == 409
    assert len(stored(db)) == 1


def test_a_replay_still_answers_after_the_data_changed(client, db, workroom, at_open):
    from workroom.categories.models import Category

    assert post(client, body(), key="offline-1").status_code == 201
    noise = db.session.scalars(
        sa.select(Category).where(Category.code == "environment-noise")
    ).one()
    noise.active = False
    db.session.commit()
    assert post(client, body(), key="offline-1").status_code == 200


def test_a_taken_receipt_code_is_drawn_again(client, db, workroom, at_open, monkeypatch):
    from workroom.visits import checkin

    first = post(client, body()).get_json()
    codes = iter([first["receipt"], "ZZZZZZZZ"])
    monkeypatch.setattr(checkin, "new_receipt_code", lambda: next(codes))
    second = post(client, body())
    assert second.status_code == 201
    # The failed attempt was rolled back whole, its ticket number with it.
    assert (second.get_json()["receipt"], second.get_json()["ticket"]) == ("ZZZZZZZZ", "002")
    assert len(stored(db)) == 2


@pytest.mark.parametrize(
    ("headers", "message"),
    [({}, "请填写 11 位中国大陆手机号码"), ({"Accept-Language": "en"}, "11-digit mainland")],
)
def test_bad_fields_answer_400_per_field_in_the_request_language(
    client, db, workroom, at_open, headers, message
):
    response = post(
        client,
        {
            "category": "no-such-category",
            "name": "x" * 51,
            "phone": "12345",
            "description": "x" * 501,
            "consent": False,
        },
        headers=headers,
    )
    assert response.status_code == 400
    errors = response.get_json()["errors"]
    assert set(errors) == {"category", "name", "phone", "description", "consent"}
    assert message in errors["phone"]
    if headers:
        assert errors["description"] == "Use at most 500 characters."
    else:
        assert errors["description"] == "最多 500 个字符。"
    assert stored(db) == []


def test_missing_category_consent_or_key_answer_400(client, db, workroom, at_open):
    response = post(client, {"name": "张三"}, headers={"Accept-Language": "en"})
    assert response.status_code == 400
    assert set(response.get_json()["errors"]) == {"category", "consent"}

    response = post(client, body(), key=False)
    assert response.status_code == 400
    assert set(response.get_json()["errors"]) == {"Idempotency-Key"}

    response = post(client, body(), key="spaces are not allowed")
    assert response.status_code == 400
    assert set(response.get_json()["errors"]) == {"Idempotency-Key"}
    assert stored(db) == []


def test_a_body_that_is_not_a_json_object_answers_400_or_415(client, db, workroom, at_open):
    listed = post(client, ["category", "environment-noise"])
    assert listed.status_code == 400 and set(listed.get_json()["errors"]) == {"body"}
    broken = client.post(
        "/api/v1/workrooms/xiasheshi/checkins",
        data="{not json",
        content_type="application/json",
        headers={"Idempotency-Key": "broken"},
    )
    assert broken.status_code == 400
    form = client.post(
        "/api/v1/workrooms/xiasheshi/checkins",
        data={"category": "environment-noise"},
        headers={"Idempotency-Key": "form"},
    )
    assert form.status_code == 415
    assert stored(db) == []


def test_an_unknown_or_inactive_workroom_answers_404(client, db, make_workroom, at_open):
    assert post(client, body(), slug="no-such-room").status_code == 404
    make_workroom(slug="closed-room", active=False)
    response = post(client, body(), slug="closed-room")
    assert response.status_code == 404
    assert response.get_json()["error"] == "not_found"


@pytest.fixture
def low_limit(app_config, request):
    app_config["CHECKIN_RATE_LIMIT"] = "2 per minute"
    return request.getfixturevalue("app")


def test_a_flood_from_one_client_answers_429(low_limit, client, db, workroom, at_open):
    statuses = [post(client, body()).status_code for _ in range(3)]
    assert statuses == [201, 201, 429]
    flooded = post(client, body())
    assert flooded.status_code == 429
    assert flooded.get_json()["error"] == "too_many_requests"
    assert 1 <= int(flooded.headers["Retry-After"]) <= 60
    assert len(stored(db)) == 2


# Bad input, stored verbatim


def test_full_width_and_plus_86_numbers_are_normalised(client, db, workroom, at_open):
    assert post(client, body(phone="＋８６ １３８-００１３-８０００")).status_code == 201
    assert post(client, body(phone="+86 139 0000 1111")).status_code == 201
    assert [v.phone for v in stored(db)] == ["13800138000", "13900001111"]


def test_a_10_kb_description_and_nul_bytes_answer_400(client, db, workroom, at_open):
    huge = post(client, body(description="长" * 10_240), headers={"Accept-Language": "en"})
    assert huge.status_code == 400
    assert huge.get_json()["errors"] == {"description": "Use at most 500 characters."}
    nul = post(client, body(name="张\x00三", description="a\x00b"))
    assert nul.status_code == 400
    assert set(nul.get_json()["errors"]) == {"name", "description"}
    lone_surrogate = client.post(
        "/api/v1/workrooms/xiasheshi/checkins",
        data='{"category": "environment-noise", "consent": true, "name": "\\ud800"}',
        content_type="application/json",
        headers={"Idempotency-Key": "surrogate"},
    )
    assert lone_surrogate.status_code == 400
    assert stored(db) == []


def test_emoji_and_script_tags_are_stored_verbatim(client, db, workroom, at_open):
    name = "<script>alert('x')</script>"
    description = "路灯坏了 🙏🏻\n<b>请尽快</b>"
    assert post(client, body(name=name, description=description)).status_code == 201
    visit = stored(db)[0]
    assert (visit.visitor_name, visit.description) == (name, description)


def test_a_huge_body_is_refused(client, db, workroom, at_open):
    response = post(client, body(description="x" * 300_000))
    assert response.status_code == 413
    assert stored(db) == []


# Outside hours and duty


def test_outside_hours_the_check_in_leaves_a_message(client, db, workroom):
    with time_machine.travel(CLOSED, tick=False):
        response = post(client, body(name="王五", description="留言内容"))
    assert response.status_code == 201
    answer = response.get_json()
    assert answer["ticket"] is None and answer["position"] is None
    assert answer["kind"] == "message" and answer["receiving"] is False
    assert answer["receipt"]
    upcoming = answer["next_reception"]
    # The liaison is next in on Monday 9 March at 09:00.
    assert upcoming["at"] == "2026-03-09T09:00:00+08:00"
    assert upcoming["liaison"] == {
        "opens_at": "2026-03-09T09:00:00+08:00",
        "closes_at": "2026-03-09T12:00:00+08:00",
        "hours": "09:00-12:00,14:30-17:30",
    }
    assert upcoming["reception_day"] is None
    assert "2026" in upcoming["text"]
    visit = stored(db)[0]
    assert (visit.kind, visit.status, visit.ticket_number) == ("message", "open", None)


def test_a_message_names_the_next_reception_day(client, db, workroom, make_deputy):
    from workroom.schedule.models import Assignment, ReceptionDay

    deputy = make_deputy(name="王建国", level="county")
    monday = dt.date(2026, 3, 9)
    db.session.add(
        ReceptionDay(
            workroom_id=workroom.id,
            day=monday,
            starts_at=dt.datetime(2026, 3, 9, 0, 30),
            ends_at=dt.datetime(2026, 3, 9, 3, 30),
            status="published",
            assignments=[Assignment(deputy_id=deputy.id)],
        )
    )
    db.session.commit()
    with time_machine.travel(CLOSED, tick=False):
        answer = post(client, body(), headers={"Accept-Language": "en"}).get_json()
    upcoming = answer["next_reception"]
    assert upcoming["at"] == "2026-03-09T08:30:00+08:00"
    assert upcoming["reception_day"]["date"] == "2026-03-09"
    assert upcoming["reception_day"]["deputies"][0]["name"] == "王建国"
    assert "Next reception day" in upcoming["text"]


def test_during_a_reception_day_the_deputies_are_on_duty(client, db, workroom, make_deputy):
    from workroom.schedule.models import Assignment, ReceptionDay

    wang = make_deputy(name="王建国", level="county")
    li = make_deputy(name="李秀英", level="municipal")
    saturday = dt.date(2026, 3, 7)
    db.session.add(
        ReceptionDay(
            workroom_id=workroom.id,
            day=saturday,
            starts_at=dt.datetime(2026, 3, 7, 1, 0),
            ends_at=dt.datetime(2026, 3, 7, 3, 30),
            status="published",
            assignments=[Assignment(deputy_id=wang.id), Assignment(deputy_id=li.id)],
        )
    )
    db.session.commit()
    with time_machine.travel(CLOSED, tick=False):
        answer = post(client, body(), headers={"Accept-Language": "en"}).get_json()
    assert answer["ticket"] == "001"
    assert [(p["role"], p["name"], p["level"]) for p in answer["on_duty"]] == [
        ("deputy", "王建国", "county"),
        ("deputy", "李秀英", "municipal"),
    ]
    assert answer["on_duty"][0]["level_label"] == "County / district"
    assert stored(db)[0].reception_day_id is not None


def test_in_liaison_hours_the_liaison_is_on_duty(client, db, workroom, at_open):
    answer = post(client, body(), headers={"Accept-Language": "en"}).get_json()
    assert answer["on_duty"] == [
        {"role": "liaison", "name": "The liaison", "level": None, "level_label": None}
    ]


# Kiosks


@pytest.fixture
def kiosk(db, workroom, monkeypatch):
    from workroom.visits import checkin
    from workroom.visits.models import Kiosk

    device = Kiosk(workroom_id=workroom.id, name="大厅平板", prefix="K2")
    db.session.add(device)
    db.session.commit()
    kiosk_id = device.id

    def verify(token):
        from workroom.db import db as database

        return database.session.get(Kiosk, kiosk_id) if token == "good" else None

    monkeypatch.setattr(checkin, "verify_kiosk_credential", verify)
    return device


def test_a_kiosk_check_in_records_the_channel_and_keeps_its_provisional_ticket(
    client, db, kiosk, at_open
):
    answer = post(
        client,
        body(provisional_ticket="K2-003"),
        headers={"X-Kiosk-Credential": "good"},
    ).get_json()
    assert (answer["ticket"], answer["ticket_number"], answer["channel"]) == ("K2-003", 1, "kiosk")
    visit = stored(db)[0]
    assert (visit.channel, visit.kiosk_id) == ("kiosk", kiosk.id)


def test_a_revoked_kiosk_answers_401_and_a_foreign_one_403(
    client, db, kiosk, make_workroom, at_open
):
    revoked = post(client, body(), headers={"X-Kiosk-Credential": "revoked"})
    assert revoked.status_code == 401
    assert revoked.get_json()["error"] == "kiosk_not_paired"
    make_workroom(slug="elsewhere")
    foreign = post(client, body(), slug="elsewhere", headers={"X-Kiosk-Credential": "good"})
    assert foreign.status_code == 403
    assert stored(db) == []


def test_a_paired_kiosk_syncing_its_queue_is_not_rate_limited(
    low_limit, client, db, kiosk, at_open
):
    statuses = {
        post(client, body(), headers={"X-Kiosk-Credential": "good"}).status_code for _ in range(5)
    }
    assert statuses == {201}


def test_retry_with_a_provisional_ticket_gets_the_stored_answer(client, db, make_workroom) -> None:
    """A kiosk whose live check-in timed out after the server stored it retries from its
    offline queue with a provisional ticket added: same visit, not a conflict."""
    room = make_workroom(liaison_hours="00:00-23:59")
    body = {"category": "health", "consent": True}
    headers = {"Idempotency-Key": "retry-after-timeout-1"}
    with time_machine.travel(dt.datetime(2026, 3, 4, 3, 0, tzinfo=dt.UTC), tick=False):
        first = client.post(f"/api/v1/workrooms/{room.slug}/checkins", json=body, headers=headers)
        again = client.post(
            f"/api/v1/workrooms/{room.slug}/checkins",
            json={**body, "provisional_ticket": "P7QX-001"},
            headers=headers,
        )
    assert first.status_code == 201
    assert again.status_code == 200
    assert again.get_json()["receipt"] == first.get_json()["receipt"]
