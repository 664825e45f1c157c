"""The roster in a real browser: a liaison creates a rule, generates a month, previews
and publishes it; axe on every roster page, in Chinese at desktop width and in English
on a phone."""

from __future__ import annotations

import datetime as dt

import pytest
from playwright.sync_api import Page, expect

from tests.browser.conftest import DESKTOP, PHONE, axe_report, screenshot, signed_in_page
from tests.conftest import first_unknown_year
from workroom.schedule import deputy_days, periods, reception_rules
from workroom.schedule.views import staff as views

pytestmark = pytest.mark.browser

# Monday 2 March 2026, 08:00 in Shanghai.
NOW = dt.datetime(2026, 3, 2, 0, 0)
# The first year the holidays package does not carry.
UNKNOWN = first_unknown_year()
CHINESE = {"locale": "zh-CN", "extra_http_headers": {"Accept-Language": "zh-CN,zh;q=0.9"}}
ENGLISH = {"locale": "en-US", "extra_http_headers": {"Accept-Language": "en-US,en;q=0.9"}}


@pytest.fixture(autouse=True)
def frozen(monkeypatch):
    monkeypatch.setattr(views, "utcnow", lambda: NOW)


@pytest.fixture
def room(create, make_workroom, make_area, make_deputy):
    workroom = make_workroom(name="下摄司街道代表工作室", area=make_area(name="下摄司街道"))
    names = ["张建国", "李秀英", "王卫东", "刘芳"]

    def build(db):
        for name in names:
            deputy = make_deputy(name=name, phone="13800138000")
            deputy.workrooms.append(workroom)
        return workroom

    return create(build)


def _check(page: Page, reports: list[str], name: str) -> None:
    screenshot(page, name)
    reports.append(axe_report(page))


def test_liaison_creates_a_rule_generates_previews_and_publishes(
    new_context, live_server, make_user, room
):
    liaison = make_user("liaison", workrooms=[room])
    page = new_context(viewport=DESKTOP, **CHINESE).new_page()
    reports: list[str] = []
    signed_in_page(page, live_server, liaison)

    page.goto(f"{live_server}/staff/workrooms/{room.id}/schedule")
    expect(page.locator("main h1")).to_contain_text("下摄司街道代表工作室")
    _check(page, reports, "schedule-overview-empty")

    page.goto(f"{live_server}/staff/workrooms/{room.id}/rules/new")
    page.click("main form button[type=submit]")
    expect(page.locator(".error-summary")).to_be_visible()
    _check(page, reports, "schedule-rule-errors")
    page.select_option("#kind", "monthly_weekday")
    page.check("#weekdays-2")
    page.check("#nth-1")
    page.check("#nth-3")
    page.fill("#starts_at_time", "09:00")
    page.fill("#ends_at_time", "11:30")
    page.fill("#deputies_needed", "2")
    page.fill("#valid_from", "2026-03-01")
    _check(page, reports, "schedule-rule-form")
    page.click("main form button[type=submit]")
    page.wait_for_url(f"{live_server}/staff/workrooms/{room.id}/schedule")
    expect(page.locator("main table").first).to_contain_text(
        "每月第2、4个星期三 09:00–11:30，2名代表"
    )

    page.click(f"main a[href='/staff/workrooms/{room.id}/generate']")
    expect(page.locator("#start_month")).to_have_value("2026-04")
    _check(page, reports, "schedule-generate")
    page.click("main form button[type=submit]")
    page.wait_for_url(
        f"{live_server}/staff/workrooms/{room.id}/preview?start=2026-04-01&end=2026-04-30"
    )
    rows = page.locator("main table.data").first.locator("tbody tr")
    # The 2nd and 4th Wednesdays of April 2026.
    expect(rows).to_have_count(2)
    expect(rows.first).to_contain_text("2026年4月8日")
    expect(rows.nth(1)).to_contain_text("2026年4月22日")
    _check(page, reports, "schedule-preview")

    page.click("main form.panel button[type=submit]")
    page.wait_for_url(f"{live_server}/staff/workrooms/{room.id}/schedule")
    expect(page.locator(".flash")).to_contain_text("2")
    month = page.locator("main table.data", has_text="2026年4月")
    expect(month.locator("tbody tr")).to_have_count(2)
    expect(month.locator(".tag--ok")).to_have_count(2)
    _check(page, reports, "schedule-overview")

    page.locator("main table.data", has_text="2026年4月").locator("a").first.click()
    expect(page.locator("main h1")).to_contain_text("2026年4月8日")
    _check(page, reports, "schedule-day")

    problems = [r for r in reports if r]
    assert not problems, "\n\n".join(problems)


def test_roster_pages_pass_axe_in_english_on_a_phone(
    new_context, live_server, create, make_user, room
):
    from workroom.schedule.rules import build_rrule

    def build(db):
        reception_rules.create_rule(
            room,
            rrule=build_rrule("weekly", ["WE"]),
            starts_at_time=dt.time(9),
            ends_at_time=dt.time(11, 30),
            deputies_needed=2,
            capacity=20,
            valid_from=dt.date(2026, 1, 1),
            on_non_working_day="next_working_day",
        )
        periods.generate_period(room, dt.date(2026, 4, 1), dt.date(2026, 4, 30), NOW)
        days = periods.publish_days(room, dt.date(2026, 4, 1), dt.date(2026, 4, 30), NOW)
        assignment = days[0].assignments[0]
        deputy_days.request_swap(assignment, "外地出差", NOW)
        return days[0].id, assignment.deputy

    day_id, deputy = create(build)
    liaison = make_user("liaison", workrooms=[room])
    deputy_user = make_user("deputy", deputy=deputy)
    page = new_context(viewport=PHONE, **ENGLISH).new_page()
    reports: list[str] = []
    signed_in_page(page, live_server, liaison)
    for name, path in [
        ("index", "/staff/schedule"),
        ("overview", f"/staff/workrooms/{room.id}/schedule"),
        ("day", f"/staff/days/{day_id}"),
        ("swaps", f"/staff/workrooms/{room.id}/swaps"),
        ("rule", f"/staff/workrooms/{room.id}/rules/new"),
    ]:
        page.goto(f"{live_server}{path}")
        _check(page, reports, f"schedule-{name}-320")

    page.goto(f"{live_server}/staff/workrooms/{room.id}/generate")
    page.fill("#start_month", f"{UNKNOWN - 1}-12")
    page.select_option("#length", "3")
    page.click("main form button[type=submit]")
    expect(page.locator(".cal-warning")).to_contain_text(str(UNKNOWN))
    expect(
        page.get_by_label(f"I have checked the holiday arrangements for {UNKNOWN}")
    ).to_be_visible()
    _check(page, reports, "schedule-generate-warning-320")

    page.goto(f"{live_server}/staff/workrooms/{room.id}/preview?start=2026-04-01&end=2026-04-30")
    _check(page, reports, "schedule-preview-320")

    other = new_context(viewport=PHONE, **ENGLISH).new_page()
    signed_in_page(other, live_server, deputy_user)
    other.goto(f"{live_server}/staff/my-days")
    expect(other.locator("main section.panel").first).to_contain_text("下摄司街道代表工作室")
    _check(other, reports, "schedule-my-days-320")
    # Nothing wider than the screen at 320 px on the deputy's page.
    assert other.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]

    problems = [r for r in reports if r]
    assert not problems, "\n\n".join(problems)
