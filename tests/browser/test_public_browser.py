"""The public schedule in a real browser: the workroom page at desktop and phone widths,
the printable A4 notice, a deputy's reply page and the feed link page, checked with axe."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import PHONE, axe_check, screenshot, signed_in_page
from tests.test_public_schedule import NOW, add_day
from workroom.schedule.tokens import make_assignment_token
from workroom.schedule.views import public

pytestmark = pytest.mark.browser

DESKTOP = {"width": 1280, "height": 800}
CHINESE = {"locale": "zh-CN", "extra_http_headers": {"Accept-Language": "zh-CN,zh;q=0.9"}}


@pytest.fixture(autouse=True)
def frozen(monkeypatch):
    monkeypatch.setattr(public, "utcnow", lambda: NOW)


@pytest.fixture
def schedule(create, make_workroom, make_area, make_deputy):
    room = make_workroom(
        name="下摄司街道代表工作室",
        slug="xiasheshi",
        address="湘潭市岳塘区下摄司街道建设路12号",
        phone="073158581234",
        area=make_area(name="下摄司街道"),
    )
    zhang = make_deputy(name="张建国", level="municipal", sector="个体工商户")
    li = make_deputy(name="李秀英", level="county", sector="中学教师")
    wang = make_deputy(name="王卫东", level="township", sector="社区卫生服务中心")

    def build(db):
        days = [
            add_day(db, room, dt.date(2026, 3, 4), [zhang, li]),
            add_day(
                db,
                room,
                dt.date(2026, 3, 11),
                [li, wang],
                status="cancelled",
                cancel_reason="代表参加区人代会",
            ),
            add_day(db, room, dt.date(2026, 3, 18), [wang, zhang], start=(14, 30), end=(17, 0)),
        ]
        return {"room": room, "days": days, "zhang": zhang}

    return create(build)


@pytest.mark.parametrize("viewport", [DESKTOP, PHONE], ids=["1280", "320"])
def test_public_page_and_notice_pass_axe(new_context, live_server, schedule, viewport):
    page = new_context(viewport=viewport, **CHINESE).new_page()
    width = viewport["width"]

    page.goto(f"{live_server}/w/xiasheshi")
    expect(page.locator("html")).to_have_attribute("lang", "zh-Hans-CN")
    expect(page.locator("main h1")).to_have_text("下摄司街道代表工作室")
    expect(page.locator(".pub-day")).to_have_count(3)
    expect(page.locator(".pub-day--cancelled")).to_contain_text("代表参加区人代会")
    expect(page.locator(".site-nav")).to_have_count(0)
    qr = page.locator("img.pub-qr__image")
    expect(qr).to_be_visible()
    assert page.evaluate("document.querySelector('img.pub-qr__image').naturalWidth") > 0
    # Nothing wider than the screen at 320 px.
    assert page.evaluate("document.documentElement.scrollWidth") <= width
    screenshot(page, f"public-workroom-{width}")
    axe_check(page)

    page.click("text=English")
    expect(page.locator("html")).to_have_attribute("lang", "en")
    expect(page).to_have_url(f"{live_server}/w/xiasheshi")
    axe_check(page)
    page.click("text=中文")

    page.goto(f"{live_server}/w")
    page.click("text=下摄司街道代表工作室")
    expect(page).to_have_url(f"{live_server}/w/xiasheshi")
    page.goto(f"{live_server}/w")
    axe_check(page)

    page.goto(f"{live_server}/w/xiasheshi/notice")
    expect(page.locator(".pub-notice__when")).to_contain_text("09:00–11:30")
    expect(page.locator(".pub-notice__deputies li")).to_have_count(2)
    assert page.evaluate("document.documentElement.scrollWidth") <= width
    screenshot(page, f"public-notice-{width}")
    axe_check(page)


def test_notice_prints_on_one_a4_page_without_the_site_chrome(new_context, live_server, schedule):
    # A4 at 96 dpi.
    page = new_context(viewport={"width": 794, "height": 1123}, **CHINESE).new_page()
    page.goto(f"{live_server}/w/xiasheshi/notice")
    page.emulate_media(media="print")
    screenshot(page, "public-notice-print")
    expect(page.locator(".site-header")).to_be_hidden()
    expect(page.locator(".site-footer")).to_be_hidden()
    expect(page.locator(".pub-notice__help")).to_be_hidden()
    expect(page.locator(".pub-notice__qr")).to_be_visible()
    pdf = page.pdf(prefer_css_page_size=True)
    pages = re.search(rb"/Type\s*/Pages\b[^>]*?/Count\s+(\d+)", pdf, re.S)
    assert pages and int(pages.group(1)) == 1


def test_reply_page_and_feed_link_page_pass_axe(new_context, live_server, schedule, make_user):
    deputy_user = make_user("deputy", deputy=schedule["zhang"])
    day = schedule["days"][0]
    token = make_assignment_token(day.assignments[0].id, "confirm")
    page = new_context(viewport=PHONE, **CHINESE).new_page()
    page.goto(f"{live_server}/r/{token}")
    expect(page.locator("main h1")).to_be_visible()
    screenshot(page, "public-respond-320")
    axe_check(page)
    page.click("main form button[type=submit]")
    expect(page.locator(".flash")).to_be_visible()
    axe_check(page)

    page = new_context(viewport=DESKTOP, **CHINESE).new_page()
    signed_in_page(page, live_server, deputy_user)
    page.goto(f"{live_server}/staff/deputies/{schedule['zhang'].id}/feed")
    axe_check(page)
    page.click("main button[value=issue]")
    expect(page.locator("code.pub-feed-url")).to_contain_text("/feeds/deputy/")
    screenshot(page, "public-feed-link")
    axe_check(page)
