"""Run several callers at once against the app: the race harness.

Each caller is a signed-in browser that sends one request the moment all are ready.
On SQLite the callers are threads sharing the test's app (SQLite serialises writers
anyway); on PostgreSQL each is a process with its own app, engine and connections,
as two app servers would be. ``race`` answers each caller's status and page, in order.

CSRF tokens are switched off for the callers: the forms' CSRF checks have tests of
their own; here only the state changes race.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import multiprocessing
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import time_machine

from tests.conftest import PASSWORD, POSTGRES_URL, base_config


@dataclass(frozen=True)
class Call:
    """One request: who sends it (None: nobody signed in), where, and what (form fields,
    or JSON)."""

    username: str | None
    url: str
    data: dict[str, Any] = field(default_factory=dict)
    json: dict[str, Any] | None = None
    method: str = "POST"


@dataclass(frozen=True)
class Answer:
    status: int
    text: str


def _sign_in(client: Any, username: str | None) -> None:
    if username is None:
        return
    response = client.post("/login", data={"username": username, "password": PASSWORD})
    assert response.status_code == 302, f"{username} could not sign in"


def _send(client: Any, call: Call) -> Answer:
    response = client.open(call.url, method=call.method, data=call.data or None, json=call.json)
    return Answer(response.status_code, response.get_data(as_text=True))


def _in_threads(app: Any, calls: list[Call], at: dt.datetime | None) -> list[Answer]:
    ready = threading.Barrier(len(calls))
    answers: list[Answer | BaseException | None] = [None] * len(calls)

    def run(index: int) -> None:
        try:
            client = app.test_client()
            _sign_in(client, calls[index].username)
            ready.wait(timeout=60)
            answers[index] = _send(client, calls[index])
        except BaseException as error:  # reported by the test below
            answers[index] = error

    previous = app.config.get("WTF_CSRF_ENABLED", True)
    app.config["WTF_CSRF_ENABLED"] = False
    threads = [threading.Thread(target=run, args=(i,)) for i in range(len(calls))]
    try:
        with time_machine.travel(at, tick=True) if at else contextlib.nullcontext():
            for thread in threads:
                thread.start()
            for thread in threads:
                thread.join(120)
    finally:
        app.config["WTF_CSRF_ENABLED"] = previous
    return [_raised(answer) for answer in answers]


def _in_process(
    config: dict[str, Any], call: Call, at: dt.datetime | None, ready: Any, out: Any, index: int
) -> None:
    """A caller's process: its own app on the same PostgreSQL database."""
    from workroom import create_app

    try:
        app = create_app(config)
        client = app.test_client()
        with time_machine.travel(at, tick=True) if at else contextlib.nullcontext():
            _sign_in(client, call.username)
            ready.wait(timeout=120)
            out.put((index, _send(client, call)))
    except BaseException as error:
        out.put((index, RuntimeError(f"caller {index}: {error!r}")))


def _in_processes(calls: list[Call], at: dt.datetime | None, instance: Path) -> list[Answer]:
    context = multiprocessing.get_context("spawn")
    ready = context.Barrier(len(calls))
    out = context.Queue()
    config = {**base_config(instance, POSTGRES_URL), "WTF_CSRF_ENABLED": False}
    processes = [
        context.Process(target=_in_process, args=(config, call, at, ready, out, i))
        for i, call in enumerate(calls)
    ]
    for process in processes:
        process.start()
    answers: list[Any] = [None] * len(calls)
    for _ in calls:
        index, answer = out.get(timeout=180)
        answers[index] = answer
    for process in processes:
        process.join(30)
    return [_raised(answer) for answer in answers]


def race(
    app: Any,
    calls: list[Call],
    *,
    at: dt.datetime | None = None,
    tmp_path: Path,
) -> list[Answer]:
    """Send ``calls`` at once (the clock at ``at``, ticking); answer them in order.

    The test's pending changes are committed first, so every caller sees them. The
    callers' own apps on PostgreSQL have the suite's base settings.
    """
    from workroom.db import db

    db.session.commit()
    if POSTGRES_URL:
        return _in_processes(calls, at, tmp_path / "callers")
    return _in_threads(app, calls, at)


def statuses(answers: list[Answer]) -> list[int]:
    return sorted(answer.status for answer in answers)


def _raised(answer: Any) -> Answer:
    if isinstance(answer, BaseException):
        raise answer
    assert answer is not None, "a caller did not answer"
    return answer
