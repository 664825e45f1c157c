"""The access matrix of every route that takes a suggestion or attachment id: what each
role gets for an object inside its scope and one outside it. Out of scope always
answers 404 and is written to the audit log."""

from __future__ import annotations

from typing import Any

import pytest
import sqlalchemy as sa

from tests import test_suggestion_views as base
from tests.conftest import IsolatedClient, csrf_from, login
from tests.test_suggestion_views import raise_suggestion
from workroom.audit.models import AuditEvent
from workroom.clock import utcnow
from workroom.suggestions import attachments, lifecycle

# Shared fixtures: the world of accounts and places, pages in English.
world = base.world
english = base.english

ROLES = ("viewer", "liaison", "deputy", "agency_handler", "admin")
ACCOUNTS = {
    "viewer": "viewer",
    "liaison": "liaison",
    "deputy": "deputy",
    "agency_handler": "agency1",
    "admin": "admin",
}
NO = (404, 404)
STAFF_GET = {"admin": (200, 200), "viewer": (200, 200), "liaison": (200, 404), "deputy": (200, 404)}
# An empty form on a staff step: 400 (form errors) where the step is open to the role.
STAFF_POST = {"admin": (400, 400), "liaison": (400, 404)}
AGENCY_POST = {"agency_handler": (400, 404)}

# endpoint: (method, path after the id, what each role gets; roles missing get 404, 404)
MATRIX: dict[str, tuple[str, str, dict[str, tuple[int, int]]]] = {
    "suggestions.detail": ("GET", "/staff/suggestions/{id}", STAFF_GET),
    "suggestions.assign": ("POST", "/staff/suggestions/{id}/assign", STAFF_POST),
    "suggestions.follow_up": ("POST", "/staff/suggestions/{id}/follow-up", STAFF_POST),
    # Both suggestions are assigned, not answered: closing is refused.
    "suggestions.close": (
        "POST",
        "/staff/suggestions/{id}/close",
        {"admin": (409, 409), "liaison": (409, 404)},
    ),
    "suggestions.rehandle": ("POST", "/staff/suggestions/{id}/rehandle", STAFF_POST),
    "suggestions.merge": ("POST", "/staff/suggestions/{id}/merge", STAFF_POST),
    "suggestions.decide_extension": ("POST", "/staff/suggestions/{id}/extension", STAFF_POST),
    "suggestions.upload": ("POST", "/staff/suggestions/{id}/attachments", STAFF_POST),
    "suggestions.attachment": (
        "GET",
        "/staff/attachments/{attachment}",
        {**STAFF_GET, "agency_handler": (200, 404)},
    ),
    "portal.detail": ("GET", "/agency/suggestions/{id}", {"agency_handler": (200, 404)}),
    "portal.accept": ("POST", "/agency/suggestions/{id}/accept", {"agency_handler": (303, 404)}),
    "portal.reply": ("POST", "/agency/suggestions/{id}/reply", AGENCY_POST),
    "portal.request_extension": ("POST", "/agency/suggestions/{id}/extension", AGENCY_POST),
    "portal.return_misassigned": ("POST", "/agency/suggestions/{id}/return", AGENCY_POST),
    "portal.opinion": ("POST", "/agency/suggestions/{id}/opinion", AGENCY_POST),
}


def test_every_id_route_is_in_the_matrix(app):
    routes = {
        rule.endpoint
        for rule in app.url_map.iter_rules()
        if rule.endpoint.split(".")[0] in ("suggestions", "portal")
        and rule.arguments & {"suggestion_id", "attachment_id"}
    }
    assert routes == set(MATRIX)


@pytest.fixture
def sides(db, world, app, tmp_path) -> dict[str, dict[str, Any]]:
    """Inside: workroom A, led by the handler's agency; outside: workroom B, another agency."""
    app.config["ATTACHMENT_PATH"] = str(tmp_path / "files")
    inside = raise_suggestion(db, world)
    outside = raise_suggestion(db, world, room="room_b")
    lifecycle.assign(outside, lead_agency=world["housing"], now=utcnow(), actor=None, reason="住建")
    db.session.commit()
    found = {}
    for name, s in (("inside", inside), ("outside", outside)):
        upload = attachments.Upload("来信.pdf", "application/pdf", b"%PDF-1.4\n%%EOF\n")
        a = attachments.store(s, upload, kind="citizen", now=utcnow(), actor=None)
        db.session.commit()
        found[name] = {"id": s.id, "attachment": a.id}
    return found


@pytest.mark.parametrize("endpoint", sorted(MATRIX))
def test_route_answers_by_role_and_scope(app, db, world, sides, endpoint):
    method, path, access = MATRIX[endpoint]
    app.test_client_class = IsolatedClient
    wrong = {}
    for role in ROLES:
        client = app.test_client()
        login(client, world[ACCOUNTS[role]])
        token = csrf_from(client.get("/staff").get_data(as_text=True))
        want = access.get(role, NO)
        for side, expected in zip(("inside", "outside"), want, strict=True):
            url = path.format(**sides[side])
            if method == "GET":
                status = client.get(url).status_code
            else:
                status = client.post(url, data={"csrf_token": token}).status_code
            if status != expected:
                wrong[f"{role} {side}"] = f"got {status}, expected {expected}"
    assert wrong == {}, endpoint


def test_out_of_scope_attempts_are_audited(app, client, db, world, sides):
    login(client, world["agency2"])
    client.get(f"/agency/suggestions/{sides['inside']['id']}")
    client.get(f"/staff/attachments/{sides['inside']['attachment']}")
    events = db.session.execute(
        sa.select(AuditEvent.object_type, AuditEvent.object_id, AuditEvent.actor_name).where(
            AuditEvent.action == "suggestion.access_denied"
        )
    ).all()
    assert sorted(events) == sorted(
        [
            ("attachment", str(sides["inside"]["attachment"]), world["agency2"].username),
            ("suggestion", str(sides["inside"]["id"]), world["agency2"].username),
        ]
    )
