"""The workroom's public page, its QR code and the printable A4 notice."""

from __future__ import annotations

import datetime as dt
import re
from zoneinfo import ZoneInfo

import pytest

from tests.conftest import csrf_from
from workroom.schedule.models import Assignment, ReceptionDay
from workroom.schedule.views import public

SHANGHAI = ZoneInfo("Asia/Shanghai")
# Monday 2 March 2026, 10:00 in Shanghai.
NOW = dt.datetime(2026, 3, 2, 2, 0)


def utc(day: dt.date, hour: int, minute: int = 0) -> dt.datetime:
    """A local (Shanghai) wall-clock time as the naive UTC the tables store."""
    local = dt.datetime.combine(day, dt.time(hour, minute), tzinfo=SHANGHAI)
    return local.astimezone(dt.UTC).replace(tzinfo=None)


def add_day(
    db,
    workroom,
    day: dt.date,
    deputies=(),
    *,
    status: str = "published",
    start: tuple[int, int] = (9, 0),
    end: tuple[int, int] = (11, 30),
    sequence: int = 0,
    cancel_reason: str = "",
    assignment_status: str = "assigned",
) -> ReceptionDay:
    """A reception day built directly in the tables, with its deputies assigned."""
    row = ReceptionDay(
        workroom_id=workroom.id,
        day=day,
        starts_at=utc(day, *start),
        ends_at=utc(day, *end),
        deputies_needed=max(1, len(deputies)),
        status=status,
        sequence=sequence,
        cancel_reason=cancel_reason,
        published_at=NOW if status != "draft" else None,
    )
    row.assignments = [Assignment(deputy_id=d.id, status=assignment_status) for d in deputies]
    db.session.add(row)
    db.session.commit()
    return row


@pytest.fixture
def frozen(monkeypatch):
    """Public pages see NOW as the current time."""
    monkeypatch.setattr(public, "utcnow", lambda: NOW)
    return NOW


@pytest.fixture
def room(make_workroom, make_area):
    return make_workroom(
        name="下摄司街道代表工作室",
        slug="xiasheshi",
        address="岳塘区下摄司街道建设路12号",
        phone="073158581234",
        area=make_area(name="下摄司街道"),
    )


def test_public_page_shows_published_and_cancelled_days_of_the_next_eight_weeks(
    client, db, frozen, room, make_deputy
):
    zhang = make_deputy(name="张建国", level="municipal", sector="个体工商户", phone="13800138000")
    li = make_deputy(name="李秀英", level="county", sector="教师")
    wang = make_deputy(name="王草稿")
    add_day(db, room, dt.date(2026, 3, 4), [zhang, li])
    add_day(db, room, dt.date(2026, 3, 11), [wang], status="draft")
    add_day(db, room, dt.date(2026, 3, 18), [li], status="cancelled", cancel_reason="区人代会")
    add_day(db, room, dt.date(2026, 4, 26), [zhang])  # the last day of the eighth week
    add_day(db, room, dt.date(2026, 4, 27), [li])  # the first day after it
    add_day(db, room, dt.date(2026, 2, 25), [li])  # past

    response = client.get("/w/xiasheshi")
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert '<html lang="zh-Hans-CN">' in html
    assert "下摄司街道代表工作室" in html and "岳塘区下摄司街道建设路12号" in html
    assert "073158581234" in html and "09:00–12:00, 14:30–17:30" in html
    assert "张建国" in html and "个体工商户" in html and "李秀英" in html and "教师" in html
    assert "09:00–11:30" in html
    assert "王草稿" not in html
    assert "区人代会" in html
    assert "13800138000" not in html and "138****8000" not in html
    assert "2026年4月26日" in html
    assert "2026年4月27日" not in html and "2026年2月25日" not in html
    assert "2026年3月11日" not in html
    cancelled = re.search(r'<li class="pub-day pub-day--cancelled">(.*?)</li>\s*\n', html, re.S)
    assert cancelled and "2026年3月18日" in cancelled.group(1)
    # The staff navigation is not shown to citizens.
    assert 'class="site-nav"' not in html


def test_declined_deputies_are_not_listed(client, db, frozen, room, make_deputy):
    first, second = make_deputy(name="甲代表"), make_deputy(name="乙代表")
    day = add_day(db, room, dt.date(2026, 3, 4), [first])
    day.assignments.append(Assignment(deputy_id=second.id, status="declined"))
    db.session.commit()
    html = client.get("/w/xiasheshi").get_data(as_text=True)
    assert "甲代表" in html and "乙代表" not in html


def test_unknown_and_inactive_workrooms_answer_404(client, db, frozen, make_workroom):
    make_workroom(slug="closed", active=False)
    assert client.get("/w/nowhere").status_code == 404
    assert client.get("/w/closed").status_code == 404
    assert client.get("/w/closed/notice").status_code == 404
    assert client.get("/w/closed/schedule.ics").status_code == 404
    assert client.get("/w/closed/qr.svg").status_code == 404


def test_index_lists_active_workrooms(client, db, room, make_workroom):
    make_workroom(name="已关闭的工作室", active=False)
    html = client.get("/w").get_data(as_text=True)
    assert "下摄司街道代表工作室" in html and "/w/xiasheshi" in html
    assert "已关闭的工作室" not in html


def test_qr_code_and_links_use_the_public_url_not_the_request_host(
    client, db, frozen, room, monkeypatch
):
    seen = []
    real_make = public.segno.make
    monkeypatch.setattr(
        public.segno, "make", lambda content, **kw: seen.append(content) or real_make(content, **kw)
    )

    html = client.get("/w/xiasheshi", base_url="http://evil.example").get_data(as_text=True)
    assert '<a href="http://workroom.test/w/xiasheshi">http://workroom.test/w/xiasheshi</a>' in html
    assert 'src="/w/xiasheshi/qr.svg"' in html and 'alt="' in html
    assert "evil.example" not in html
    assert 'href="/w/xiasheshi/schedule.ics"' in html and 'href="/w/xiasheshi/notice"' in html

    qr = client.get("/w/xiasheshi/qr.svg", base_url="http://evil.example")
    assert qr.status_code == 200 and qr.mimetype == "image/svg+xml"
    svg = qr.get_data(as_text=True)
    assert svg.startswith("<svg") and "style=" not in svg and "<script" not in svg
    assert seen == ["http://workroom.test/w/xiasheshi"]


def test_public_page_in_english_through_the_language_switch(client, db, frozen, room):
    page = client.get("/w/xiasheshi")
    assert 'action="/language"' in page.get_data(as_text=True)
    response = client.post(
        "/language",
        data={
            "locale": "en",
            "next": "/w/xiasheshi",
            "csrf_token": csrf_from(page.get_data(as_text=True)),
        },
    )
    assert response.status_code == 302 and response.headers["Location"].endswith("/w/xiasheshi")
    html = client.get("/w/xiasheshi").get_data(as_text=True)
    assert '<html lang="en">' in html
    assert "Liaison hours on working days" in html


def test_notice_shows_the_next_published_day(client, db, frozen, room, make_deputy):
    zhang = make_deputy(name="张建国", level="municipal", sector="个体工商户")
    add_day(db, room, dt.date(2026, 3, 2), [zhang], start=(8, 0), end=(9, 30))  # over at 10:00
    add_day(db, room, dt.date(2026, 3, 3), [zhang], status="cancelled")
    add_day(db, room, dt.date(2026, 3, 4), [zhang], status="draft")
    add_day(db, room, dt.date(2026, 3, 5), [zhang], start=(14, 30), end=(17, 0))
    add_day(db, room, dt.date(2026, 3, 12), [make_deputy(name="后来的代表")])

    response = client.get("/w/xiasheshi/notice")
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert "2026年3月5日" in html and "14:30–17:00" in html
    assert "张建国" in html and "个体工商户" in html
    assert "后来的代表" not in html
    assert 'src="/w/xiasheshi/qr.svg"' in html
    assert "073158581234" in html and "http://workroom.test/w/xiasheshi" in html
    assert 'class="pub-print"' in html


def test_notice_without_an_upcoming_day_says_so(client, db, frozen, room):
    response = client.get("/w/xiasheshi/notice", headers={"Accept-Language": "en"})
    assert response.status_code == 200
    assert "No reception day is announced at the moment." in response.get_data(as_text=True)


def test_name_with_markup_is_escaped(client, db, frozen, room, make_deputy):
    add_day(db, room, dt.date(2026, 3, 4), [make_deputy(name="<b>粗体</b>")])
    html = client.get("/w/xiasheshi").get_data(as_text=True)
    assert "<b>粗体</b>" not in html and "&lt;b&gt;粗体&lt;/b&gt;" in html
