"""The queue console and the display board in a real browser: a liaison calls, starts and
finishes a visit and fills in its record; the board follows without reloading; axe on
both at desktop and phone widths."""

from __future__ import annotations

import datetime as dt

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import PHONE, axe_report, screenshot, signed_in_page
from workroom.visits.views import public as board_module
from workroom.visits.views import staff as views_module

pytestmark = pytest.mark.browser

# Wednesday 2 December 2026, 10:00 in Xiangtan.
NOW = dt.datetime(2026, 12, 2, 2, 0)
TODAY = dt.date(2026, 12, 2)
WIDE = {"width": 1280, "height": 800}
ENGLISH = {"locale": "en-US", "extra_http_headers": {"Accept-Language": "en-US,en;q=0.9"}}


@pytest.fixture
def clock(monkeypatch):
    """The live server sees NOW as the current time."""
    monkeypatch.setattr(views_module, "utcnow", lambda: NOW)
    monkeypatch.setattr(board_module, "utcnow", lambda: NOW)


@pytest.fixture
def queue_room(create, make_user, clock):
    """A workroom receiving today, two deputies (one arrived) and three waiting tickets."""

    def build(db):
        from workroom.people.models import Deputy
        from workroom.places.models import Area, Workroom
        from workroom.schedule.models import Assignment, ReceptionDay
        from workroom.visits.models import DutyAttendance, Visit

        city = Area(name="湘潭市", level="city")
        district = Area(name="岳塘区", level="district", parent=city)
        street = Area(name="下摄司街道", level="street", parent=district)
        workroom = Workroom(
            name="下摄司街道代表工作室", slug="xiasheshi", area=street, liaison_hours="09:00-12:00"
        )
        wang = Deputy(name="王建国", level="county", workrooms=[workroom])
        li = Deputy(name="李丽", level="county", workrooms=[workroom])
        day = ReceptionDay(
            workroom=workroom,
            day=TODAY,
            starts_at=NOW - dt.timedelta(hours=1),
            ends_at=NOW + dt.timedelta(hours=2),
            deputies_needed=2,
            status="published",
            published_at=NOW - dt.timedelta(days=7),
            assignments=[Assignment(deputy=wang), Assignment(deputy=li)],
        )
        db.session.add_all([workroom, wang, li, day])
        db.session.flush()
        db.session.add(DutyAttendance(reception_day_id=day.id, deputy_id=wang.id, signed_in_at=NOW))
        for n in (1, 2, 3):
            db.session.add(
                Visit(
                    workroom_id=workroom.id,
                    channel="kiosk",
                    kind="checkin",
                    visitor_name=f"访客{n}",
                    phone=f"1380013800{n}",
                    description="小区电梯经常停运",
                    receipt_code=f"BR{n:06d}",
                    ticket_date=TODAY,
                    ticket_number=n,
                    ticket_label=f"{n:03d}",
                    status="waiting",
                    arrived_at=NOW - dt.timedelta(minutes=40 - n),
                )
            )
        return workroom.id

    workroom_id = create(build)
    from workroom.places.models import Workroom

    workroom = create(lambda db: db.session.get(Workroom, workroom_id))
    return {"workroom_id": workroom_id, "liaison": make_user("liaison", workrooms=[workroom])}


def test_liaison_calls_starts_finishes_and_records_a_visit(new_context, live_server, queue_room):
    page = new_context(viewport=WIDE, **ENGLISH).new_page()
    signed_in_page(page, live_server, queue_room["liaison"])
    console = f"{live_server}/staff/workrooms/{queue_room['workroom_id']}/queue"
    page.goto(console)
    expect(page.locator("main h1")).to_contain_text("下摄司街道代表工作室")
    expect(page.locator("table[aria-labelledby=waiting-heading] tbody tr")).to_have_count(3)
    reports = [axe_report(page)]
    screenshot(page, "console-1280")

    page.select_option("#call-for", label="Deputy 王建国")
    page.click("form[action$='/queue/call'] button[type=submit]")
    serving = page.locator("table[aria-labelledby=serving-heading] tbody tr")
    expect(serving).to_have_count(1)
    expect(serving).to_contain_text("001")
    expect(serving).to_contain_text("王建国")
    reports.append(axe_report(page))

    page.click("form[action$='/start'] button[type=submit]")
    expect(serving).to_contain_text("Being received")
    page.click("form[action$='/finish'] button[type=submit]")
    expect(page.locator("main h1")).to_contain_text("001")
    page.fill("#summary", "电梯经常停运，建议督促物业整改")
    page.select_option("#outcome", "suggestion")
    page.click("main form button[type=submit]:has-text('Save the record')")
    expect(page.locator(".flash")).to_contain_text("Record saved.")
    expect(page.locator("#summary")).to_have_value("电梯经常停运，建议督促物业整改")
    expect(page.locator("main")).to_contain_text("138****8001")
    expect(page.locator("main")).not_to_contain_text("13800138001")
    reports.append(axe_report(page))
    screenshot(page, "record-1280")

    page.click("form[action$='/reveal'] button[type=submit]")
    expect(page.locator(".secret code")).to_have_text("13800138001")

    page.goto(console)
    closed = page.locator("table[aria-labelledby=closed-heading] tbody tr")
    expect(closed).to_contain_text("Suggestion to be raised")
    violations = [r for r in reports if r]
    assert not violations, "\n\n".join(violations)


@pytest.mark.parametrize("viewport", [WIDE, PHONE], ids=["1280", "320"])
def test_console_and_board_pass_axe(new_context, live_server, queue_room, viewport):
    page = new_context(viewport=viewport).new_page()
    signed_in_page(page, live_server, queue_room["liaison"])
    page.goto(f"{live_server}/staff/workrooms/{queue_room['workroom_id']}/queue")
    page.click("form[action$='/queue/call'] button[type=submit]")
    expect(page.locator("table[aria-labelledby=serving-heading] tbody tr")).to_have_count(1)
    reports = [axe_report(page)]
    screenshot(page, f"console-{viewport['width']}")

    page.goto(f"{live_server}/w/xiasheshi/board")
    expect(page.locator("#board-ticket")).to_have_text("001")
    reports.append(axe_report(page))
    screenshot(page, f"board-{viewport['width']}")
    box = page.locator("#board-sound").bounding_box()
    assert box and box["width"] >= 44 and box["height"] >= 44
    violations = [r for r in reports if r]
    assert not violations, "\n\n".join(violations)


def test_board_follows_calls_without_reloading_and_keeps_no_personal_data(
    new_context, live_server, queue_room, create
):
    page = new_context(viewport={"width": 1920, "height": 1080}, **ENGLISH).new_page()
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.goto(f"{live_server}/w/xiasheshi/board")
    expect(page.locator("#board-ticket")).to_have_text("—")
    expect(page.locator("#board-next li")).to_have_count(3)
    sound = page.locator("#board-sound")
    sound.click()
    expect(sound).to_have_attribute("aria-pressed", "true")
    expect(sound).to_have_text("Sound on")
    page.evaluate("window.boardLoaded = true")

    def call(db):
        from workroom.auth.models import User
        from workroom.places.models import Workroom
        from workroom.visits.queue import call_next

        workroom = db.session.get(Workroom, queue_room["workroom_id"])
        call_next(workroom, db.session.get(User, queue_room["liaison"].id), NOW)

    create(call)
    expect(page.locator("#board-ticket")).to_have_text("001", timeout=8000)
    expect(page.locator("#board-to")).to_have_text("Please go to the liaison")
    expect(page.locator("#board-next li")).to_have_count(2)
    assert page.evaluate("window.boardLoaded") is True, "the page was not reloaded"
    screenshot(page, "board-1920")
    content = page.content()
    for secret in ("访客", "1380013800", "电梯", "BR0000"):
        assert secret not in content
    assert errors == []


def test_an_idle_console_refreshes_itself_to_show_new_check_ins(
    app, new_context, live_server, queue_room, create
):
    app.config["CONSOLE_REFRESH_SECONDS"] = 1
    page = new_context(viewport=WIDE, **ENGLISH).new_page()
    signed_in_page(page, live_server, queue_room["liaison"])
    page.goto(f"{live_server}/staff/workrooms/{queue_room['workroom_id']}/queue")
    expect(page.locator("#console-refresh-box")).to_be_checked()
    rows = page.locator("table[aria-labelledby=waiting-heading] tbody tr")
    expect(rows).to_have_count(3)

    def check_in(db):
        from workroom.visits.models import Visit

        db.session.add(
            Visit(
                workroom_id=queue_room["workroom_id"],
                channel="kiosk",
                kind="checkin",
                receipt_code="BR000004",
                ticket_date=TODAY,
                ticket_number=4,
                ticket_label="004",
                status="waiting",
                arrived_at=NOW,
            )
        )

    create(check_in)
    expect(rows).to_have_count(4, timeout=12000)
