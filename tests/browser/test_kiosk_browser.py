"""The citizens' check-in in a real browser at an origin that is not a secure context
(plain HTTP on a LAN host name, as in a workroom): pairing, the flow, offline check-ins
synced once, the idle reset, messages outside reception hours, a revoked kiosk, axe and
target sizes."""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Callable, Iterator
from typing import Any

import pytest
import sqlalchemy as sa
from playwright.sync_api import Browser, Page, expect

from tests.browser.conftest import (
    CHROMIUM,
    CHROMIUM_ARGS,
    DESKTOP,
    axe_report,
    screenshot,
    signed_in_page,
)
from workroom.clock import local_date, utcnow
from workroom.visits import kiosk_auth
from workroom.visits.models import Kiosk, Visit

pytestmark = pytest.mark.browser

LAN_HOST = "workroom.test"
TABLET = {"width": 1280, "height": 800}
NARROW = {"width": 320, "height": 640}
QUEUE_KEY = "workroom.checkin.queue"
MIN_TARGET = 44


@pytest.fixture(scope="module")
def lan_browser(playwright: Any) -> Iterator[Browser]:
    """Chromium resolving workroom.test to this machine: http://workroom.test is not a
    secure context, as a workroom's LAN address is not."""
    browser = playwright.chromium.launch(
        executable_path=CHROMIUM,
        args=[*CHROMIUM_ARGS, f"--host-resolver-rules=MAP {LAN_HOST} 127.0.0.1"],
    )
    yield browser
    browser.close()


@pytest.fixture
def lan(live_server: str) -> str:
    return live_server.replace("127.0.0.1", LAN_HOST)


@pytest.fixture
def new_page(lan_browser: Browser, live_server: str) -> Iterator[Callable[..., Page]]:
    # Depends on live_server so the pages close before the server stops.
    contexts = []

    def make(viewport: dict[str, int] = TABLET, **kw: Any) -> Page:
        context = lan_browser.new_context(
            viewport=viewport,
            locale="zh-CN",
            extra_http_headers={"Accept-Language": "zh-CN,zh;q=0.9"},
            **kw,
        )
        contexts.append(context)
        return context.new_page()

    yield make
    for context in contexts:
        context.close()


@pytest.fixture
def receiving_workroom(create, make_workroom, make_deputy):
    """A workroom holding a published reception day right now, whatever day it is."""
    from workroom.schedule.models import Assignment, ReceptionDay

    room = make_workroom(slug="xiasheshi", name="下摄司街道代表工作室", liaison_hours="")
    deputy = make_deputy(name="王红梅")

    def build(db: Any) -> Any:
        now = utcnow()
        day = ReceptionDay(
            workroom_id=room.id,
            day=local_date(now),
            starts_at=now - dt.timedelta(hours=1),
            ends_at=now + dt.timedelta(hours=3),
            deputies_needed=1,
            status="published",
            published_at=now,
        )
        day.assignments.append(Assignment(deputy_id=deputy.id, status="confirmed"))
        db.session.add(day)
        return room

    return create(build)


@pytest.fixture
def closed_workroom(make_workroom):
    """No liaison hours and no reception day: never receiving."""
    return make_workroom(slug="chengzhengjie", name="城正街社区代表联络站", liaison_hours="")


def register(create: Callable[..., Any], room: Any) -> tuple[Kiosk, str]:
    return create(lambda db: kiosk_auth.register_kiosk(room, "入口平板", utcnow()))


def pair(page: Page, lan: str, code: str) -> None:
    """Pair the tablet through the pages, as staff would."""
    page.goto(f"{lan}/kiosk")
    page.wait_for_url(f"{lan}/kiosk/pair")
    page.fill("#code", code)
    page.click("main form button[type=submit]")
    page.wait_for_url(f"{lan}/kiosk")
    expect(page.locator("#checkin")).to_have_attribute("data-channel", "kiosk")


def paired_kiosk(new_page, create, lan: str, room: Any, **kw: Any) -> tuple[Page, Kiosk]:
    kiosk, code = register(create, room)
    page = new_page(**kw)
    pair(page, lan, code)
    assert page.evaluate("window.isSecureContext") is False
    return page, kiosk


def step(page: Page, name: str) -> Any:
    return page.locator(f'[data-step="{name}"]')


def check_in(
    page: Page,
    *,
    topic: str = "城乡建设",
    name: str | None = None,
    phone: str | None = None,
    description: str | None = None,
) -> int:
    """Walk through the flow like a visitor; returns the number of taps."""
    taps = 0

    def tap(locator: Any) -> None:
        nonlocal taps
        locator.click()
        taps += 1

    tap(page.get_by_role("button", name=topic))
    for field, text in (("name", name), ("phone", phone), ("description", description)):
        expect(step(page, field)).to_be_visible()
        if text is None:
            tap(step(page, field).locator("[data-skip]"))
        else:
            page.fill(f"#checkin-{field}", text)
            tap(step(page, field).locator("[data-next]"))
    expect(step(page, "privacy")).to_be_visible()
    tap(page.locator("[data-agree]"))
    return taps


def stored_visits(db: Any) -> list[Visit]:
    db.session.rollback()  # see what the server committed since
    return list(db.session.scalars(sa.select(Visit).order_by(Visit.id)))


def queue_length(page: Page) -> int:
    return page.evaluate(f"(JSON.parse(localStorage.getItem('{QUEUE_KEY}') || '[]')).length")


def wait_for_empty_queue(page: Page, timeout: float = 10.0) -> None:
    # Polled from here: the page's CSP forbids the eval behind wait_for_function.
    deadline = time.monotonic() + timeout
    while queue_length(page):
        assert time.monotonic() < deadline, "the offline queue was not sent"
        page.wait_for_timeout(100)


# The flow


def test_kiosk_checks_a_visitor_in_with_at_most_five_taps(
    new_page, create, db, lan, receiving_workroom
):
    page, kiosk = paired_kiosk(new_page, create, lan, receiving_workroom)
    expect(page.locator("html")).to_have_attribute("lang", "zh-Hans-CN")
    taps = check_in(page, name="李秀英", phone="138 0013 8000", description="楼道灯坏了")
    assert taps <= 5

    done = step(page, "done")
    expect(done).to_be_visible()
    expect(done.locator('[data-slot="ticket"]')).to_have_text("001")
    expect(done.locator('[data-slot="on-duty"]')).to_have_text("王红梅")
    expect(done.locator('[data-slot="position"]')).to_have_text("0")
    receipt = done.locator('[data-slot="receipt"]').inner_text()
    assert len(receipt) == 8
    screenshot(page, "kiosk-done-1280")

    [visit] = stored_visits(db)
    assert (visit.channel, visit.kiosk_id, visit.ticket_label) == ("kiosk", kiosk.id, "001")
    assert (visit.visitor_name, visit.phone, visit.description) == (
        "李秀英",
        "13800138000",
        "楼道灯坏了",
    )
    assert visit.receipt_code == receipt and visit.consent_version


def test_wrong_mobile_number_is_explained_before_sending(
    new_page, create, db, lan, receiving_workroom
):
    page, _ = paired_kiosk(new_page, create, lan, receiving_workroom)
    page.get_by_role("button", name="教育").click()
    step(page, "name").locator("[data-skip]").click()
    page.fill("#checkin-phone", "12345")
    step(page, "phone").locator("[data-next]").click()
    error = page.locator("#checkin-phone-error")
    expect(error).to_be_visible()
    expect(page.locator("#checkin-phone")).to_have_attribute("aria-invalid", "true")
    # Full-width digits and +86 are fine.
    page.fill("#checkin-phone", "+86 １３８-００１３-８０００")
    step(page, "phone").locator("[data-next]").click()
    expect(step(page, "description")).to_be_visible()
    step(page, "description").locator("[data-back]").click()
    expect(step(page, "phone")).to_be_visible()
    expect(page.locator("#checkin-phone")).to_have_value("+86 １３８-００１３-８０００")
    assert stored_visits(db) == []


@pytest.mark.parametrize("channel", ["kiosk", "phone"])
def test_offline_checkin_is_kept_and_synced_exactly_once(
    new_page, create, db, lan, receiving_workroom, channel
):
    if channel == "kiosk":
        page, kiosk = paired_kiosk(new_page, create, lan, receiving_workroom)
        prefix = kiosk.prefix
    else:
        page = new_page(viewport=NARROW)
        page.goto(f"{lan}/w/{receiving_workroom.slug}/checkin")
        assert page.evaluate("window.isSecureContext") is False
        prefix = None

    page.context.set_offline(True)
    check_in(page, topic="生态环境", name="张建国", phone="13912345678")
    offline = step(page, "offline")
    expect(offline).to_be_visible()
    ticket = offline.locator('[data-slot="provisional"]').inner_text()
    if prefix:
        assert ticket == f"{prefix}-001"
    else:
        assert ticket.startswith("P") and ticket.endswith("-001") and len(ticket) == 7
    screenshot(page, f"{channel}-offline")
    assert queue_length(page) == 1
    assert stored_visits(db) == []
    item = page.evaluate(f"JSON.parse(localStorage.getItem('{QUEUE_KEY}'))[0]")
    assert len(item["key"]) == 32 and item["body"]["provisional_ticket"] == ticket

    # The visitor finishes; the queue stays, out of sight.
    offline.locator("[data-finish]").click()
    expect(step(page, "purpose")).to_be_visible()
    assert "张建国" not in page.content() and ticket not in page.content()

    page.context.set_offline(False)
    wait_for_empty_queue(page)
    [visit] = stored_visits(db)
    assert visit.ticket_label == ticket
    assert visit.channel == channel and visit.visitor_name == "张建国"
    assert visit.idempotency_key == item["key"]

    # A replay of the same queued request is acknowledged without a second visit.
    page.evaluate(
        "([key, item]) => { localStorage.setItem(key, JSON.stringify([item]));"
        " window.dispatchEvent(new Event('online')); }",
        [QUEUE_KEY, item],
    )
    wait_for_empty_queue(page)
    assert len(stored_visits(db)) == 1


def test_idle_kiosk_warns_then_forgets_the_visitor(
    app, new_page, create, db, lan, receiving_workroom
):
    app.config["KIOSK_IDLE_SECONDS"] = 5
    app.config["KIOSK_IDLE_WARNING_SECONDS"] = 20
    kiosk, code = register(create, receiving_workroom)
    page = new_page()
    page.clock.install()
    pair(page, lan, code)
    start_url = page.url
    history_length = page.evaluate("history.length")
    banner = page.locator("#idle-warning")

    page.get_by_role("button", name="医疗卫生").click()
    page.fill("#checkin-name", "赵桂兰")
    step(page, "name").locator("[data-next]").click()
    page.fill("#checkin-phone", "13700001111")
    page.clock.run_for(4_500)
    expect(banner).to_be_hidden()
    page.clock.run_for(1_000)
    expect(banner).to_be_visible()
    expect(banner.get_by_role("button")).to_be_visible()
    screenshot(page, "kiosk-idle-warning")
    # At least 20 seconds to answer: 19 seconds after the warning, nothing is lost.
    page.clock.run_for(18_500)
    expect(banner).to_be_visible()
    banner.get_by_role("button").click()
    expect(banner).to_be_hidden()
    expect(page.locator("#checkin-phone")).to_have_value("13700001111")

    step(page, "phone").locator("[data-next]").click()
    page.fill("#checkin-description", "看病报销慢")
    step(page, "description").locator("[data-next]").click()
    page.locator("[data-agree]").click()
    expect(step(page, "done")).to_be_visible()
    receipt = step(page, "done").locator('[data-slot="receipt"]').inner_text()

    page.clock.run_for(6_000)
    expect(banner).to_be_visible()
    page.clock.run_for(21_000)
    expect(step(page, "purpose")).to_be_visible()
    expect(banner).to_be_hidden()

    html = page.content()
    for trace in ("赵桂兰", "13700001111", "看病报销慢", receipt):
        assert trace not in html
    values = page.evaluate(
        "Array.from(document.querySelectorAll('input:not([type=hidden]), textarea'))"
        ".map(e => e.value)"
    )
    assert values and all(v == "" for v in values)
    assert page.locator('[aria-pressed="true"]').count() == 0
    assert page.url == start_url
    assert page.evaluate("history.length") == history_length
    assert page.evaluate("history.state") is None
    assert page.evaluate("sessionStorage.length") == 0
    storage = page.evaluate("JSON.stringify(Object.assign({}, localStorage))")
    for trace in ("赵桂兰", "13700001111", "看病报销慢", receipt):
        assert trace not in storage
    assert len(stored_visits(db)) == 1


def test_language_switch_leaves_no_history_and_the_reset_returns_to_chinese(
    app, new_page, create, lan, receiving_workroom
):
    app.config["KIOSK_IDLE_SECONDS"] = 5
    kiosk, code = register(create, receiving_workroom)
    page = new_page()
    page.clock.install()
    pair(page, lan, code)
    history_length = page.evaluate("history.length")
    page.get_by_role("link", name="English").click()
    page.wait_for_url(f"{lan}/kiosk?lang=en")
    expect(page.locator("html")).to_have_attribute("lang", "en")
    expect(page.get_by_role("button", name="Education")).to_be_visible()
    assert page.evaluate("history.length") == history_length

    page.clock.run_for(6_000)
    expect(page.locator("#idle-warning")).to_be_visible()
    # The default warning lasts 30 seconds.
    page.clock.run_for(31_000)
    page.wait_for_url(f"{lan}/kiosk")
    expect(page.locator("html")).to_have_attribute("lang", "zh-Hans-CN")
    expect(page.get_by_role("button", name="教育")).to_be_visible()
    assert page.evaluate("history.length") == history_length


def test_outside_reception_hours_the_visitor_leaves_a_message(new_page, db, lan, closed_workroom):
    page = new_page(viewport=NARROW)
    page.goto(f"{lan}/w/{closed_workroom.slug}/checkin")
    assert page.evaluate("window.isSecureContext") is False
    expect(page.locator(".closed-notice")).to_be_visible()
    check_in(page, topic="交通出行", phone="13600006666", description="公交站台缺少遮雨棚")
    message = step(page, "message")
    expect(message).to_be_visible()
    receipt = message.locator('[data-slot="receipt"]').inner_text()
    screenshot(page, "phone-message")

    [visit] = stored_visits(db)
    assert visit.kind == "message" and visit.ticket_label is None
    assert visit.channel == "phone" and visit.receipt_code == receipt
    assert visit.wants_reply


def test_revoked_kiosk_goes_back_to_pairing(new_page, create, db, lan, receiving_workroom):
    page, kiosk = paired_kiosk(new_page, create, lan, receiving_workroom)

    def revoke(db: Any) -> None:
        kiosk_auth.revoke_kiosk(db.session.get(Kiosk, kiosk.id), utcnow())

    create(revoke)
    check_in(page)
    page.wait_for_url(f"{lan}/kiosk/pair?revoked=1")
    expect(page.locator("main .notice")).to_be_visible()
    assert stored_visits(db) == []
    page.goto(f"{lan}/kiosk")
    page.wait_for_url(f"{lan}/kiosk/pair")


# Accessibility and target sizes


def small_targets(page: Page) -> list[str]:
    """Visible controls on the page smaller than 44 × 44 CSS pixels."""
    return page.evaluate(
        """min => Array.from(document.querySelectorAll(
              'main button, main a, main input, main textarea, main select, .header-tools a,'
              + ' .header-tools button'))
            .filter(e => e.offsetParent !== null && e.type !== 'hidden')
            .map(e => [e, e.getBoundingClientRect()])
            .filter(([e, r]) => r.width < min || r.height < min)
            .map(([e, r]) => `${e.outerHTML.slice(0, 80)} ${r.width}x${r.height}`)""",
        MIN_TARGET,
    )


@pytest.mark.parametrize("viewport", [TABLET, NARROW], ids=["1280", "320"])
def test_check_in_pages_pass_axe_with_large_targets(
    new_page, create, db, lan, receiving_workroom, closed_workroom, viewport
):
    width = viewport["width"]
    reports: list[str] = []
    small: list[str] = []

    def check(page: Page, name: str) -> None:
        screenshot(page, f"{name}-{width}")
        reports.append(axe_report(page))
        small.extend(f"{name}: {target}" for target in small_targets(page))

    kiosk, code = register(create, receiving_workroom)
    page = new_page(viewport=viewport)
    page.goto(f"{lan}/kiosk/pair")
    check(page, "kiosk-pair")
    page.fill("#code", "WRONG-CODE")
    page.click("main form button[type=submit]")
    expect(page.locator(".error-summary")).to_be_visible()
    check(page, "kiosk-pair-error")
    page.fill("#code", code)
    page.click("main form button[type=submit]")
    page.wait_for_url(f"{lan}/kiosk")

    check(page, "kiosk-purpose")
    page.get_by_role("button", name="社区治理").click()
    check(page, "kiosk-name")
    step(page, "name").locator("[data-skip]").click()
    page.fill("#checkin-phone", "800")
    step(page, "phone").locator("[data-next]").click()
    expect(page.locator("#checkin-phone-error")).to_be_visible()
    check(page, "kiosk-phone-error")
    page.fill("#checkin-phone", "")
    step(page, "phone").locator("[data-skip]").click()
    check(page, "kiosk-description")
    step(page, "description").locator("[data-skip]").click()
    check(page, "kiosk-privacy")
    page.locator("[data-agree]").click()
    expect(step(page, "done")).to_be_visible()
    check(page, "kiosk-done")

    english = new_page(viewport=viewport)
    english.goto(f"{lan}/w/{closed_workroom.slug}/checkin?lang=en")
    check(english, "phone-closed-en")
    check_in(english, topic="Other")
    expect(step(english, "message")).to_be_visible()
    check(english, "phone-message-en")

    violations = [report for report in reports if report]
    assert not violations, "\n\n".join(violations)
    assert not small, "\n".join(small)


def test_kiosk_admin_pages_pass_axe(new_context, live_server, make_user, make_workroom):
    admin = make_user("admin")
    room = make_workroom(name="下摄司街道代表工作室")
    page = new_context(viewport=DESKTOP, locale="zh-CN").new_page()
    signed_in_page(page, live_server, admin)
    reports: list[str] = []

    def check(name: str) -> None:
        screenshot(page, name)
        reports.append(axe_report(page))

    page.goto(f"{live_server}/staff/kiosks")
    check("kiosks-empty")
    page.click("main a[href='/staff/kiosks/new']")
    check("kiosk-new")
    page.click("main form button[type=submit]")
    expect(page.locator(".error-summary")).to_be_visible()
    check("kiosk-new-errors")
    page.fill("#name", "入口平板")
    page.select_option("#workroom_id", label=room.name)
    page.click("main form button[type=submit]")
    code = page.locator("main .secret code").inner_text()
    assert len(code) == 9 and code[4] == "-"
    check("kiosk-pairing-code")

    page.goto(f"{live_server}/staff/kiosks")
    row = page.locator("table.data tbody tr", has_text="入口平板")
    expect(row).to_have_count(1)
    check("kiosks")
    row.locator("form[action$='/revoke'] button").click()
    expect(page.locator(".flash")).to_be_visible()
    expect(row.locator("form")).to_have_count(0)
    check("kiosks-revoked")

    violations = [report for report in reports if report]
    assert not violations, "\n\n".join(violations)
