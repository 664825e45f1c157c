"""Commands an operator runs: create an account, load the demo."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from tests.conftest import IsolatedClient, login
from workroom.auth.accounts import find_user
from workroom.auth.models import User
from workroom.people.models import Agency, Deputy, ProfessionalGroup
from workroom.places.models import Area, Workroom

DEMO_PASSWORD = "demo-password-2026"
DEMO_ACCOUNTS = {
    "admin": "admin",
    "liaison": "liaison",
    "deputy": "deputy",
    "agency1": "agency_handler",
    "agency2": "agency_handler",
}


@pytest.fixture
def app_config(app_config):
    """Messages in English, so the assertions read the source strings."""
    app_config["BABEL_DEFAULT_LOCALE"] = "en"
    return app_config


def _counts(db) -> dict[str, int]:
    return {
        model.__tablename__: db.session.scalar(sa.select(sa.func.count()).select_from(model))
        for model in (Area, Workroom, Deputy, ProfessionalGroup, Agency, User)
    }


def test_create_user_with_workroom(runner, db, make_workroom) -> None:
    workroom = make_workroom(slug="xiasheshi")
    result = runner.invoke(
        args=["create-user", "bob", "--role", "liaison", "--workroom", "xiasheshi"]
    )
    assert result.exit_code == 0, result.output
    assert "Created bob (liaison)." in result.output
    assert "Password: " in result.output
    user = find_user("bob")
    assert user.role == "liaison"
    assert [w.id for w in user.workrooms] == [workroom.id]


def test_created_user_signs_in_with_the_given_password(runner, client, db, make_agency) -> None:
    make_agency(code="yt-ecology")
    result = runner.invoke(
        args=[
            "create-user",
            "handler",
            "--role",
            "agency_handler",
            "--agency",
            "yt-ecology",
            "--password",
            "a-long-password",
        ]
    )
    assert result.exit_code == 0, result.output
    assert "Password:" not in result.output
    login(client, "handler", "a-long-password")
    assert client.get("/staff").status_code == 200


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--role", "superuser"], "Choose one of the roles."),
        (["--role", "liaison"], "A liaison needs at least one workroom."),
        (["--role", "agency_handler"], "An agency handler needs an agency."),
        (["--role", "deputy"], "A deputy account needs the deputy it belongs to."),
        (["--role", "liaison", "--workroom", "nowhere"], "No workroom with slug 'nowhere'."),
        (["--role", "agency_handler", "--agency", "none"], "No agency with code 'none'."),
        (["--role", "deputy", "--deputy", "999999"], "No deputy with id 999999."),
    ],
)
def test_create_user_explains_what_is_wrong(runner, db, args: list[str], message: str) -> None:
    result = runner.invoke(args=["create-user", "bob", *args])
    assert result.exit_code != 0
    assert message in result.output
    assert find_user("bob") is None


def test_create_user_refuses_a_taken_username(runner, db, make_user) -> None:
    make_user("viewer", username="carol")
    result = runner.invoke(args=["create-user", "Carol", "--role", "viewer"])
    assert result.exit_code != 0
    assert "This username is taken." in result.output


def test_create_user_requires_a_role(runner, db) -> None:
    result = runner.invoke(args=["create-user", "bob"])
    assert result.exit_code != 0
    assert "--role" in result.output


def test_seed_demo_loads_the_xiasheshi_workroom(app, runner, db) -> None:
    result = runner.invoke(args=["seed-demo", "--password", DEMO_PASSWORD])
    assert result.exit_code == 0, result.output
    assert DEMO_PASSWORD not in result.output
    workroom = db.session.scalar(sa.select(Workroom).where(Workroom.slug == "xiasheshi"))
    assert workroom.name == "下摄司街道代表工作室"
    deputies = db.session.scalar(sa.select(sa.func.count()).select_from(Deputy))
    assert 90 <= deputies <= 110
    for username, role in DEMO_ACCOUNTS.items():
        assert find_user(username).role == role
        client = IsolatedClient(app, app.response_class)
        login(client, username, DEMO_PASSWORD)
        assert client.get("/staff").status_code == 200, username


def test_seed_demo_twice_adds_nothing(runner, db) -> None:
    assert runner.invoke(args=["seed-demo", "--password", DEMO_PASSWORD]).exit_code == 0
    first = _counts(db)
    again = runner.invoke(args=["seed-demo", "--password", "another-password"])
    assert again.exit_code == 0, again.output
    assert "nothing new" in again.output
    assert _counts(db) == first


def test_seed_demo_without_password_prints_a_generated_one(app, runner, db) -> None:
    result = runner.invoke(args=["seed-demo"])
    assert result.exit_code == 0, result.output
    lines = [line for line in result.output.splitlines() if line.startswith("Demo password")]
    assert len(lines) == 1
    password = lines[0].rsplit(" ", 1)[-1]
    client = IsolatedClient(app, app.response_class)
    login(client, "admin", password)


def test_seed_demo_if_empty_loads_an_empty_database(runner, db) -> None:
    result = runner.invoke(args=["seed-demo-if-empty", "--password", DEMO_PASSWORD])
    assert result.exit_code == 0, result.output
    assert db.session.scalar(sa.select(Workroom).where(Workroom.slug == "xiasheshi"))


def test_seed_demo_if_empty_leaves_a_used_database_alone(runner, db, make_workroom) -> None:
    make_workroom(slug="ours")
    before = _counts(db)
    result = runner.invoke(args=["seed-demo-if-empty", "--password", DEMO_PASSWORD])
    assert result.exit_code == 0, result.output
    assert "demo not loaded" in result.output
    assert _counts(db) == before
    assert db.session.scalar(sa.select(Workroom).where(Workroom.slug == "xiasheshi")) is None
