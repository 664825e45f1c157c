"""The suggestion lists' one filter: SuggestionFilter and suggestions_query, the area and
category subtrees, and the lists, the portal and the exports agreeing on it."""

from __future__ import annotations

import csv
import datetime as dt
import io
import re

import pytest
import sqlalchemy as sa

from tests import test_suggestion_views as base
from tests.conftest import login
from tests.test_suggestion_views import category, raise_suggestion, text_of
from workroom.categories.models import Category, category_subtree_ids
from workroom.clock import local_date, period_of, utcnow
from workroom.places.models import Area, area_subtree_ids
from workroom.suggestions import lifecycle
from workroom.suggestions.queries import SuggestionFilter, suggestions_query

# Shared fixtures: the world of accounts and places, pages in English.
world = base.world
english = base.english


def codes(db, f: SuggestionFilter, user=None, permission="suggestion.view") -> set[str]:
    stmt = suggestions_query(f, user=user, permission=permission, today=local_date(utcnow()))
    return {s.tracking_code for s in db.session.scalars(stmt)}


def codes_on(html: str) -> set[str]:
    return set(re.findall(r"<code>([0-9A-Z]{8})</code>", html))


def codes_in_csv(text: str) -> set[str]:
    rows = list(csv.reader(io.StringIO(text.lstrip("\ufeff"))))
    return {row[0] for row in rows[1:]}


# The subtrees


def test_area_subtree_is_the_area_and_everything_below_it(db, world):
    community = Area(name="湘江社区", level="community", parent=world["street"])
    db.session.add(community)
    db.session.commit()

    def subtree(area: Area) -> set[str]:
        ids = db.session.scalars(area_subtree_ids(area.id)).all()
        return set(db.session.scalars(sa.select(Area.name).where(Area.id.in_(ids))))

    assert subtree(world["district"]) == {"岳塘区", "下摄司街道", "建设路街道", "湘江社区"}
    assert subtree(world["street"]) == {"下摄司街道", "湘江社区"}
    assert subtree(community) == {"湘江社区"}
    # A tree that loops (the pages refuse one; data might hold it) still ends.
    city = world["district"].parent
    city.parent = community
    db.session.commit()
    assert subtree(world["street"]) == {"湘潭市", "岳塘区", "下摄司街道", "建设路街道", "湘江社区"}


def test_category_subtree_is_the_category_and_its_sub_categories(db):
    environment = category(db, "environment")
    ids = set(db.session.scalars(category_subtree_ids(environment.id)))
    assert ids == {environment.id, *(c.id for c in environment.children)}
    assert len(ids) > 1
    air = category(db, "environment-air")
    assert set(db.session.scalars(category_subtree_ids(air.id))) == {air.id}
    # Inside a query that joins the category table it still is the whole subtree.
    joined = db.session.scalars(
        sa.select(Category.code)
        .where(Category.id.in_(category_subtree_ids(environment.id)))
        .order_by(Category.code)
    ).all()
    assert "environment" in joined and "environment-air" in joined


# The filter


def test_each_field_narrows_the_list(db, world):
    air = raise_suggestion(db, world, title="空气")
    roads = raise_suggestion(db, world, code="urban-roads", title="道路")
    other = raise_suggestion(db, world, room="room_b", title="建设路")
    late = raise_suggestion(db, world, title="逾期")
    late.reply_due = local_date(utcnow()) - dt.timedelta(days=2)
    db.session.commit()
    everything = {air.tracking_code, roads.tracking_code, other.tracking_code, late.tracking_code}
    environment = {air.tracking_code, other.tracking_code, late.tracking_code}

    assert codes(db, SuggestionFilter()) == everything
    assert codes(db, SuggestionFilter(status="triage")) == {roads.tracking_code}
    assert codes(db, SuggestionFilter(category_id=category(db, "environment").id)) == environment
    assert codes(db, SuggestionFilter(area_id=world["other_street"].id)) == {other.tracking_code}
    assert codes(db, SuggestionFilter(area_id=world["district"].id)) == everything
    assert codes(db, SuggestionFilter(workroom_id=world["room_b"].id)) == {other.tracking_code}
    assert codes(db, SuggestionFilter(agency_id=world["street_office"].id)) == environment
    street_as = SuggestionFilter(agency_id=world["street_office"].id, agency_role="lead")
    assert codes(db, street_as) == set()
    ecology_as = SuggestionFilter(agency_id=world["ecology"].id, agency_role="lead")
    assert codes(db, ecology_as) == environment
    assert codes(db, SuggestionFilter(deadline="overdue")) == {late.tracking_code}
    both = SuggestionFilter(status="assigned", area_id=world["street"].id)
    assert codes(db, both) == {air.tracking_code, late.tracking_code}


def test_period_counts_local_dates_of_submission(db, world):
    today = local_date(utcnow())
    old = raise_suggestion(db, world, title="上个月", now=utcnow() - dt.timedelta(days=40))
    new = raise_suggestion(db, world, title="今天")
    assert codes(db, SuggestionFilter(since=today)) == {new.tracking_code}
    assert codes(db, SuggestionFilter(until=today - dt.timedelta(days=1))) == {old.tracking_code}
    today_only = SuggestionFilter.in_period(period_of("day", today), status="assigned")
    assert (today_only.since, today_only.until, today_only.status) == (today, today, "assigned")
    assert codes(db, today_only) == {new.tracking_code}


def test_scope_is_the_users_and_none_means_every_suggestion(db, world):
    mine = raise_suggestion(db, world, title="下摄司的事")
    theirs = raise_suggestion(db, world, room="room_b", title="建设路的事")
    roads = raise_suggestion(db, world, code="urban-roads", title="路灯")
    assert codes(db, SuggestionFilter(), world["liaison"]) == {
        mine.tracking_code,
        roads.tracking_code,
    }
    agency = codes(db, SuggestionFilter(), world["agency1"], "suggestion.handle")
    assert agency == {mine.tracking_code, theirs.tracking_code}
    assert codes(db, SuggestionFilter(), world["liaison"], "suggestion.handle") == set()
    assert len(codes(db, SuggestionFilter())) == 3


def test_unknown_values_are_refused_by_the_filter():
    with pytest.raises(ValueError):
        SuggestionFilter(status="lost")
    with pytest.raises(ValueError):
        SuggestionFilter(deadline="soonish")
    with pytest.raises(ValueError):
        SuggestionFilter(agency_role="lead")  # whose part?
    with pytest.raises(ValueError):
        SuggestionFilter(agency_id=3, agency_role="boss")


# The pages and exports share it


def test_unknown_choices_and_dates_are_ignored(client, db, world):
    s = raise_suggestion(db, world)
    login(client, world["admin"])
    page = client.get(
        "/staff/suggestions?status=lost&deadline=soon&area="
        "&since=yesterday&until=2026-02-30&role=lead"
    )
    assert page.status_code == 200
    assert codes_on(text_of(page)) == {s.tracking_code}


@pytest.mark.parametrize("query", ["category=abc", "agency=x", "workroom=1.5"])
def test_an_id_that_is_not_a_number_is_refused(client, db, world, query):
    login(client, world["admin"])
    page = client.get(f"/staff/suggestions?{query}")
    assert page.status_code == 400
    assert query in text_of(page)


def test_list_and_export_hold_the_same_rows(client, db, world):
    for n in range(3):
        raise_suggestion(db, world, title=f"空气{n}")
        raise_suggestion(db, world, room="room_b", code="urban-roads", title=f"道路{n}")
    late = raise_suggestion(db, world, room="room_b", title="逾期")
    late.reply_due = local_date(utcnow()) - dt.timedelta(days=1)
    db.session.commit()
    login(client, world["admin"])
    queries = [
        f"category={category(db, 'environment').id}&area={world['district'].id}",
        f"workroom={world['room_b'].id}",
        "status=triage",
        "deadline=overdue",
        f"since={local_date(utcnow()).isoformat()}",
    ]
    for query in queries:
        listed = codes_on(text_of(client.get(f"/staff/suggestions?{query}")))
        exported = client.get(f"/staff/suggestions?{query}&format=csv", buffered=True)
        assert codes_in_csv(exported.get_data(as_text=True)) == listed, query
        assert listed
    assert codes_on(text_of(client.get("/staff/suggestions?deadline=overdue"))) == {
        late.tracking_code
    }


def test_portal_role_filter_and_its_export_agree(app, client, db, world):
    led = raise_suggestion(db, world, code="urban-roads", title="路灯")
    lifecycle.assign(
        led, lead_agency=world["street_office"], now=utcnow(), actor=world["admin"], reason="街道"
    )
    co = raise_suggestion(db, world, title="河道")
    db.session.commit()
    login(client, world["agency_street"])
    for role, expected in (("lead", {led.tracking_code}), ("co", {co.tracking_code})):
        listed = codes_on(text_of(client.get(f"/agency?role={role}")))
        exported = client.get(f"/agency?role={role}&format=csv", buffered=True)
        assert listed == expected == codes_in_csv(exported.get_data(as_text=True))
    assert codes_on(text_of(client.get("/agency?role=boss"))) == {
        led.tracking_code,
        co.tracking_code,
    }
