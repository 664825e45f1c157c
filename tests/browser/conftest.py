"""Browser harness: the app served by waitress on a free port, driven by Debian's
Chromium through pytest-playwright, and checked with axe."""

from __future__ import annotations

import os
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import Page
from waitress import create_server, wasyncore

from tests.conftest import PASSWORD
from workroom.db import reset_write_intent, set_write_intent, writing

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]
DESKTOP = {"width": 1366, "height": 768}
PHONE = {"width": 320, "height": 640}
SHOTS = Path("/tmp/shots")


@pytest.fixture(scope="session", autouse=True)
def _browser_available() -> None:
    """Skip (or, in CI, fail) when the browser tests cannot run here."""
    if os.environ.get("WORKROOM_TEST_POSTGRES_URL"):
        pytest.skip("browser tests run only in the SQLite pass")
    if not os.access(CHROMIUM, os.X_OK):
        message = f"{CHROMIUM} is missing: apt-get install chromium fonts-noto-cjk"
        if os.environ.get("CI") == "true":
            pytest.fail(message)
        pytest.skip(message)


@pytest.fixture(scope="session")
def base_url() -> None:
    """No base URL: tests build absolute ones from ``live_server``."""
    return None


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args: dict[str, Any]) -> dict[str, Any]:
    # Playwright's own browser downloads are not used: Debian's Chromium is.
    return {**browser_type_launch_args, "executable_path": CHROMIUM, "args": CHROMIUM_ARGS}


@pytest.fixture(autouse=True)
def _test_reads_take_no_write_lock() -> Iterator[None]:
    """Lazy loads in the test thread begin plain (deferred) SQLite transactions.

    Outside a request every transaction begins with the write lock, and a test that
    reads ``user.username`` would hold it while the live server waits to write.
    """
    token = set_write_intent(False)
    yield
    reset_write_intent(token)


@pytest.fixture
def live_server(app) -> Iterator[str]:
    """The test's app served over HTTP; yields its base URL."""
    server = create_server(app, host="127.0.0.1", port=0, threads=4)
    stop = threading.Event()

    def serve() -> None:
        while not stop.is_set():
            wasyncore.loop(timeout=0.05, map=server._map, count=1)
        # Closed in the loop's own thread, so select() never sees a closed socket;
        # keep-alive connections from Chromium go too.
        server.close()
        server.task_dispatcher.shutdown(cancel_pending=True, timeout=5)
        wasyncore.close_all(server._map)

    thread = threading.Thread(target=serve, name="live-server", daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.effective_port}"
    stop.set()
    thread.join(timeout=10)


@pytest.fixture
def create(db) -> Callable[..., Any]:
    """Run ``build(db)`` inside the test's app context and commit; the live server
    reads the same database. Safe after the browser has changed data: the test's
    read transaction is ended first, so the write starts from the latest state."""

    def run(build: Callable[[Any], Any]) -> Any:
        with writing():
            result = build(db)
            db.session.commit()
        return result

    return run


def signed_in_page(page: Page, live_server: str, user: Any, password: str = PASSWORD) -> Page:
    """Sign ``user`` in through the real sign-in form and land on the staff home."""
    username = getattr(user, "username", user)
    page.goto(f"{live_server}/login")
    page.fill("#username", username)
    page.fill("#password", password)
    page.click("form[name=login_user_form] button[type=submit]")
    page.wait_for_url(f"{live_server}/staff")
    return page


def axe_report(page: Page) -> str:
    """Axe's readable report of the page's violations, or "" when there are none."""
    results = Axe().run(page)
    if results.violations_count == 0:
        return ""
    return f"{page.url}\n{results.generate_report()}"


def axe_check(page: Page) -> None:
    """Fail with a readable list of violations unless axe finds none."""
    report = axe_report(page)
    assert not report, report


def screenshot(page: Page, name: str) -> None:
    """Save a full-page screenshot for people to look at, when WORKROOM_SCREENSHOTS is set."""
    if not os.environ.get("WORKROOM_SCREENSHOTS"):
        return
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=True)
