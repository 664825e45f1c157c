"""The health check answers for the load balancer and the office PC's watchdog."""

from __future__ import annotations

import time

from tests.conftest import base_config
from workroom import create_app

UNREACHABLE = "postgresql+psycopg://postgres@127.0.0.1:1/none"


def test_health_reports_the_database(client) -> None:
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.is_json
    assert response.get_json()["database"] == "ok"


def test_health_needs_no_sign_in_and_sets_no_session(client) -> None:
    response = client.get("/healthz")
    assert response.status_code == 200
    assert not [c for c in response.headers.getlist("Set-Cookie") if c.startswith("session=")]


def test_health_answers_503_when_the_database_is_unreachable(tmp_path) -> None:
    config = base_config(tmp_path, UNREACHABLE)
    config["SQLALCHEMY_ENGINE_OPTIONS"] = {
        "pool_pre_ping": True,
        "connect_args": {"connect_timeout": 2},
    }
    app = create_app(config)
    started = time.monotonic()
    response = app.test_client().get("/healthz")
    assert time.monotonic() - started < 10
    assert response.status_code == 503
    assert response.is_json
    assert response.get_json()["database"] != "ok"
