"""Routing rules: precedence, explanations, the admin pages, the preview page and CLI."""

from __future__ import annotations

import itertools

import pytest
import sqlalchemy as sa

from tests.conftest import login, post_form
from workroom.audit.models import AuditEvent
from workroom.categories.models import Category
from workroom.cli import route_preview_command
from workroom.errors import DomainError
from workroom.people.models import ProfessionalGroup
from workroom.places.models import Area
from workroom.suggestions.models import RoutingRule
from workroom.suggestions.routing import (
    RoutingTable,
    create_rule,
    describe_rule,
    explain_decision,
    loss_label,
    preview_lines,
    route,
    update_rule,
)


@pytest.fixture
def tree(db):
    """湘潭市 > 岳塘区 > 下摄司街道 > 立新社区, and a sibling street."""
    city = Area(name="湘潭市", level="city")
    district = Area(name="岳塘区", level="district", parent=city)
    street = Area(name="下摄司街道", level="street", parent=district)
    community = Area(name="立新社区", level="community", parent=street)
    other_street = Area(name="书院路街道", level="street", parent=district)
    db.session.add_all([city, district, street, community, other_street])
    db.session.commit()
    return {
        "city": city,
        "district": district,
        "street": street,
        "community": community,
        "other_street": other_street,
    }


def category(db, code: str) -> Category:
    return db.session.scalar(sa.select(Category).where(Category.code == code))


@pytest.fixture
def agencies(make_agency):
    return {
        "env": make_agency(name="湘潭市生态环境局岳塘分局", email="env@example.cn"),
        "city_env": make_agency(name="湘潭市生态环境局", email="city-env@example.cn"),
        "street": make_agency(name="下摄司街道办事处"),
        "water": make_agency(name="岳塘区水利局"),
    }


def table_of(response) -> str:
    """The rows of the page's table ("" without one), leaving out filters and menus."""
    html = response.get_data(as_text=True)
    start = html.find("<tbody>")
    return html[start : html.rfind("</tbody>")] if start >= 0 else ""


def rule(db, cat, area, lead, **kw) -> RoutingRule:
    made = create_rule(category=cat, area=area, lead_agency=lead, **kw)
    db.session.commit()
    return made


# Precedence


def test_rule_on_category_covers_its_sub_categories_and_the_area_subtree(db, tree, agencies):
    env = category(db, "environment")
    made = rule(db, env, tree["district"], agencies["env"])
    decision = route(category(db, "environment-air"), tree["community"])
    assert decision.rule.id == made.id
    assert decision.lead_agency.name == "湘潭市生态环境局岳塘分局"
    assert (decision.kind, decision.matched_category.code, decision.matched_area.name) == (
        "rule",
        "environment",
        "岳塘区",
    )
    assert (
        explain_decision(decision, "zh_Hans_CN")
        == "匹配：生态环境 × 岳塘区 → 湘潭市生态环境局岳塘分局"
    )
    # Neither a sibling category nor an area outside the subtree matches.
    assert route(category(db, "health"), tree["street"]).rule is None
    assert route(env, tree["city"]).rule is None


def test_sub_category_beats_category_even_on_a_larger_area(db, tree, agencies):
    broad = rule(db, category(db, "environment"), tree["street"], agencies["street"])
    narrow = rule(db, category(db, "environment-air"), tree["city"], agencies["city_env"])
    decision = route(category(db, "environment-air"), tree["community"])
    assert decision.rule.id == narrow.id
    assert decision.candidates == [(broad, "broader_category")]
    # The parent category itself is still routed by the broad rule.
    assert route(category(db, "environment"), tree["community"]).rule.id == broad.id


def test_deeper_area_beats_its_ancestor(db, tree, agencies):
    env = category(db, "environment")
    city_rule = rule(db, env, tree["city"], agencies["city_env"])
    district_rule = rule(db, env, tree["district"], agencies["env"])
    street_rule = rule(db, env, tree["street"], agencies["street"])
    decision = route(env, tree["community"])
    assert decision.rule.id == street_rule.id
    assert decision.candidates == [
        (district_rule, "broader_area"),
        (city_rule, "broader_area"),
    ]
    assert route(env, tree["other_street"]).rule.id == district_rule.id


def test_priority_breaks_ties_then_the_older_rule(db, tree, agencies):
    env = category(db, "environment")
    low = rule(db, env, tree["district"], agencies["street"], priority=0)
    high = rule(db, env, tree["district"], agencies["env"], priority=5)
    decision = route(env, tree["street"])
    assert decision.rule.id == high.id
    assert decision.candidates == [(low, "lower_priority")]
    # Equal priority is refused when saving; data that has it anyway picks the older rule.
    twin = RoutingRule(
        category=env, area=tree["district"], lead_agency=agencies["water"], priority=5
    )
    db.session.add(twin)
    db.session.commit()
    decision = route(env, tree["street"])
    assert decision.rule.id == high.id
    assert (twin, "later_rule") in decision.candidates


def test_inactive_rules_and_agencies_never_match(db, tree, agencies):
    env = category(db, "environment")
    fallback = rule(db, env, tree["city"], agencies["city_env"])
    inactive = rule(db, env, tree["street"], agencies["street"], active=False)
    dormant_agency = rule(db, env, tree["district"], agencies["water"])
    agencies["water"].active = False
    db.session.commit()
    decision = route(env, tree["street"])
    assert decision.rule.id == fallback.id
    assert decision.candidates == [
        (inactive, "inactive"),
        (dormant_agency, "agency_inactive"),
    ] or decision.candidates == [
        (dormant_agency, "agency_inactive"),
        (inactive, "inactive"),
    ]


def test_no_match_goes_to_triage_with_the_reason(db, tree, agencies):
    rule(db, category(db, "environment"), tree["city"], agencies["city_env"])
    decision = route(category(db, "other"), tree["street"])
    assert decision.rule is None and decision.lead_agency is None
    assert (decision.kind, decision.matched_category.code, decision.matched_area.name) == (
        "no_rule",
        "other",
        "下摄司街道",
    )
    assert (
        explain_decision(decision, "zh_Hans_CN")
        == "没有与 其他 × 下摄司街道 匹配的规则：意见建议将等待分办。"
    )
    assert decision.candidates == []
    assert "triage" in explain_decision(decision, "en")


def test_decision_drops_inactive_co_agencies_and_groups(db, tree, agencies):
    group = ProfessionalGroup(code="env", name="环境资源专业小组")
    db.session.add(group)
    db.session.commit()
    made = rule(
        db,
        category(db, "environment"),
        tree["district"],
        agencies["env"],
        co_agencies=[agencies["street"], agencies["water"]],
        group=group,
        deadline_policy="deputy",
    )
    decision = route(category(db, "environment-water"), tree["street"])
    assert decision.rule.id == made.id
    assert [a.name for a in decision.co_agencies] == ["下摄司街道办事处", "岳塘区水利局"]
    assert decision.group.name == "环境资源专业小组"
    assert decision.deadline_policy == "deputy"
    agencies["water"].active = False
    group.active = False
    db.session.commit()
    decision = route(category(db, "environment-water"), tree["street"])
    assert [a.name for a in decision.co_agencies] == ["下摄司街道办事处"]
    assert decision.group is None


def test_routing_table_agrees_with_route_for_every_pair(db, tree, agencies):
    env, air = category(db, "environment"), category(db, "environment-air")
    rule(db, env, tree["city"], agencies["city_env"])
    rule(db, env, tree["street"], agencies["street"], priority=2)
    rule(db, air, tree["district"], agencies["env"])
    rule(db, air, tree["district"], agencies["water"], priority=-1)
    rule(db, category(db, "health"), tree["community"], agencies["street"], active=False)
    table = RoutingTable.load()
    categories = db.session.scalars(sa.select(Category)).all()
    for cat, area in itertools.product(categories, tree.values()):
        expected = route(cat, area)
        got = table.route(cat.id, area.id)
        assert (got.rule, got.kind, got.matched_category, got.matched_area, got.candidates) == (
            expected.rule,
            expected.kind,
            expected.matched_category,
            expected.matched_area,
            expected.candidates,
        ), (cat.code, area.name)
        assert table.route(cat, area) is got  # memoised


# Managing rules


def test_rule_validation_explains_each_field(db, tree, agencies):
    env = category(db, "environment")
    cases = [
        ({"category": None}, "category_id"),
        ({"area": None}, "area_id"),
        ({"lead_agency": None}, "lead_agency_id"),
        ({"co_agencies": [agencies["env"]]}, "co_agency_ids"),
        ({"deadline_policy": "weekly"}, "deadline_policy"),
        ({"priority": 5000}, "priority"),
    ]
    for change, field in cases:
        values = {"category": env, "area": tree["city"], "lead_agency": agencies["env"], **change}
        with pytest.raises(DomainError) as caught:
            create_rule(**values)
        assert caught.value.field == field
    rule(db, env, tree["city"], agencies["env"])
    with pytest.raises(DomainError) as caught:
        create_rule(category=env, area=tree["city"], lead_agency=agencies["street"])
    assert caught.value.field == "priority"
    # Another priority, or an inactive twin, is fine.
    create_rule(category=env, area=tree["city"], lead_agency=agencies["street"], priority=1)
    create_rule(category=env, area=tree["city"], lead_agency=agencies["water"], active=False)


def test_rule_changes_are_audited_and_deactivation_keeps_the_rule(db, tree, agencies):
    env = category(db, "environment")
    made = rule(db, env, tree["district"], agencies["env"])
    update_rule(
        made,
        category=env,
        area=tree["district"],
        lead_agency=agencies["env"],
        active=False,
    )
    db.session.commit()
    actions = db.session.scalars(
        sa.select(AuditEvent.action).where(AuditEvent.object_type == "routing_rule")
    ).all()
    assert actions == ["routing_rule.create", "routing_rule.deactivate", "routing_rule.update"]
    assert db.session.get(RoutingRule, made.id).active is False
    assert route(env, tree["street"]).rule is None


# Pages


def test_admin_creates_a_rule_and_sees_it_listed(client, db, login_as, tree, agencies):
    login_as("admin")
    env = category(db, "environment")
    response = post_form(
        client,
        "/staff/routing/new",
        {
            "category_id": env.id,
            "area_id": tree["district"].id,
            "lead_agency_id": agencies["env"].id,
            "co_agency_ids": [agencies["street"].id],
            "group_id": 0,
            "deadline_policy": "citizen",
            "priority": "0",
            "active": "y",
        },
    )
    assert response.status_code == 302, response.get_data(as_text=True)
    made = db.session.scalar(sa.select(RoutingRule))
    assert [a.name for a in made.co_agencies] == ["下摄司街道办事处"]
    listing = table_of(client.get("/staff/routing"))
    assert "湘潭市生态环境局岳塘分局" in listing and "下摄司街道办事处" in listing
    assert "湘潭市生态环境局岳塘分局" in table_of(
        client.get(f"/staff/routing?agency={agencies['street'].id}")
    )
    assert not table_of(client.get(f"/staff/routing?agency={agencies['water'].id}"))
    assert "湘潭市生态环境局岳塘分局" in table_of(
        client.get(f"/staff/routing?area={tree['city'].id}")
    )
    assert not table_of(client.get(f"/staff/routing?area={tree['street'].id}"))
    assert "湘潭市生态环境局岳塘分局" in table_of(
        client.get(f"/staff/routing?category={category(db, 'environment').id}")
    )
    air = category(db, "environment-air")
    assert not table_of(client.get(f"/staff/routing?category={air.id}"))


def test_rule_form_errors_answer_400(client, db, login_as, tree, agencies):
    login_as("admin")
    response = post_form(
        client,
        "/staff/routing/new",
        {
            "category_id": 0,
            "area_id": tree["district"].id,
            "lead_agency_id": agencies["env"].id,
            "co_agency_ids": [agencies["env"].id],
            "group_id": 0,
            "deadline_policy": "citizen",
            "priority": "abc",
        },
        headers={"Accept-Language": "en"},
    )
    assert response.status_code == 400
    env = category(db, "environment")
    response = post_form(
        client,
        "/staff/routing/new",
        {
            "category_id": env.id,
            "area_id": tree["district"].id,
            "lead_agency_id": agencies["env"].id,
            "co_agency_ids": [agencies["env"].id],
            "group_id": 0,
            "deadline_policy": "citizen",
            "priority": "0",
        },
        headers={"Accept-Language": "en"},
    )
    assert response.status_code == 400
    assert "The lead agency cannot also be a co-handling agency." in response.get_data(as_text=True)
    assert db.session.scalar(sa.select(sa.func.count()).select_from(RoutingRule)) == 0


def test_admin_deactivates_a_rule(client, db, login_as, tree, agencies):
    made = rule(db, category(db, "environment"), tree["district"], agencies["env"])
    login_as("admin")
    response = post_form(
        client,
        f"/staff/routing/{made.id}",
        {
            "category_id": made.category_id,
            "area_id": made.area_id,
            "lead_agency_id": made.lead_agency_id,
            "group_id": 0,
            "deadline_policy": "citizen",
            "priority": "0",
        },
    )
    assert response.status_code == 302
    db.session.expire_all()
    assert db.session.get(RoutingRule, made.id).active is False
    assert not table_of(client.get("/staff/routing"))
    assert "湘潭市生态环境局岳塘分局" in table_of(client.get("/staff/routing?status=all"))


def test_who_may_see_and_change_rules(
    app, client, db, login_as, make_user, make_workroom, tree, agencies
):
    made = rule(db, category(db, "environment"), tree["district"], agencies["env"])
    login_as("liaison", workrooms=[make_workroom()])
    assert client.get("/staff/routing").status_code == 200
    assert client.get("/staff/routing/preview").status_code == 200
    assert client.get("/staff/routing/new").status_code == 403
    assert client.get(f"/staff/routing/{made.id}").status_code == 404
    handler = app.test_client()
    login(handler, make_user("agency_handler", agency=agencies["env"]))
    assert handler.get("/staff/routing").status_code == 403
    assert handler.get("/staff/routing/preview").status_code == 403


def test_preview_page_and_cli_agree_with_route(app, client, db, login_as, tree, agencies):
    env, air = category(db, "environment"), category(db, "environment-air")
    rule(db, env, tree["city"], agencies["city_env"])
    winner = rule(db, air, tree["district"], agencies["env"], co_agencies=[agencies["water"]])
    rule(db, air, tree["district"], agencies["street"], priority=-3)
    decision = route(air, tree["community"])
    assert decision.rule.id == winner.id

    login_as("admin")
    page = client.get(
        f"/staff/routing/preview?category=environment-air&area={tree['community'].id}",
        headers={"Accept-Language": "en"},
    )
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert explain_decision(decision, "en").replace("→", "→") in html
    assert "Matched: Air pollution × 岳塘区 → 湘潭市生态环境局岳塘分局" in html
    for other, why in decision.candidates:
        assert describe_rule(other, "en") in html
        assert loss_label(why, "en") in html

    result = app.test_cli_runner().invoke(
        route_preview_command,
        ["--category", "environment-air", "--area", "立新社区", "--locale", "en"],
    )
    assert result.exit_code == 0, result.output
    assert result.output.splitlines() == preview_lines(decision, "en")
    assert (
        result.output.splitlines()[0]
        == "Matched: Air pollution × 岳塘区 → 湘潭市生态环境局岳塘分局"
    )
    by_id = app.test_cli_runner().invoke(
        route_preview_command,
        ["--category", "environment-air", "--area", str(tree["community"].id), "--locale", "en"],
    )
    assert by_id.output == result.output


def test_preview_of_no_match_and_bad_input(app, client, db, login_as, tree):
    login_as("admin")
    other = category(db, "other")
    page = client.get(
        f"/staff/routing/preview?category={other.id}&area={tree['street'].id}",
        headers={"Accept-Language": "en"},
    )
    assert page.status_code == 200
    assert "No rule matches Other × 下摄司街道: the suggestion waits in triage." in page.get_data(
        as_text=True
    )
    assert client.get("/staff/routing/preview?category=nonsense&area=x").status_code == 400

    runner = app.test_cli_runner()
    result = runner.invoke(
        route_preview_command, ["--category", "other", "--area", "下摄司街道", "--locale", "en"]
    )
    assert result.exit_code == 0
    assert "triage" in result.output.splitlines()[0]
    unknown = runner.invoke(route_preview_command, ["--category", "nope", "--area", "岳塘区"])
    assert unknown.exit_code != 0 and "nope" in unknown.output


def test_cli_asks_for_an_id_when_area_names_repeat(app, db, tree):
    twin = Area(name="立新社区", level="community", parent=tree["other_street"])
    db.session.add(twin)
    db.session.commit()
    result = app.test_cli_runner().invoke(
        route_preview_command,
        ["--category", "other", "--area", "立新社区", "--locale", "en"],
    )
    assert result.exit_code != 0
    assert str(twin.id) in result.output and str(tree["community"].id) in result.output


def test_names_are_escaped_on_the_pages(client, db, login_as, tree, make_agency):
    evil = make_agency(name="<script>alert(1)</script>局")
    rule(db, category(db, "environment"), tree["district"], evil)
    login_as("admin")
    listing = client.get("/staff/routing").get_data(as_text=True)
    assert "<script>alert(1)</script>" not in listing
    assert "&lt;script&gt;alert(1)&lt;/script&gt;局" in listing
    preview = client.get(
        f"/staff/routing/preview?category=environment&area={tree['street'].id}"
    ).get_data(as_text=True)
    assert "<script>alert(1)</script>" not in preview
