"""The handling lifecycle: each transition, its event and notifications, and the
transitions that are refused."""

from __future__ import annotations

import datetime as dt

import pytest
import sqlalchemy as sa

from workroom.audit.models import AuditEvent
from workroom.categories.models import Category
from workroom.errors import Conflict, DomainError
from workroom.outbox.models import OutboxMessage
from workroom.places.models import Area
from workroom.suggestions import lifecycle
from workroom.suggestions.models import ExtensionRequest, Suggestion, SuggestionEvent
from workroom.suggestions.routing import create_rule, explain_routing
from workroom.visits.checkin import RECEIPT_ALPHABET
from workroom.visits.models import Visit

NOW = dt.datetime(2026, 3, 2, 1, 0)  # Monday 09:00 in Shanghai
DAY = dt.timedelta(days=1)


def category(db, code: str) -> Category:
    return db.session.scalar(sa.select(Category).where(Category.code == code))


@pytest.fixture
def world(db, make_agency, make_workroom, make_user):
    city = Area(name="湘潭市", level="city")
    district = Area(name="岳塘区", level="district", parent=city)
    street = Area(name="下摄司街道", level="street", parent=district)
    db.session.add_all([city, district, street])
    db.session.commit()
    supervisor = make_agency(name="湘潭市生态环境局", email="city-env@example.cn")
    lead = make_agency(name="生态环境分局", email="env@example.cn", supervisor=supervisor)
    co = make_agency(name="街道办事处", email="street@example.cn")
    other = make_agency(name="水利局", email="water@example.cn")
    create_rule(
        category=category(db, "environment"), area=district, lead_agency=lead, co_agencies=[co]
    )
    workroom = make_workroom(name="下摄司工作室", area=street)
    liaison = make_user("liaison", workrooms=[workroom])
    liaison.email = "liaison@example.cn"
    staff = make_user("admin")
    db.session.commit()
    return {
        "street": street,
        "lead": lead,
        "co": co,
        "other": other,
        "supervisor": supervisor,
        "workroom": workroom,
        "liaison": liaison,
        "staff": staff,
    }


def new(db, world, code="environment-air", citizens=None, **kw) -> Suggestion:
    s = lifecycle.submit(
        title=kw.pop("title", "河道有异味"),
        content="下摄司街道的河道夏天有异味。",
        category=category(db, code),
        area=world["street"],
        source=kw.pop("source", "visit"),
        now=kw.pop("now", NOW),
        actor=world["liaison"],
        workroom=world["workroom"],
        citizens=citizens
        if citizens is not None
        else [{"visit": None, "name": "张三", "phone": "138 0013 8000"}],
        **kw,
    )
    db.session.commit()
    return s


def decision(s: Suggestion) -> tuple:
    """The stored routing decision: its kind, the category (code), area and agency it
    names, and the reason a person gave."""
    return (
        s.routing_kind,
        s.routing_category.code if s.routing_category else None,
        s.routing_area.name if s.routing_area else None,
        s.routing_agency.name if s.routing_agency else None,
        s.routing_note,
    )


def in_chinese(s: Suggestion) -> str:
    return explain_routing(s, "zh_Hans_CN")


def kinds(s: Suggestion) -> list[str]:
    return [e.kind for e in s.events]


def keys(db, prefix: str) -> list[str]:
    return sorted(
        db.session.scalars(
            sa.select(OutboxMessage.dedupe_key).where(OutboxMessage.dedupe_key.like(prefix + "%"))
        )
    )


def accepted(db, world, **kw) -> Suggestion:
    s = new(db, world, **kw)
    lifecycle.accept(s, agency=world["lead"], now=NOW + DAY, actor=None)
    db.session.commit()
    return s


def replied(db, world, **kw) -> Suggestion:
    s = accepted(db, world, **kw)
    lifecycle.reply(
        s, agency=world["lead"], text="已清淤。", reply_class="A", now=NOW + 3 * DAY, actor=None
    )
    db.session.commit()
    return s


# Intake and routing


def test_submit_routes_by_the_rules_and_notifies_the_agencies(db, world):
    s = new(db, world)
    assert s.status == "assigned"
    assert len(s.tracking_code) == 8 and set(s.tracking_code) <= set(RECEIPT_ALPHABET)
    assert s.lead_agency.name == "生态环境分局"
    assert sorted((link.agency.name, link.role) for link in s.agencies) == [
        ("生态环境分局", "lead"),
        ("街道办事处", "co"),
    ]
    assert decision(s) == ("rule", "environment", "岳塘区", "生态环境分局", "")
    assert in_chinese(s) == "匹配：生态环境 × 岳塘区 → 生态环境分局"
    assert s.routing_rule is not None
    assert (s.events[-1].detail, s.events[-1].note) == ("rule", "")
    assert (s.accept_due, s.reply_due) == (dt.date(2026, 3, 4), dt.date(2026, 3, 23))
    assert kinds(s) == ["submitted", "assigned"]
    assert all(e.public for e in s.events)
    assert keys(db, f"assigned:{s.id}:") == sorted(
        f"assigned:{s.id}:2:agency{world[name].id}" for name in ("lead", "co")
    )
    body = db.session.scalar(
        sa.select(OutboxMessage.body).where(
            OutboxMessage.dedupe_key == f"assigned:{s.id}:2:agency{world['lead'].id}"
        )
    )
    assert s.tracking_code in body and "张三" not in body and "13800138000" not in body


def test_unrouted_suggestion_waits_in_triage(db, world):
    s = new(db, world, code="other")
    assert s.status == "triage" and s.lead_agency is None and s.agencies == []
    assert decision(s) == ("no_rule", "other", "下摄司街道", None, "")
    assert in_chinese(s) == "没有与 其他 × 下摄司街道 匹配的规则：意见建议将等待分办。"
    assert kinds(s) == ["submitted"]
    assert s.reply_due is None


def test_submit_takes_name_and_phone_from_the_visit_and_checks_input(db, world):
    visit = Visit(
        workroom_id=world["workroom"].id,
        channel="kiosk",
        receipt_code="K7M2Q9XA",
        arrived_at=NOW,
        visitor_name="李四",
        phone="13900139000",
    )
    db.session.add(visit)
    db.session.commit()
    s = new(
        db,
        world,
        citizens=[{"visit": visit}, {"visit": visit}, {"name": "王五", "phone": "0731-58581234"}],
    )
    assert [(c.name, c.phone, c.visit_id) for c in s.citizens] == [
        ("李四", "13900139000", visit.id),
        ("王五", "073158581234", None),
    ]
    with pytest.raises(DomainError) as caught:
        new(db, world, title="  ")
    assert caught.value.field == "title"
    with pytest.raises(DomainError) as caught:
        new(db, world, citizens=[{"name": "赵六", "phone": "12345"}])
    assert caught.value.field == "phone"
    with pytest.raises(DomainError) as caught:
        new(db, world, source="rumour")
    assert caught.value.field == "source"


def test_submit_refuses_an_inactive_category_or_area(db, world):
    noise = category(db, "environment-noise")
    noise.active = False
    db.session.commit()
    with pytest.raises(DomainError) as caught:
        new(db, world, code="environment-noise")
    assert caught.value.field == "category_id"
    noise.active = True
    world["street"].active = False
    db.session.commit()
    with pytest.raises(DomainError) as caught:
        new(db, world)
    assert caught.value.field == "area_id"
    db.session.rollback()
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Suggestion)) == 0


def audit(db, action: str) -> list[tuple]:
    rows = db.session.execute(
        sa.select(AuditEvent.object_id, AuditEvent.actor_id, AuditEvent.at, AuditEvent.summary)
        .where(AuditEvent.action == action)
        .order_by(AuditEvent.id)
    )
    return [tuple(row) for row in rows]


def test_raising_assigning_and_merging_are_audited_with_their_actor(db, world):
    staff = world["staff"]
    s = new(db, world, code="other", title="路灯不亮")
    assert audit(db, "suggestion.create") == [
        (str(s.id), world["liaison"].id, NOW, f"{s.tracking_code}: 路灯不亮")
    ]
    lifecycle.assign(s, lead_agency=world["other"], now=NOW + DAY, actor=staff)
    assert audit(db, "suggestion.assign") == [
        (str(s.id), staff.id, NOW + DAY, f"{s.tracking_code} → 水利局")
    ]
    duplicate = new(db, world)
    lifecycle.merge(duplicate, into=s, now=NOW + 2 * DAY, actor=staff)
    db.session.commit()
    assert audit(db, "suggestion.merge") == [
        (
            str(duplicate.id),
            staff.id,
            NOW + 2 * DAY,
            f"{duplicate.tracking_code} → {s.tracking_code}",
        )
    ]
    # A refused step writes nothing.
    with pytest.raises(Conflict):
        lifecycle.merge(duplicate, into=s, now=NOW, actor=staff)
    assert len(audit(db, "suggestion.merge")) == 1
    assert len(audit(db, "suggestion.create")) == 2


def test_tracking_codes_are_unique(db, world):
    codes = {new(db, world, code="other").tracking_code for _ in range(20)}
    assert len(codes) == 20


def test_staff_assign_from_triage_and_reroute_with_a_reason(db, world):
    s = new(db, world, code="other")
    with pytest.raises(DomainError) as caught:
        lifecycle.assign(s, lead_agency=None, now=NOW, actor=world["staff"])
    assert caught.value.field == "lead_agency_id"
    with pytest.raises(DomainError) as caught:
        lifecycle.assign(
            s, lead_agency=world["other"], co_agencies=[world["other"]], now=NOW, actor=None
        )
    assert caught.value.field == "co_agency_ids"
    lifecycle.assign(s, lead_agency=world["other"], now=NOW, actor=world["staff"])
    db.session.commit()
    assert s.status == "assigned" and decision(s) == ("manual", None, None, "水利局", "")
    assert in_chinese(s) == "工作人员交办给 水利局。"
    assert kinds(s) == ["submitted", "assigned"]
    assert s.events[-1].actor_id == world["staff"].id

    with pytest.raises(Conflict):
        lifecycle.assign(s, lead_agency=world["other"], now=NOW, actor=None, reason="again")
    with pytest.raises(DomainError) as caught:
        lifecycle.assign(s, lead_agency=world["lead"], now=NOW + DAY, actor=None)
    assert caught.value.field == "reason"
    lifecycle.assign(
        s, lead_agency=world["lead"], now=NOW + DAY, actor=None, reason="水利局不管这个"
    )
    db.session.commit()
    assert s.lead_agency.name == "生态环境分局"
    assert decision(s) == ("manual", None, None, "生态环境分局", "水利局不管这个")
    assert in_chinese(s) == "工作人员交办给 生态环境分局：水利局不管这个"
    assert (s.events[-1].detail, s.events[-1].note) == ("manual", "水利局不管这个")
    assert [link.agency.name for link in s.agencies] == ["生态环境分局"]
    assert s.accept_due == dt.date(2026, 3, 5)


def test_overriding_the_routed_agency_needs_a_reason(db, world):
    s = new(db, world, code="other")
    s.category = category(db, "environment-noise")
    db.session.commit()
    with pytest.raises(DomainError) as caught:
        lifecycle.assign(s, lead_agency=world["other"], now=NOW, actor=None)
    assert caught.value.field == "reason"
    lifecycle.assign(s, lead_agency=world["other"], now=NOW, actor=None, reason="噪声归水利局")
    assert decision(s) == ("override", None, None, "水利局", "噪声归水利局")
    assert s.routing_rule is None
    assert in_chinese(s) == "工作人员未按交办规则，交办给 水利局：噪声归水利局"
    s2 = new(db, world, code="other")
    s2.category = category(db, "environment-noise")
    lifecycle.assign(s2, lead_agency=world["lead"], co_agencies=[world["co"]], now=NOW, actor=None)
    assert s2.routing_rule is not None
    assert decision(s2) == ("rule", "environment", "岳塘区", "生态环境分局", "")
    assert in_chinese(s2) == "匹配：生态环境 × 岳塘区 → 生态环境分局"


# The agency's steps


def test_only_the_lead_agency_accepts_and_lateness_is_recorded(db, world):
    s = new(db, world)
    with pytest.raises(Conflict):
        lifecycle.accept(s, agency=world["co"], now=NOW, actor=None)
    with pytest.raises(Conflict):
        lifecycle.reply(s, agency=world["lead"], text="x", reply_class="A", now=NOW, actor=None)
    lifecycle.accept(s, agency=world["lead"], now=NOW + 3 * DAY, actor=None)
    assert s.status == "accepted" and s.accepted_at == NOW + 3 * DAY
    assert (s.events[-1].kind, s.events[-1].on_time) == ("accepted", False)
    with pytest.raises(Conflict):
        lifecycle.accept(s, agency=world["lead"], now=NOW + 3 * DAY, actor=None)
    on_time = new(db, world)
    lifecycle.accept(on_time, agency=world["lead"], now=NOW + DAY, actor=None)
    assert on_time.events[-1].on_time is True


def test_return_within_the_limit_goes_back_to_triage(db, world):
    s = new(db, world)
    with pytest.raises(DomainError) as caught:
        lifecycle.return_misassigned(s, agency=world["lead"], reason=" ", now=NOW, actor=None)
    assert caught.value.field == "reason"
    with pytest.raises(Conflict):
        lifecycle.return_misassigned(s, agency=world["co"], reason="不归我们", now=NOW, actor=None)
    # Monday + 3 working days is Thursday.
    lifecycle.return_misassigned(
        s, agency=world["lead"], reason="属水利局职责", now=NOW + 3 * DAY, actor=None
    )
    db.session.commit()
    assert s.status == "triage" and s.lead_agency is None and s.agencies == []
    assert s.reply_due is None and s.routing_rule is None
    assert decision(s) == ("returned", None, None, "生态环境分局", "属水利局职责")
    assert in_chinese(s) == "生态环境分局 退办：属水利局职责"
    assert (s.events[-1].kind, s.events[-1].note, s.events[-1].public) == (
        "returned",
        "属水利局职责",
        False,
    )
    assert keys(db, f"returned:{s.id}:") == [f"returned:{s.id}:3:user{world['liaison'].id}"]

    late = new(db, world)
    with pytest.raises(Conflict):
        lifecycle.return_misassigned(
            late, agency=world["lead"], reason="太晚了", now=NOW + 4 * DAY, actor=None
        )
    assert late.status == "assigned"


def test_extension_moves_the_deadline_only_when_approved(db, world):
    s = accepted(db, world)
    assert s.reply_due == dt.date(2026, 3, 23)
    # 15 working days after 23 March is 14 April (Qingming: 6 April is a day off).
    with pytest.raises(DomainError) as caught:
        lifecycle.request_extension(
            s,
            agency=world["lead"],
            requested_due=dt.date(2026, 4, 15),
            reason="需要协调",
            now=NOW,
            actor=None,
        )
    assert caught.value.field == "requested_due"
    with pytest.raises(DomainError):
        lifecycle.request_extension(
            s,
            agency=world["lead"],
            requested_due=dt.date(2026, 3, 23),
            reason="需要协调",
            now=NOW,
            actor=None,
        )
    first = lifecycle.request_extension(
        s,
        agency=world["lead"],
        requested_due=dt.date(2026, 4, 14),
        reason="需要协调",
        now=NOW,
        actor=None,
    )
    with pytest.raises(Conflict):
        lifecycle.request_extension(
            s,
            agency=world["lead"],
            requested_due=dt.date(2026, 4, 1),
            reason="再来",
            now=NOW,
            actor=None,
        )
    lifecycle.decide_extension(first, approve=False, now=NOW + DAY, actor=world["staff"])
    assert s.reply_due == dt.date(2026, 3, 23) and first.status == "refused"
    with pytest.raises(Conflict):
        lifecycle.decide_extension(first, approve=True, now=NOW + DAY, actor=world["staff"])
    second = lifecycle.request_extension(
        s,
        agency=world["lead"],
        requested_due=dt.date(2026, 4, 3),
        reason="汛期",
        now=NOW + DAY,
        actor=None,
    )
    lifecycle.decide_extension(second, approve=True, now=NOW + 2 * DAY, actor=world["staff"])
    db.session.commit()
    assert s.reply_due == dt.date(2026, 4, 3) and s.extensions_used == 1
    assert [e.kind for e in s.events][-4:] == [
        "extension_requested",
        "extension_refused",
        "extension_requested",
        "extension_approved",
    ]
    assert keys(db, "extension-decided:") == [
        f"extension-decided:{first.id}:agency{world['lead'].id}",
        f"extension-decided:{second.id}:agency{world['lead'].id}",
    ]
    with pytest.raises(Conflict):
        lifecycle.request_extension(
            s,
            agency=world["lead"],
            requested_due=dt.date(2026, 4, 10),
            reason="又要延期",
            now=NOW + 3 * DAY,
            actor=None,
        )


def test_a_deputys_suggestion_extends_by_up_to_three_months(db, world):
    s = new(db, world, source="deputy", deadline_policy="deputy", now=dt.datetime(2026, 1, 31, 2))
    assert s.reply_due == dt.date(2026, 4, 30)
    with pytest.raises(DomainError):
        lifecycle.request_extension(
            s,
            agency=world["lead"],
            requested_due=dt.date(2026, 7, 31),
            reason="需要立项",
            now=NOW,
            actor=None,
        )
    request = lifecycle.request_extension(
        s,
        agency=world["lead"],
        requested_due=dt.date(2026, 7, 30),
        reason="需要立项",
        now=NOW,
        actor=None,
    )
    lifecycle.decide_extension(request, approve=True, now=NOW, actor=world["staff"], note="同意")
    assert s.reply_due == dt.date(2026, 7, 30)
    assert db.session.get(ExtensionRequest, request.id).decision_note == "同意"


def test_co_handler_sends_its_opinion_to_the_lead(db, world):
    s = new(db, world)
    with pytest.raises(Conflict):
        lifecycle.co_opinion(s, agency=world["lead"], opinion="x", now=NOW, actor=None)
    with pytest.raises(DomainError) as caught:
        lifecycle.co_opinion(s, agency=world["co"], opinion="", now=NOW, actor=None)
    assert caught.value.field == "opinion"
    lifecycle.co_opinion(s, agency=world["co"], opinion="街道配合清淤", now=NOW + DAY, actor=None)
    db.session.commit()
    link = next(x for x in s.agencies if x.role == "co")
    assert link.opinion == "街道配合清淤" and link.opinion_at == NOW + DAY
    assert (s.events[-1].kind, s.events[-1].on_time) == ("co_opinion", True)
    assert keys(db, f"co-opinion:{s.id}:") == [f"co-opinion:{s.id}:3:agency{world['lead'].id}"]


def test_reply_answers_every_citizen_with_a_mobile_by_sms(db, world):
    s = accepted(
        db,
        world,
        citizens=[
            {"name": "张三", "phone": "13800138000"},
            {"name": "李四", "phone": "0731-58581234"},
            {"name": None, "phone": None},
        ],
    )
    with pytest.raises(DomainError) as caught:
        lifecycle.reply(s, agency=world["lead"], text="答复", reply_class="E", now=NOW, actor=None)
    assert caught.value.field == "reply_class"
    with pytest.raises(Conflict):
        lifecycle.reply(s, agency=world["co"], text="答复", reply_class="A", now=NOW, actor=None)
    lifecycle.reply(
        s, agency=world["lead"], text="已完成清淤。", reply_class="A", now=NOW + DAY, actor=None
    )
    db.session.commit()
    assert (s.status, s.reply_class, s.reply_text) == ("replied", "A", "已完成清淤。")
    assert all(c.replied_to_at == NOW + DAY for c in s.citizens)
    sms = db.session.scalars(sa.select(OutboxMessage).where(OutboxMessage.channel == "sms")).all()
    assert [(m.dedupe_key, m.recipient, m.sms_template, m.params) for m in sms] == [
        (
            f"replied:{s.id}:{s.citizens[0].id}:0",
            "13800138000",
            "SUGGESTION_REPLIED",
            {"code": s.tracking_code},
        )
    ]
    event = s.events[-1]
    assert (event.kind, event.public, event.on_time, event.detail) == ("replied", True, True, "A")


def test_follow_up_then_close_and_closed_stays_closed(db, world):
    s = replied(
        db,
        world,
        citizens=[{"name": "张三", "phone": "13800138000"}, {"name": "李四", "phone": None}],
    )
    with pytest.raises(Conflict):
        lifecycle.close(s, now=NOW, actor=None)
    first, second = s.citizens
    lifecycle.record_follow_up(
        s, first, satisfaction="satisfied", note="", now=NOW + 4 * DAY, actor=world["staff"]
    )
    with pytest.raises(Conflict):
        lifecycle.record_follow_up(s, first, satisfaction="satisfied", note="", now=NOW, actor=None)
    with pytest.raises(DomainError) as caught:
        lifecycle.record_follow_up(s, second, satisfaction="meh", note="", now=NOW, actor=None)
    assert caught.value.field == "satisfaction"
    with pytest.raises(Conflict):
        lifecycle.close(s, now=NOW, actor=None)
    lifecycle.record_follow_up(
        s, second, satisfaction="basically", note="还行", now=NOW + 4 * DAY, actor=None
    )
    lifecycle.close(s, now=NOW + 5 * DAY, actor=world["staff"])
    db.session.commit()
    assert s.status == "closed" and s.closed_at == NOW + 5 * DAY
    for step in (
        lambda: lifecycle.close(s, now=NOW, actor=None),
        lambda: lifecycle.accept(s, agency=world["lead"], now=NOW, actor=None),
        lambda: lifecycle.assign(s, lead_agency=world["other"], now=NOW, actor=None, reason="x"),
        lambda: lifecycle.rehandle(s, now=NOW, actor=None, reason="nobody is dissatisfied"),
        lambda: lifecycle.merge(s, into=new(db, world), now=NOW, actor=None),
    ):
        with pytest.raises(Conflict):
            step()
    assert s.status == "closed"


def test_a_dissatisfied_citizen_reopens_it_at_most_twice(app, db, world):
    s = replied(db, world)
    count = len(s.events)
    for round_ in (1, 2):
        lifecycle.record_follow_up(
            s, s.citizens[0], satisfaction="dissatisfied", note="还是臭", now=NOW, actor=None
        )
        lifecycle.close(s, now=NOW + 4 * DAY, actor=None)
        later = NOW + dt.timedelta(days=7 * round_)
        lifecycle.rehandle(s, now=later, actor=None, reason="群众不满意")
        db.session.commit()
        assert (s.status, s.rehandle_count) == ("assigned", round_)
        assert s.assigned_at == later and s.reply_text == "" and s.citizens[0].satisfaction is None
        assert keys(db, f"rehandled:{s.id}:{round_}:") == sorted(
            f"rehandled:{s.id}:{round_}:agency{world[name].id}" for name in ("lead", "co")
        )
        lifecycle.accept(s, agency=world["lead"], now=later, actor=None)
        lifecycle.reply(
            s, agency=world["lead"], text="再次清淤", reply_class="B", now=later, actor=None
        )
        db.session.commit()
    # 15 working days after Monday 16 March, with Qingming (6 April) off.
    assert s.reply_due == dt.date(2026, 4, 7)
    assert len(s.events) == count + 2 * 5
    assert keys(db, f"replied:{s.id}:") == [
        f"replied:{s.id}:{s.citizens[0].id}:{n}" for n in (0, 1, 2)
    ]
    lifecycle.record_follow_up(
        s, s.citizens[0], satisfaction="dissatisfied", note="", now=NOW, actor=None
    )
    with pytest.raises(Conflict):
        lifecycle.rehandle(s, now=NOW, actor=None, reason="第三次")


def test_merged_suggestions_are_handled_once_and_answered_separately(db, world):
    main = new(db, world, citizens=[{"name": "张三", "phone": "13800138000"}])
    duplicate = new(db, world, citizens=[{"name": "李四", "phone": "13900139000"}])
    with pytest.raises(Conflict):
        lifecycle.merge(main, into=main, now=NOW, actor=None)
    lifecycle.merge(duplicate, into=main, now=NOW, actor=world["staff"])
    db.session.commit()
    assert duplicate.status == "merged" and duplicate.merged_into_id == main.id
    assert (duplicate.events[-1].kind, duplicate.events[-1].detail) == ("merged", str(main.id))
    with pytest.raises(Conflict):
        lifecycle.merge(main, into=duplicate, now=NOW, actor=None)
    with pytest.raises(Conflict):
        lifecycle.accept(duplicate, agency=world["lead"], now=NOW, actor=None)
    lifecycle.accept(main, agency=world["lead"], now=NOW, actor=None)
    lifecycle.reply(
        main, agency=world["lead"], text="统一答复", reply_class="A", now=NOW, actor=None
    )
    db.session.commit()
    sms = dict(
        db.session.execute(
            sa.select(OutboxMessage.recipient, OutboxMessage.sms_params).where(
                OutboxMessage.channel == "sms"
            )
        ).all()
    )
    assert sms == {
        "13800138000": f'{{"code": "{main.tracking_code}"}}',
        "13900139000": f'{{"code": "{duplicate.tracking_code}"}}',
    }
    lifecycle.record_follow_up(
        main, main.citizens[0], satisfaction="satisfied", note="", now=NOW, actor=None
    )
    with pytest.raises(Conflict):
        lifecycle.close(main, now=NOW, actor=None)
    lifecycle.record_follow_up(
        duplicate, duplicate.citizens[0], satisfaction="satisfied", note="", now=NOW, actor=None
    )
    assert duplicate.events[-1].kind == "followed_up"
    lifecycle.close(main, now=NOW, actor=None)
    assert main.status == "closed" and duplicate.status == "merged"


def test_merging_moves_earlier_duplicates_along(db, world):
    a, b, c = (new(db, world, code="other") for _ in range(3))
    lifecycle.merge(a, into=b, now=NOW, actor=None)
    lifecycle.merge(b, into=c, now=NOW, actor=None)
    db.session.commit()
    assert (a.merged_into_id, b.merged_into_id) == (c.id, c.id)
    assert [d.id for d in c.duplicates] == [a.id, b.id]


def test_conflicts_answer_409_and_change_nothing(db, world):
    s = new(db, world, code="other")
    events = db.session.scalar(sa.select(sa.func.count()).select_from(SuggestionEvent))
    for step in (
        lambda: lifecycle.accept(s, agency=world["lead"], now=NOW, actor=None),
        lambda: lifecycle.reply(
            s, agency=world["lead"], text="x", reply_class="A", now=NOW, actor=None
        ),
        lambda: lifecycle.close(s, now=NOW, actor=None),
        lambda: lifecycle.co_opinion(s, agency=world["co"], opinion="x", now=NOW, actor=None),
    ):
        with pytest.raises(Conflict) as caught:
            step()
        assert caught.value.status == 409 and str(caught.value.message)
    db.session.commit()
    assert s.status == "triage"
    assert db.session.scalar(sa.select(sa.func.count()).select_from(SuggestionEvent)) == events


def test_deadline_state(db, world):
    s = new(db, world)  # accept by 4 March, answer by 23 March
    assert lifecycle.deadline_state(s, dt.date(2026, 3, 2)) == "on_time"
    assert lifecycle.deadline_state(s, dt.date(2026, 3, 5)) == "overdue"  # not accepted
    lifecycle.accept(s, agency=world["lead"], now=NOW, actor=None)
    assert lifecycle.deadline_state(s, dt.date(2026, 3, 5)) == "on_time"
    assert lifecycle.deadline_state(s, dt.date(2026, 3, 17)) == "on_time"
    assert lifecycle.deadline_state(s, dt.date(2026, 3, 18)) == "due_soon"  # 3 working days left
    assert lifecycle.deadline_state(s, dt.date(2026, 3, 23)) == "due_soon"
    assert lifecycle.deadline_state(s, dt.date(2026, 3, 24)) == "overdue"
    triage = new(db, world, code="other")
    assert lifecycle.deadline_state(triage, dt.date(2026, 3, 24)) is None
