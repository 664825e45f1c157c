"""The API against its own OpenAPI document.

Schemathesis loads ``/api/v1/openapi.json`` from the app (WSGI, no server), generates
requests from it in every phase (examples, coverage, fuzzing, stateful) and runs every
one of its checks on the answers: documented statuses, headers, content types and bodies,
405 with ``Allow``, invalid data refused, valid data accepted, a missing required header
refused. The answers generated requests rarely reach (a replay, a conflict, a kiosk, a
flood, a tracked suggestion) are then sent by name and checked against the document too.
"""

from __future__ import annotations

import datetime as dt
import itertools
import re
from typing import Any

import pytest
import schemathesis
import time_machine
from schemathesis.config import SchemathesisConfig
from schemathesis.engine import Status, events, from_schema

from tests import test_suggestion_views as suggestions
from workroom.clock import utcnow
from workroom.suggestions import lifecycle
from workroom.visits import checkin

# Wednesday 4 March 2026 at 10:00 in Shanghai: the liaison is in, check-ins get tickets.
OPEN = dt.datetime(2026, 3, 4, 2, 0, tzinfo=dt.UTC)
# Saturday 7 March 2026 at 10:00 in Shanghai: closed, a check-in leaves a message.
CLOSED = dt.datetime(2026, 3, 7, 2, 0, tzinfo=dt.UTC)
SLUG = "xiasheshi"
CHECKINS = f"/api/v1/workrooms/{SLUG}/checkins"
IDEMPOTENCY_KEY = "Idempotency-Key"

world = suggestions.world
_keys = itertools.count(1)


@pytest.fixture
def app_config(app_config: dict[str, Any]) -> dict[str, Any]:
    # Far above what one run sends: the flood is tested by name below.
    app_config["CHECKIN_RATE_LIMIT"] = "100000 per minute"
    app_config["TRACK_RATE_LIMIT"] = "100000 per minute"
    return app_config


@pytest.fixture(autouse=True)
def stopped_clock():
    """The clock stands still: reception hours and rate-limit windows do not move with
    the time a run takes, so every run sends and gets the same."""
    with time_machine.travel(OPEN, tick=False):
        yield


@pytest.fixture
def rooms(app) -> dict[str, str]:
    """The workroom ``xiasheshi``, another one, and the device credential of a kiosk
    paired with ``xiasheshi``. Made in an app context of their own: requests must not
    share the test's."""
    from workroom.db import db
    from workroom.places.models import Area, Workroom
    from workroom.visits import kiosk_auth

    with app.app_context():
        city = Area(name="湘潭市", level="city")
        district = Area(name="岳塘区", level="district", parent=city)
        street = Area(name="下摄司街道", level="street", parent=district)
        room = Workroom(
            name="下摄司街道代表工作室",
            slug=SLUG,
            area=street,
            liaison_hours="09:00-12:00,14:30-17:30",
        )
        other = Workroom(name="建设路代表联络站", slug="jianshelu", area=street)
        db.session.add_all([room, other])
        db.session.flush()
        kiosk, code = kiosk_auth.register_kiosk(room, "大厅平板", utcnow())
        kiosk, credential = kiosk_auth.pair_kiosk(code, utcnow())
        db.session.commit()
        prefix = kiosk.prefix
        db.session.remove()
    return {"other": "jianshelu", "kiosk": credential, "kiosk_prefix": prefix}


def api_schema(app) -> Any:
    config = SchemathesisConfig.from_dict(
        {
            "seed": 20260304,
            # Every built-in check is on by default; none is turned off here.
            "generation": {"max-examples": 50, "deterministic": True, "database": "none"},
            # Generated slugs would all be unknown (404): check in where there is a workroom.
            "parameters": {"path.slug": SLUG},
        }
    )
    schema = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", app, config=config)

    @schema.hook
    def map_case(context: Any, case: Any) -> Any:
        # Generated keys repeat ("0", "a"), so most check-ins would answer 409 before
        # their body is read. A valid key becomes a new valid key: the case stays valid
        # or invalid as it was. Replays and conflicts are tested by name below.
        key = case.headers.get(IDEMPOTENCY_KEY) if case.headers else None
        if isinstance(key, str) and checkin.IDEMPOTENCY_KEY.fullmatch(key):
            case.headers[IDEMPOTENCY_KEY] = f"{key[:60]}-{next(_keys)}"
        return case

    return schema


def failures_of(schema: Any) -> list[str]:
    """Run every phase of Schemathesis against ``schema``; each failed check and each
    error, with the request to reproduce it and the answer."""
    found = []
    for event in from_schema(schema).execute():
        if isinstance(event, events.ScenarioFinished):
            recorder = event.recorder
            for case_id, checks in recorder.checks.items():
                interaction = recorder.interactions.get(case_id)
                answer = interaction.response if interaction is not None else None
                got = f"{answer.status_code} {answer.content[:500]!r}" if answer else "nothing"
                for check in checks:
                    if check.status == Status.FAILURE and check.failure_info is not None:
                        failure = check.failure_info.failure
                        found.append(
                            f"{recorder.label} ({event.phase.value}): {check.name}: "
                            f"{failure.title}\n{failure.message}\n"
                            f"{check.failure_info.code_sample}\n-> {got}"
                        )
        elif isinstance(event, events.NonFatalError):
            found.append(f"{event.label}: {event.info.format()}")
        elif isinstance(event, events.FatalError):
            found.append(f"fatal: {event.exception!r}")
    return found


def test_every_answer_is_the_one_the_document_describes(app, rooms):
    failures = failures_of(api_schema(app))
    assert not failures, "\n\n".join(failures)


# Answers by name


@pytest.fixture
def document(client) -> Any:
    return schemathesis.openapi.from_dict(client.get("/api/v1/openapi.json").get_json())


def documented(document: Any, operation_id: str, response: Any) -> Any:
    """``response`` after checking that it is an answer ``operation_id`` documents: its
    status, headers, content type and body."""
    operation = document.find_operation_by_id(operation_id)
    path = re.sub(r"\{(\w+)\}", r"(?P<\1>[^/]+)", operation.full_path)
    match = re.fullmatch(path, response.request.path)
    assert match, f"{response.request.path} is not {operation.full_path}"
    operation.Case(path_parameters=match.groupdict()).validate_response(response)
    return response


def check_in(client, payload: Any = None, *, key: str | None = None, slug: str = SLUG, **kw):
    headers = dict(kw.pop("headers", {}))
    if key is not None:
        headers[IDEMPOTENCY_KEY] = key
    if payload is not None:
        kw["json"] = payload
    return client.post(f"/api/v1/workrooms/{slug}/checkins", headers=headers, **kw)


def body(**changes: Any) -> dict[str, Any]:
    return {"category": "environment-noise", "consent": True, **changes}


def test_every_check_in_answer_is_documented(app, client, document, rooms):
    def answer(response, status: int) -> Any:
        assert response.status_code == status, response.get_data(as_text=True)
        return documented(document, "createCheckin", response).get_json()

    first = answer(check_in(client, body(phone="13800138000"), key="k-1"), 201)
    assert first["kind"] == "checkin" and first["ticket"] == "001"
    assert answer(check_in(client, body(phone="13800138000"), key="k-1"), 200) == first
    assert answer(check_in(client, body(name="李四"), key="k-1"), 409)["error"] == "conflict"
    invalid = answer(check_in(client, body(phone="12345", consent=False), key="k-2"), 400)
    assert set(invalid["errors"]) == {"phone", "consent"}
    assert set(answer(check_in(client, body()), 400)["errors"]) == {IDEMPOTENCY_KEY}
    assert answer(check_in(client, ["environment-noise"], key="k-3"), 400)["errors"]["body"]
    assert answer(check_in(client, body(), key="k-4", slug="no-such-room"), 404)
    form = check_in(client, key="k-5", data={"category": "environment-noise"})
    assert answer(form, 415)["error"] == "unsupported_media_type"
    assert answer(check_in(client, body(description="x" * 300_000), key="k-6"), 413)

    kiosk = {"X-Kiosk-Credential": rooms["kiosk"]}
    offline = f"{rooms['kiosk_prefix']}-004"
    by_kiosk = answer(
        check_in(client, body(provisional_ticket=offline), key="k-7", headers=kiosk), 201
    )
    assert (by_kiosk["channel"], by_kiosk["ticket"]) == ("kiosk", offline)
    elsewhere = check_in(client, body(), key="k-8", slug=rooms["other"], headers=kiosk)
    assert answer(elsewhere, 403)["error"] == "kiosk_elsewhere"
    unpaired = check_in(client, body(), key="k-9", headers={"X-Kiosk-Credential": "old"})
    assert answer(unpaired, 401)["error"] == "kiosk_not_paired"

    with time_machine.travel(CLOSED, tick=False):
        message = answer(
            check_in(client, body(), key="k-10", headers={"Accept-Language": "en"}), 201
        )
    assert message["kind"] == "message" and message["next_reception"]["text"]


def test_a_flooded_client_is_answered_as_documented(app, client, document, rooms):
    app.config["CHECKIN_RATE_LIMIT"] = "2 per minute"
    statuses = [check_in(client, body(), key=f"f-{n}").status_code for n in range(2)]
    assert statuses == [201, 201]
    flooded = documented(document, "createCheckin", check_in(client, body(), key="f-3"))
    assert flooded.status_code == 429
    assert flooded.get_json()["error"] == "too_many_requests"
    # What is wrong with the request itself is said first, flood or not.
    missing = documented(document, "createCheckin", check_in(client, body()))
    assert missing.status_code == 400
    assert set(missing.get_json()["errors"]) == {IDEMPOTENCY_KEY}
    malformed = check_in(client, body(), key="not a key")
    assert documented(document, "createCheckin", malformed).status_code == 400
    not_json = check_in(client, key="f-4", data="category=environment-noise")
    assert documented(document, "createCheckin", not_json).status_code == 415


@pytest.fixture
def answered(db, world) -> Any:
    """A suggestion answered by the ecology agency, from 张三 (phone ending 8000)."""
    s = suggestions.raise_suggestion(db, world)
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


def test_every_tracking_answer_is_documented(app, client, document, answered):
    code = answered.tracking_code

    def answer(url: str, status: int) -> Any:
        response = client.get(url)
        assert response.status_code == status, response.get_data(as_text=True)
        return documented(document, "trackConcern", response).get_json()

    [item] = answer(f"/api/v1/track/{code}?phone4=8000", 200)["suggestions"]
    assert item["reply"]["text"] == "已完成河道清淤。"
    assert [step["step"] for step in item["steps"]][-1] == "replied"
    assert answer(f"/api/v1/track/{code}?phone4=80", 400)["error"] == "bad_request"
    assert answer(f"/api/v1/track/{code}", 400)["error"] == "bad_request"
    assert answer(f"/api/v1/track/{code}?phone4=1111", 404)["error"] == "not_found"
    app.config["TRACK_RATE_LIMIT"] = "1 per minute"
    assert client.get(f"/api/v1/track/{code}?phone4=8000").status_code == 200
    flooded = client.get(f"/api/v1/track/{code}?phone4=8000")
    assert flooded.status_code == 429
    assert int(documented(document, "trackConcern", flooded).headers["Retry-After"]) >= 1
    assert flooded.get_json()["message"] == "请求过于频繁，请稍等一分钟后重试。"


def test_an_unsupported_method_answers_405_with_allow(client):
    response = client.delete("/api/v1/categories")
    assert response.status_code == 405
    assert "GET" in response.headers["Allow"]
    response = client.get(CHECKINS)
    assert response.status_code == 405
    assert "POST" in response.headers["Allow"]
