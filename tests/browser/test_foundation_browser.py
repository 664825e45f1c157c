"""The foundation in a real browser: Chinese sign-in, creating a workroom, and axe on
the first staff pages at desktop and phone widths."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect

from tests.browser.conftest import (
    DESKTOP,
    PHONE,
    axe_check,
    axe_report,
    screenshot,
    signed_in_page,
)

pytestmark = pytest.mark.browser

CHINESE = {"locale": "zh-CN", "extra_http_headers": {"Accept-Language": "zh-CN,zh;q=0.9"}}
ENGLISH = {"locale": "en-US", "extra_http_headers": {"Accept-Language": "en-US,en;q=0.9"}}


def test_admin_signs_in_in_chinese_and_creates_a_workroom(
    new_context, live_server, make_user, make_area
):
    admin = make_user("admin")
    street = make_area(name="下摄司街道")
    page = new_context(viewport=DESKTOP, **CHINESE).new_page()

    page.goto(f"{live_server}/login")
    expect(page.locator("html")).to_have_attribute("lang", "zh-Hans-CN")
    signed_in_page(page, live_server, admin)
    expect(page.locator("html")).to_have_attribute("lang", "zh-Hans-CN")

    page.goto(f"{live_server}/staff/workrooms")
    page.click("main a[href='/staff/workrooms/new']")
    page.wait_for_url(f"{live_server}/staff/workrooms/new")
    page.fill("#name", "下摄司街道代表工作室")
    page.fill("#slug", "xiasheshi")
    page.select_option("#area_id", label=street.full_name)
    page.fill("#liaison_hours", "09:00-12:00，14:30-17:30")
    page.click("main form button[type=submit]")
    expect(page.locator("main h1")).to_contain_text("下摄司街道代表工作室")
    axe_check(page)

    page.goto(f"{live_server}/staff/workrooms")
    row = page.locator("table.data tbody tr", has_text="下摄司街道代表工作室")
    expect(row).to_have_count(1)
    expect(row).to_contain_text(street.full_name)
    expect(row).to_contain_text("09:00-12:00,14:30-17:30")


@pytest.mark.parametrize("language", ["zh", "en"])
@pytest.mark.parametrize("viewport", [DESKTOP, PHONE], ids=["1366", "320"])
def test_first_pages_pass_axe(
    new_context, live_server, create, make_user, make_workroom, make_area, viewport, language
):
    from workroom.places.directory import create_workroom

    admin = make_user("admin")
    make_workroom(name="下摄司街道代表工作室", area=make_area(name="下摄司街道"))
    page = new_context(viewport=viewport, **(CHINESE if language == "zh" else ENGLISH)).new_page()
    suffix = f"{viewport['width']}-{language}"
    reports: list[str] = []

    def check(name: str) -> None:
        screenshot(page, f"{name}-{suffix}")
        reports.append(axe_report(page))

    page.goto(f"{live_server}/login")
    check("login")
    page.click("form[name=login_user_form] button[type=submit]")
    expect(page.locator(".error-summary")).to_be_visible()
    check("login-errors")

    signed_in_page(page, live_server, admin)
    check("staff-home")
    create(
        lambda db: create_workroom(
            name="<b>雨湖区</b>城正街社区代表联络站",
            slug="chengzhengjie",
            area=make_area(name="城正街社区", level="community"),
            address="雨湖区韶山西路 1 号",
        )
    )
    page.goto(f"{live_server}/staff/workrooms")
    expect(page.locator("table.data tbody tr")).to_have_count(2)
    check("workrooms")
    page.goto(f"{live_server}/staff/workrooms/new")
    check("workroom-new")
    _submit_empty_workroom(page)
    check("workroom-new-errors")

    violations = [report for report in reports if report]
    assert not violations, "\n\n".join(violations)


def _submit_empty_workroom(page: Page) -> None:
    page.click("main form button[type=submit]")
    expect(page.locator("#name")).to_have_attribute("aria-invalid", "true")
