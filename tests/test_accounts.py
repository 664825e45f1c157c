"""Administrators manage staff accounts: list, search, create, edit, deactivate."""

from __future__ import annotations

import re
from typing import Any

import pytest
import sqlalchemy as sa

from tests.conftest import csrf_from, login, post_form
from workroom.audit.models import AuditEvent
from workroom.auth.accounts import find_user
from workroom.auth.models import User

ENGLISH = {"Accept-Language": "en"}


def _account(**fields: Any) -> dict[str, Any]:
    """A complete account form; keywords override."""
    data = {"display_name": "", "role": "viewer", "agency_id": 0, "deputy_id": 0, "active": "y"}
    data.update(fields)
    return {k: v for k, v in data.items() if v is not None}


def _actions(db, action: str) -> list[AuditEvent]:
    return list(db.session.scalars(sa.select(AuditEvent).where(AuditEvent.action == action)))


def test_admin_lists_and_searches_accounts(client, db, login_as, make_user) -> None:
    make_user("viewer", username="zhangwei", display_name="张伟")
    make_user("viewer", username="lina")
    login_as("admin")
    listing = client.get("/staff/users").get_data(as_text=True)
    assert "zhangwei" in listing and "lina" in listing
    found = client.get("/staff/users?q=zhang").get_data(as_text=True)
    assert "zhangwei" in found and "lina" not in found
    by_name = client.get("/staff/users", query_string={"q": "张伟"}).get_data(as_text=True)
    assert "zhangwei" in by_name and "lina" not in by_name


@pytest.mark.parametrize("role", ["viewer", "liaison", "deputy", "agency_handler"])
def test_only_admins_manage_accounts(
    client, login_as, make_workroom, make_deputy, make_agency, role
):
    scope = {
        "liaison": {"workrooms": [make_workroom()]},
        "deputy": {"deputy": make_deputy()},
        "agency_handler": {"agency": make_agency()},
    }
    login_as(role, username="someone" + role.replace("_", ""), **scope.get(role, {}))
    assert client.get("/staff/users").status_code == 403
    assert client.get("/staff/users/new").status_code == 403


def test_admin_creates_a_liaison_and_sees_the_password_once(
    app, client, db, login_as, make_workroom
) -> None:
    workroom = make_workroom(name="下摄司街道代表工作室")
    login_as("admin")
    response = post_form(
        client,
        "/staff/users/new",
        _account(
            username="liuyang", display_name="刘洋", role="liaison", workroom_ids=[workroom.id]
        ),
    )
    assert response.status_code == 200
    match = re.search(r"<code>([^<]+)</code>", response.get_data(as_text=True))
    assert match, "the password is not shown"
    user = find_user("liuyang")
    assert user.role == "liaison"
    assert [w.id for w in user.workrooms] == [workroom.id]
    assert user.password_change_required
    assert _actions(db, "user.create")

    other = app.test_client()
    login(other, "liuyang", match.group(1))
    assert other.get("/staff/workrooms").headers["Location"].endswith("/account/password")


def test_liaison_without_workroom_is_refused_with_a_message(client, db, login_as) -> None:
    login_as("admin")
    response = post_form(
        client, "/staff/users/new", _account(username="noroom", role="liaison"), headers=ENGLISH
    )
    assert response.status_code == 400
    assert "A liaison needs at least one workroom." in response.get_data(as_text=True)
    assert find_user("noroom") is None


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"username": ""}, "Enter a username."),
        ({"username": "has space"}, "Use 3 to 60 letters, digits, dots, dashes or underscores."),
        ({"username": "x" * 61}, "60"),
        ({"username": "taken", "role": "viewer"}, "This username is taken."),
        ({"username": "nobody", "role": "agency_handler"}, "An agency handler needs an agency."),
        ({"username": "nodeputy", "role": "deputy"}, "A deputy account needs the deputy"),
        ({"username": "badrole", "role": "superuser"}, "Not a valid choice"),
    ],
)
def test_account_form_errors_are_explained(client, db, login_as, make_user, fields, message):
    make_user("viewer", username="taken")
    login_as("admin")
    before = db.session.scalar(sa.select(sa.func.count()).select_from(User))
    response = post_form(client, "/staff/users/new", _account(**fields), headers=ENGLISH)
    assert response.status_code == 400
    assert message in response.get_data(as_text=True)
    assert db.session.scalar(sa.select(sa.func.count()).select_from(User)) == before


def test_role_change_is_audited(client, db, login_as, make_user, make_workroom) -> None:
    user = make_user("viewer")
    workroom = make_workroom()
    login_as("admin")
    response = post_form(
        client, f"/staff/users/{user.id}", _account(role="liaison", workroom_ids=[workroom.id])
    )
    assert response.status_code == 302
    db.session.refresh(user)
    assert user.role == "liaison"
    assert [w.id for w in user.workrooms] == [workroom.id]
    changes = _actions(db, "user.role_change")
    assert len(changes) == 1
    assert changes[0].object_id == str(user.id)
    assert "viewer" in changes[0].summary and "liaison" in changes[0].summary


def test_admin_cannot_remove_own_admin_role(client, db, login_as) -> None:
    admin = login_as("admin")
    response = post_form(
        client, f"/staff/users/{admin.id}", _account(role="viewer"), headers=ENGLISH
    )
    assert response.status_code == 400
    assert "You cannot remove your own administrator access." in response.get_data(as_text=True)
    db.session.refresh(admin)
    assert admin.role == "admin"
    assert not _actions(db, "user.role_change")


def test_admin_cannot_deactivate_self(client, db, login_as) -> None:
    admin = login_as("admin")
    response = post_form(client, f"/staff/users/{admin.id}", _account(role="admin", active=None))
    assert response.status_code == 400
    db.session.refresh(admin)
    assert admin.active
    assert client.get("/staff/users").status_code == 200


def test_deactivating_a_user_ends_their_session(app, client, db, login_as, make_user) -> None:
    user = make_user("viewer")
    theirs = app.test_client()
    login(theirs, user)
    assert theirs.get("/staff/workrooms").status_code == 200

    login_as("admin")
    response = post_form(client, f"/staff/users/{user.id}", _account(role="viewer", active=None))
    assert response.status_code == 302
    db.session.refresh(user)
    assert not user.active
    assert _actions(db, "user.deactivate")

    after = theirs.get("/staff/workrooms")
    assert after.status_code == 302
    assert "/login" in after.headers["Location"]


@pytest.mark.parametrize("username", ["agency_handler7", "li.ming", "wang-fang", "abc", "a" * 60])
def test_every_username_the_form_accepts_can_sign_in(app, client, make_user, username) -> None:
    make_user("viewer", username=username)
    login(client, username)
    login(app.test_client(), username.upper())


def test_edit_page_offers_a_password_reset(client, login_as, make_user) -> None:
    user = make_user("viewer")
    login_as("admin")
    page = client.get(f"/staff/users/{user.id}").get_data(as_text=True)
    assert f"/staff/users/{user.id}/reset-password" in page
    assert csrf_from(page)
