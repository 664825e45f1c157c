"""Staff pages of suggestions: raising one (from a visit or directly), the list with its
filters and constant query count, the detail page and the staff's steps."""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

import pytest
import sqlalchemy as sa

from tests.conftest import IsolatedClient, csrf_from, login, post_form
from workroom.audit.models import AuditEvent
from workroom.auth.permissions import scoped
from workroom.categories.models import Category
from workroom.clock import local_today, utcnow
from workroom.places.models import Area
from workroom.suggestions import lifecycle
from workroom.suggestions.models import Suggestion
from workroom.suggestions.routing import create_rule
from workroom.visits.models import Visit

NOW = dt.datetime(2026, 3, 2, 1, 0)  # Monday 09:00 in Shanghai


def category(db, code: str) -> Category:
    return db.session.scalar(sa.select(Category).where(Category.code == code))


@pytest.fixture(autouse=True)
def english(client) -> None:
    """Pages answer in English, so tests read the source strings."""
    client.environ_base["HTTP_ACCEPT_LANGUAGE"] = "en"


@pytest.fixture
def world(db, make_agency, make_workroom, make_deputy, make_user) -> dict[str, Any]:
    """Yuetang district with two streets and workrooms, three agencies (a rule sends
    environment matters to ecology with street as co-handler) and one account per role."""
    city = Area(name="湘潭市", level="city")
    district = Area(name="岳塘区", level="district", parent=city)
    street = Area(name="下摄司街道", level="street", parent=district)
    other_street = Area(name="建设路街道", level="street", parent=district)
    db.session.add_all([city, district, street, other_street])
    db.session.commit()
    ecology = make_agency(name="生态环境分局", code="yt-ecology")
    housing = make_agency(name="住房和城乡建设局", code="yt-housing")
    street_office = make_agency(name="街道办事处", code="xss-office")
    create_rule(
        category=category(db, "environment"),
        area=district,
        lead_agency=ecology,
        co_agencies=[street_office],
    )
    room_a = make_workroom(name="下摄司工作室", area=street)
    room_b = make_workroom(name="建设路联络站", area=other_street)
    deputy_a = make_deputy(name="甲代表", workrooms=[room_a])
    deputy_b = make_deputy(name="乙代表", workrooms=[room_b])
    db.session.commit()
    users = {
        "admin": make_user("admin"),
        "viewer": make_user("viewer"),
        "liaison": make_user("liaison", workrooms=[room_a]),
        "liaison_b": make_user("liaison", workrooms=[room_b]),
        "deputy": make_user("deputy", deputy=deputy_a),
        "agency1": make_user("agency_handler", agency=ecology),
        "agency2": make_user("agency_handler", agency=housing),
        "agency_street": make_user("agency_handler", agency=street_office),
    }
    return {
        "district": district,
        "street": street,
        "other_street": other_street,
        "ecology": ecology,
        "housing": housing,
        "street_office": street_office,
        "room_a": room_a,
        "room_b": room_b,
        "deputy_a": deputy_a,
        "deputy_b": deputy_b,
        **users,
    }


def raise_suggestion(db, world, *, now=None, code="environment-air", room="room_a", **kw):
    """A suggestion submitted through the domain function (routed by the rules)."""
    citizens = kw.pop("citizens", [{"visit": None, "name": "张三", "phone": "13800138000"}])
    s = lifecycle.submit(
        title=kw.pop("title", "河道有异味"),
        content=kw.pop("content", "下摄司街道的河道夏天有异味。"),
        category=category(db, code),
        area=kw.pop("area", world["street"] if room == "room_a" else world["other_street"]),
        source=kw.pop("source", "liaison"),
        now=now or utcnow(),
        actor=kw.pop("actor", world["liaison"] if room == "room_a" else world["liaison_b"]),
        workroom=world[room],
        citizens=citizens,
        **kw,
    )
    db.session.commit()
    return s


def make_visit(db, workroom, **kw) -> Visit:
    n = kw.pop("n", 1)
    visit = Visit(
        workroom_id=workroom.id,
        channel="walk_in",
        kind="record",
        category_id=kw.pop("category_id", None),
        visitor_name=kw.pop("visitor_name", "李秀英"),
        phone=kw.pop("phone", "13800138001"),
        description=kw.pop("description", "小区旁的河道有异味。"),
        summary=kw.pop("summary", "河道异味，建议清淤。"),
        receipt_code=kw.pop("receipt_code", f"RCPT{n:04d}"),
        status="done",
        arrived_at=kw.pop("arrived_at", utcnow()),
        **kw,
    )
    db.session.add(visit)
    db.session.commit()
    return visit


def text_of(response) -> str:
    return response.get_data(as_text=True)


def signed_in(app, user) -> Any:
    """Another browser: a new client, in English, signed in as ``user``."""
    app.test_client_class = IsolatedClient
    other = app.test_client()
    other.environ_base["HTTP_ACCEPT_LANGUAGE"] = "en"
    login(other, user)
    return other


# Raising a suggestion


def test_liaison_raises_a_suggestion_from_a_visit_prefilled(client, db, world):
    visit = make_visit(db, world["room_a"], category_id=category(db, "environment-water").id)
    login(client, world["liaison"])
    page = client.get(f"/staff/suggestions/new?visit={visit.id}")
    assert page.status_code == 200
    html = text_of(page)
    assert "河道异味，建议清淤。" in html  # the title from the visit's summary
    assert "李秀英" in html
    assert "138****8001" in html and "13800138001" not in html
    response = client.post(
        f"/staff/suggestions/new?visit={visit.id}",
        data={
            "csrf_token": csrf_from(html),
            "title": "河道异味",
            "content": "小区旁的河道有异味。",
            "category_id": str(category(db, "environment-water").id),
            "area_id": str(world["street"].id),
            "workroom_id": str(world["room_a"].id),
            "source": "visit",
            "deputy_id": "0",
            "citizen_name": "李秀英",
            "citizen_phone": "",
        },
    )
    assert response.status_code == 303, text_of(response)[:2000]
    s = db.session.scalar(sa.select(Suggestion))
    assert s.source == "visit" and s.status == "assigned"
    assert s.lead_agency.name == "生态环境分局"
    assert [(c.visit_id, c.name, c.phone) for c in s.citizens] == [
        (visit.id, "李秀英", "13800138001")
    ]
    detail = client.get(response.headers["Location"])
    assert s.tracking_code in text_of(detail)
    assert "Matched: Ecology and environment × 岳塘区 → 生态环境分局" in text_of(detail)


def test_a_visit_out_of_scope_cannot_be_raised(client, db, world):
    visit = make_visit(db, world["room_b"])
    login(client, world["liaison"])
    assert client.get(f"/staff/suggestions/new?visit={visit.id}").status_code == 404
    assert client.get("/staff/suggestions/new?visit=999999").status_code == 404


def direct_form(db, world, **changes) -> dict[str, Any]:
    data = {
        "title": "路灯不亮",
        "content": "湘江社区的路灯坏了一个月。",
        "category_id": str(category(db, "urban-roads").id),
        "area_id": str(world["street"].id),
        "workroom_id": str(world["room_a"].id),
        "source": "liaison",
        "deputy_id": "0",
        "citizen_name": "王五",
        "citizen_phone": "139 0000 1234",
    }
    data.update(changes)
    return data


def test_direct_suggestion_without_a_rule_waits_in_triage(client, db, world):
    login(client, world["liaison"])
    response = post_form(client, "/staff/suggestions/new", direct_form(db, world, confidential="y"))
    assert response.status_code == 303
    s = db.session.scalar(sa.select(Suggestion))
    assert s.status == "triage" and s.confidential
    assert s.citizens[0].phone == "13900001234"
    events = db.session.scalars(
        sa.select(AuditEvent.action).where(AuditEvent.object_type == "suggestion")
    ).all()
    assert "suggestion.create" in events


def test_deputy_raises_as_a_deputy(client, db, world):
    login(client, world["deputy"])
    data = direct_form(db, world, source="deputy", citizen_name="", citizen_phone="")
    data.pop("deputy_id")
    response = post_form(client, "/staff/suggestions/new", data)
    assert response.status_code == 303, text_of(response)[:3000]
    s = db.session.scalar(sa.select(Suggestion))
    assert s.deputy_id == world["deputy_a"].id and s.citizens == []
    assert s.deadline_policy == "deputy"


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"title": ""}, "Enter a title."),
        ({"category_id": "0"}, "Choose a category."),
        ({"citizen_phone": "12345"}, "Enter a mobile number or a landline"),
        ({"workroom_id": "999999"}, "Not a valid choice"),
        ({"title": "x" * 201}, "200"),
    ],
)
def test_bad_intake_answers_400_with_the_form(client, db, world, changes, message):
    login(client, world["liaison"])
    response = post_form(client, "/staff/suggestions/new", direct_form(db, world, **changes))
    assert response.status_code == 400
    assert message in text_of(response)
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Suggestion)) == 0


def test_a_liaison_cannot_file_into_another_workroom(client, db, world):
    login(client, world["liaison"])
    response = post_form(
        client,
        "/staff/suggestions/new",
        direct_form(db, world, workroom_id=str(world["room_b"].id)),
    )
    assert response.status_code == 400


def test_viewers_and_agencies_cannot_raise(client, db, world):
    login(client, world["viewer"])
    assert client.get("/staff/suggestions/new").status_code == 403


# The list


def test_list_shows_only_what_is_in_scope(client, db, world):
    mine = raise_suggestion(db, world, title="下摄司的事")
    theirs = raise_suggestion(db, world, room="room_b", title="建设路的事")
    login(client, world["liaison"])
    html = text_of(client.get("/staff/suggestions"))
    assert mine.tracking_code in html and theirs.tracking_code not in html


def test_agency_handlers_are_sent_to_the_portal(client, db, world):
    login(client, world["agency1"])
    response = client.get("/staff/suggestions")
    assert response.status_code == 302 and response.headers["Location"].endswith("/agency")


def test_list_filters(client, db, world):
    today = local_today()  # the app's date (TIMEZONE), not the machine's
    air = raise_suggestion(db, world, title="空气")
    roads = raise_suggestion(db, world, code="urban-roads", title="道路")
    other = raise_suggestion(db, world, room="room_b", title="建设路")
    late = raise_suggestion(db, world, title="逾期")
    late.reply_due = today - dt.timedelta(days=2)
    db.session.commit()
    login(client, world["admin"])

    def codes(query: str) -> set[str]:
        html = text_of(client.get("/staff/suggestions?" + query))
        return set(re.findall(r"<code>([0-9A-Z]{8})</code>", html))

    assert codes("status=triage") == {roads.tracking_code}
    assert codes(f"category={category(db, 'environment').id}") == {
        air.tracking_code,
        other.tracking_code,
        late.tracking_code,
    }
    assert codes(f"area={world['other_street'].id}") == {other.tracking_code}
    assert codes(f"area={world['district'].id}") == {
        air.tracking_code,
        roads.tracking_code,
        other.tracking_code,
        late.tracking_code,
    }
    assert codes(f"workroom={world['room_b'].id}") == {other.tracking_code}
    assert codes(f"agency={world['street_office'].id}") == {
        air.tracking_code,
        other.tracking_code,
        late.tracking_code,
    }
    assert codes("deadline=overdue") == {late.tracking_code}
    assert late.tracking_code not in codes("deadline=on_time")
    tomorrow = (today + dt.timedelta(days=2)).isoformat()
    assert codes(f"since={tomorrow}") == set()


def _count_queries(app, client, url: str) -> int:
    from workroom.db import db as database

    with app.app_context():
        engine = database.engine
    seen: list[str] = []

    def count(_conn, _cursor, statement, *_args) -> None:
        seen.append(statement)

    sa.event.listen(engine, "before_cursor_execute", count)
    try:
        assert client.get(url).status_code == 200
    finally:
        sa.event.remove(engine, "before_cursor_execute", count)
    return len(seen)


def test_list_page_takes_the_same_number_of_queries_for_5_or_25_rows(app, client, db, world):
    app.config["PAGE_SIZE"] = 25
    for n in range(5):
        raise_suggestion(db, world, title=f"第{n}件")
    login(client, world["admin"])
    client.get("/staff/suggestions")  # warm up: the session's user, the calendar cache
    five = _count_queries(app, client, "/staff/suggestions")
    for n in range(20):
        raise_suggestion(
            db, world, title=f"再{n}件", code="urban-roads" if n % 2 else "environment-air"
        )
    twenty_five = _count_queries(app, client, "/staff/suggestions")
    html = text_of(client.get("/staff/suggestions"))
    assert html.count("/staff/suggestions/") >= 25
    assert 0 < five == twenty_five


# The detail page and the staff's steps


def test_detail_shows_facts_citizens_masked_and_the_timeline(client, db, world):
    s = raise_suggestion(db, world)
    login(client, world["liaison"])
    html = text_of(client.get(f"/staff/suggestions/{s.id}"))
    assert "河道有异味" in html and "张三" in html
    assert "138****8000" in html and "13800138000" not in html
    assert "Submitted" in html or "已提交" in html
    assert "生态环境分局" in html and "街道办事处" in html


def test_the_routing_decision_is_shown_in_the_readers_language(client, db, world):
    s = raise_suggestion(db, world)
    login(client, world["liaison"])
    url = f"/staff/suggestions/{s.id}"
    english = text_of(client.get(url))
    assert "Matched: Ecology and environment × 岳塘区 → 生态环境分局" in english
    assert "Assigned to an agency · by a routing rule" in english
    chinese = text_of(client.get(url, headers={"Accept-Language": "zh-CN"}))
    assert "匹配：生态环境 × 岳塘区 → 生态环境分局" in chinese
    assert "已交办 · 按交办规则" in chinese
    assert "Matched" not in chinese and "matched" not in chinese


def test_a_staff_choice_is_shown_with_its_reason_in_both_languages(client, db, world):
    s = raise_suggestion(db, world, code="urban-roads")
    lifecycle.assign(
        s, lead_agency=world["housing"], now=utcnow(), actor=world["liaison"], reason="路灯归住建"
    )
    db.session.commit()
    login(client, world["liaison"])
    url = f"/staff/suggestions/{s.id}"
    english = text_of(client.get(url))
    assert "Assigned by staff to 住房和城乡建设局: 路灯归住建" in english
    assert "Assigned to an agency · chosen by staff" in english
    chinese = text_of(client.get(url, headers={"Accept-Language": "zh-CN"}))
    assert "工作人员交办给 住房和城乡建设局：路灯归住建" in chinese
    assert "已交办 · 工作人员指定" in chinese


def test_triage_assign_needs_an_agency_and_then_assigns(client, db, world):
    s = raise_suggestion(db, world, code="urban-roads")
    login(client, world["liaison"])
    url = f"/staff/suggestions/{s.id}"
    token = csrf_from(text_of(client.get(url)))
    bad = client.post(url + "/assign", data={"csrf_token": token, "assign-lead_agency_id": "0"})
    assert bad.status_code == 400 and "Choose the lead agency." in text_of(bad)
    ok = client.post(
        url + "/assign",
        data={
            "csrf_token": token,
            "assign-lead_agency_id": str(world["housing"].id),
            "assign-reason": "路灯归住建",
        },
    )
    assert ok.status_code == 303
    db.session.refresh(s)
    assert s.status == "assigned" and s.lead_agency_id == world["housing"].id


def test_invalid_transition_answers_409_with_the_message(client, db, world):
    s = raise_suggestion(db, world)
    login(client, world["admin"])
    response = post_form(client, f"/staff/suggestions/{s.id}/close", {})
    assert response.status_code == 409
    assert "Only an answered suggestion can be closed." in text_of(response)


def _replied(db, world, **kw) -> Suggestion:
    s = raise_suggestion(db, world, **kw)
    lifecycle.accept(s, agency=s.lead_agency, now=utcnow(), actor=world["agency1"])
    lifecycle.reply(
        s, agency=s.lead_agency, text="已清淤。", reply_class="A", now=utcnow(), actor=None
    )
    db.session.commit()
    return s


def test_follow_up_close_and_rehandle(client, db, world):
    s = _replied(db, world)
    citizen = s.citizens[0]
    login(client, world["liaison"])
    url = f"/staff/suggestions/{s.id}"
    html = text_of(client.get(url))
    assert f'name="c{citizen.id}-satisfaction"' in html
    token = csrf_from(html)
    missing = client.post(url + "/follow-up", data={"csrf_token": token, "citizen_id": citizen.id})
    assert missing.status_code == 400
    done = client.post(
        url + "/follow-up",
        data={
            "csrf_token": token,
            "citizen_id": citizen.id,
            f"c{citizen.id}-satisfaction": "dissatisfied",
            f"c{citizen.id}-note": "仍有异味",
        },
    )
    assert done.status_code == 303
    again = client.post(
        url + "/follow-up",
        data={
            "csrf_token": token,
            "citizen_id": citizen.id,
            f"c{citizen.id}-satisfaction": "satisfied",
        },
    )
    assert again.status_code == 409
    assert client.post(url + "/close", data={"csrf_token": token}).status_code == 303
    db.session.refresh(s)
    assert s.status == "closed"
    assert client.post(url + "/rehandle", data={"csrf_token": token}).status_code == 400
    rehandled = client.post(
        url + "/rehandle", data={"csrf_token": token, "rehandle-reason": "群众不满意"}
    )
    assert rehandled.status_code == 303
    db.session.refresh(s)
    assert s.status == "assigned" and s.rehandle_count == 1


def test_merge_by_tracking_code(client, db, world):
    first = raise_suggestion(db, world, title="河道一")
    second = raise_suggestion(db, world, title="河道二")
    outside = raise_suggestion(db, world, room="room_b")
    login(client, world["liaison"])
    url = f"/staff/suggestions/{second.id}"
    token = csrf_from(text_of(client.get(url)))
    unknown = client.post(
        url + "/merge", data={"csrf_token": token, "merge-into_code": outside.tracking_code}
    )
    assert unknown.status_code == 400
    merged = client.post(
        url + "/merge",
        data={"csrf_token": token, "merge-into_code": first.tracking_code.lower()},
    )
    assert merged.status_code == 303
    db.session.refresh(second)
    assert second.status == "merged" and second.merged_into_id == first.id
    html = text_of(client.get(f"/staff/suggestions/{first.id}"))
    assert second.tracking_code in html


def test_extension_decision(client, db, world):
    s = raise_suggestion(db, world)
    lifecycle.request_extension(
        s,
        agency=s.lead_agency,
        requested_due=s.reply_due + dt.timedelta(days=7),
        reason="需要现场勘查",
        now=utcnow(),
        actor=world["agency1"],
    )
    db.session.commit()
    login(client, world["admin"])
    url = f"/staff/suggestions/{s.id}"
    html = text_of(client.get(url))
    assert "需要现场勘查" in html
    token = csrf_from(html)
    assert client.post(url + "/extension", data={"csrf_token": token}).status_code == 400
    new_due = s.extension_requests[0].requested_due
    approved = client.post(
        url + "/extension", data={"csrf_token": token, "extension-decision": "approve"}
    )
    assert approved.status_code == 303
    db.session.refresh(s)
    assert s.reply_due == new_due
    again = client.post(
        url + "/extension", data={"csrf_token": token, "extension-decision": "refuse"}
    )
    assert again.status_code == 409


def test_viewer_sees_no_forms_and_cannot_post(client, db, world):
    s = raise_suggestion(db, world)
    login(client, world["viewer"])
    html = text_of(client.get(f"/staff/suggestions/{s.id}"))
    assert "/assign" not in html and "/merge" not in html
    token = csrf_from(html)
    response = client.post(f"/staff/suggestions/{s.id}/close", data={"csrf_token": token})
    assert response.status_code == 404


# The demo


def test_demo_gives_every_account_work_and_runs_once(app, db):
    from workroom.demo import seed_demo

    now = dt.datetime(2026, 6, 15, 2, 0)  # a Monday, 10:00 in Shanghai
    report = seed_demo(password="demo-password-123", now=now)
    db.session.commit()
    assert report.created["suggestions"] >= 30
    statuses = dict(
        db.session.execute(
            sa.select(Suggestion.status, sa.func.count()).group_by(Suggestion.status)
        ).all()
    )
    assert set(statuses) == {"triage", "assigned", "accepted", "replied", "closed", "merged"}
    for username in ("agency1", "agency2"):
        from workroom.auth.accounts import find_user

        user = find_user(username)
        handled = db.session.scalars(
            scoped(sa.select(Suggestion), Suggestion, "suggestion.handle", user)
        ).all()
        assert {s.status for s in handled} >= {"assigned", "accepted", "replied", "closed"}
    assert db.session.scalar(
        sa.select(sa.func.count()).select_from(Suggestion).where(Suggestion.confidential)
    )
    # Played through the lifecycle, the demo is audited as the pages are.
    audited = dict(
        db.session.execute(
            sa.select(AuditEvent.action, sa.func.count())
            .where(AuditEvent.action.in_(["suggestion.create", "suggestion.merge"]))
            .group_by(AuditEvent.action)
        ).all()
    )
    assert audited == {
        "suggestion.create": db.session.scalar(sa.select(sa.func.count()).select_from(Suggestion)),
        "suggestion.merge": statuses["merged"],
    }
    again = seed_demo(password="demo-password-123", now=now)
    assert again.created["suggestions"] == 0
