"""A suggestion's whole life in a real browser: the liaison raises it from a visit,
agency1 accepts it and replies with a letter, the liaison records 满意, and the citizen
looks it up on /track with the receipt code; axe on every page on the way."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import DESKTOP, PHONE, axe_check, screenshot, signed_in_page
from workroom.clock import utcnow

pytestmark = pytest.mark.browser

CHINESE = {"locale": "zh-CN", "extra_http_headers": {"Accept-Language": "zh-CN,zh;q=0.9"}}
PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


@pytest.fixture
def visit_world(create, make_user, app, tmp_path):
    """Xiasheshi's workroom, a rule sending river matters to the ecology agency, a
    finished visit with the citizen's phone, and the two accounts."""
    app.config["ATTACHMENT_PATH"] = str(tmp_path / "files")

    def build(db):
        import sqlalchemy as sa

        from workroom.categories.models import Category
        from workroom.clock import utcnow
        from workroom.people.models import Agency
        from workroom.places.models import Area, Workroom
        from workroom.suggestions.routing import create_rule
        from workroom.visits.models import Visit

        city = Area(name="湘潭市", level="city")
        district = Area(name="岳塘区", level="district", parent=city)
        street = Area(name="下摄司街道", level="street", parent=district)
        workroom = Workroom(
            name="下摄司街道代表工作室", slug="xiasheshi", area=street, liaison_hours="09:00-12:00"
        )
        ecology = Agency(code="yt-ecology", name="湘潭市生态环境局岳塘分局")
        db.session.add_all([workroom, ecology])
        db.session.flush()
        water = db.session.scalar(sa.select(Category).where(Category.code == "environment-water"))
        create_rule(
            category=db.session.scalar(sa.select(Category).where(Category.code == "environment")),
            area=district,
            lead_agency=ecology,
        )
        visit = Visit(
            workroom_id=workroom.id,
            channel="walk_in",
            kind="record",
            category_id=water.id,
            visitor_name="李秀英",
            phone="13800138001",
            description="湘江支流河段夏天有异味，怀疑有污水直排。",
            summary="支流河段异味，建议排查排污口。",
            receipt_code="K7M3Q9XH",
            status="done",
            outcome="suggestion",
            arrived_at=utcnow(),
        )
        db.session.add(visit)
        db.session.flush()
        return {"visit_id": visit.id, "workroom": workroom, "agency": ecology}

    world = create(build)
    world["liaison"] = make_user("liaison", username="liaison", workrooms=[world["workroom"]])
    world["agency1"] = make_user("agency_handler", username="agency1", agency=world["agency"])
    return world


def test_a_suggestion_from_visit_to_tracking(new_context, live_server, visit_world):
    liaison = new_context(viewport=DESKTOP, **CHINESE).new_page()
    signed_in_page(liaison, live_server, visit_world["liaison"])

    # The liaison raises the suggestion from the visit.
    liaison.goto(f"{live_server}/staff/suggestions/new?visit={visit_world['visit_id']}")
    expect(liaison.locator("#title")).to_have_value("支流河段异味，建议排查排污口。")
    expect(liaison.locator("#citizen_name")).to_have_value("李秀英")
    axe_check(liaison)
    screenshot(liaison, "suggestion-new")
    liaison.click("main form button[type=submit]")
    liaison.wait_for_url(f"{live_server}/staff/suggestions/*")
    expect(liaison.locator("main")).to_contain_text("湘潭市生态环境局岳塘分局")
    expect(liaison.locator("main")).to_contain_text("138****8001")
    detail_url = liaison.url
    axe_check(liaison)
    screenshot(liaison, "suggestion-detail-assigned")

    # agency1 accepts it and answers with its stamped letter.
    agency = new_context(viewport=DESKTOP, **CHINESE).new_page()
    signed_in_page(agency, live_server, visit_world["agency1"])
    agency.goto(f"{live_server}/agency")
    axe_check(agency)
    screenshot(agency, "portal-index")
    agency.click("table.data tbody tr a")
    agency.wait_for_url(f"{live_server}/agency/suggestions/*")
    axe_check(agency)
    agency.click("form[action$='/accept'] button[type=submit]")
    expect(agency.locator("#reply-text")).to_be_visible()
    axe_check(agency)
    agency.fill("#reply-text", "经现场排查，已封堵一处排污口，并安排河段清淤。")
    agency.select_option("#reply-reply_class", "A")
    agency.set_input_files(
        "#reply-letter",
        files=[{"name": "答复函.pdf", "mimeType": "application/pdf", "buffer": PDF}],
    )
    agency.click("form[action$='/reply'] button[type=submit]")
    expect(agency.locator("main")).to_contain_text("答复函.pdf")
    axe_check(agency)
    screenshot(agency, "portal-detail-replied")

    # The liaison records that the citizen is satisfied (满意) and closes it.
    liaison.goto(detail_url)
    expect(liaison.locator("main")).to_contain_text("答复函.pdf")
    satisfaction = liaison.locator("select[id$='-satisfaction']")
    satisfaction.select_option(label="满意")
    liaison.click("form[action$='/follow-up'] button[type=submit]")
    expect(liaison.locator("table.data").first).to_contain_text("满意")
    axe_check(liaison)
    liaison.click("form[action$='/close'] button[type=submit]")
    expect(liaison.locator("main .lead")).to_contain_text("已办结")
    axe_check(liaison)
    screenshot(liaison, "suggestion-detail-closed")

    # The citizen looks it up with the receipt code on their phone.
    citizen = new_context(viewport=PHONE, **CHINESE).new_page()
    citizen.goto(f"{live_server}/track")
    axe_check(citizen)
    citizen.fill("#code", "k7m3 q9xh")
    citizen.fill("#phone4", "8001")
    citizen.click("main form button[type=submit]")
    expect(citizen.locator("main")).to_contain_text("已封堵一处排污口")
    expect(citizen.locator("main")).not_to_contain_text("李秀英")
    assert "K7M3" not in citizen.url and "8001" not in citizen.url
    axe_check(citizen)
    screenshot(citizen, "track-result")

    citizen.goto(f"{live_server}/track")
    citizen.fill("#code", "K7M3Q9XH")
    citizen.fill("#phone4", "1234")
    citizen.click("main form button[type=submit]")
    expect(citizen.locator("main h1")).to_be_visible()
    axe_check(citizen)
    screenshot(citizen, "track-not-found")


def test_staff_list_passes_axe(new_context, live_server, visit_world, create):
    def build(db):
        from workroom.suggestions import lifecycle
        from workroom.suggestions.models import Suggestion
        from workroom.visits.models import Visit

        visit = db.session.get(Visit, visit_world["visit_id"])
        s = lifecycle.submit(
            title="支流河段异味",
            content="湘江支流河段夏天有异味。",
            category=visit.category,
            area=visit.workroom.area,
            source="visit",
            now=utcnow(),
            actor=None,
            workroom=visit.workroom,
            citizens=[{"visit": visit}],
        )
        return isinstance(s, Suggestion)

    create(build)
    for viewport in (DESKTOP, PHONE):
        page = new_context(viewport=viewport, **CHINESE).new_page()
        signed_in_page(page, live_server, visit_world["liaison"])
        page.goto(f"{live_server}/staff/suggestions")
        expect(page.locator("table.data tbody tr")).to_have_count(1)
        axe_check(page)
        screenshot(page, f"suggestions-index-{viewport['width']}")
