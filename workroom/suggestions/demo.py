"""Demo suggestions over Yuetang district (called by workroom.demo.seed_demo).

Routing rules for the demo agencies, and a few dozen suggestions in every state of the
lifecycle, played through the same domain functions as the pages, so each demo account
has work to see: agency1 (湘潭市生态环境局岳塘分局) and agency2 (岳塘区住房和城乡建设局)
lead some and co-handle others. Every citizen is invented; their numbers use the
138 0013 8xxx test range.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from typing import Any

import sqlalchemy as sa

from workroom.auth.accounts import find_user
from workroom.categories.models import Category
from workroom.db import db
from workroom.outbox.models import OutboxMessage
from workroom.people.models import Agency, Deputy, ProfessionalGroup
from workroom.places.models import Area, Workroom
from workroom.suggestions import lifecycle, routing
from workroom.suggestions.models import RoutingRule, Suggestion
from workroom.visits.models import Visit

# Category, lead agency, co-handling agencies, professional group; all over 岳塘区.
RULES = [
    ("environment", "yt-ecology", [], "environment"),
    ("urban", "yt-housing", [], None),
    ("urban-renewal", "yt-housing", ["yt-ecology"], None),
    ("environment-waste", "yt-ecology", ["yt-housing"], "environment"),
    ("health", "yt-health", [], None),
    ("agriculture", "yt-agri", [], "agriculture"),
    ("social-security", "yt-civil", [], None),
]


@dataclasses.dataclass(frozen=True)
class Story:
    """One demo suggestion: raised ``days`` ago and played up to ``state``."""

    days: int
    code: str
    street: str
    title: str
    content: str
    state: str
    citizen: tuple[str | None, str | None] | None = ("", None)
    confidential: bool = False
    source: str = "liaison"


STORIES = [
    # agency1: 生态环境分局
    Story(
        2,
        "environment-water",
        "下摄司街道",
        "湘江支流河段有异味",
        "下摄司社区旁的支流河段夏季有明显异味，疑似有生活污水直排。",
        "assigned",
        ("周建国", "13800138101"),
    ),
    Story(
        12,
        "environment-noise",
        "下摄司街道",
        "夜间施工噪声扰民",
        "和平社区附近工地晚上十点后仍在施工，影响老人休息。",
        "assigned",
        ("吴丽", "13800138102"),
    ),
    Story(
        1,
        "environment-air",
        "建设路街道",
        "餐馆油烟直排",
        "建设路社区一家餐馆油烟未经净化直接排放。",
        "assigned",
        ("郑海燕", "13800138103"),
        True,
    ),
    Story(
        3,
        "environment-air",
        "荷塘街道",
        "露天焚烧秸秆",
        "五星村附近经常有人露天焚烧秸秆和垃圾。",
        "accepted",
        ("王志刚", "13800138104"),
    ),
    Story(
        19,
        "environment-water",
        "下摄司街道",
        "雨污管网混接",
        "湘江社区雨水井雨后冒出污水，怀疑雨污混接。",
        "accepted",
        ("李秀英", "13800138105"),
    ),
    Story(
        26,
        "environment-noise",
        "建设路街道",
        "广场舞音响过大",
        "红旗社区广场舞音响声音过大，持续到晚上九点半。",
        "accepted",
        ("陈明", "13800138106"),
    ),
    Story(
        9,
        "environment-waste",
        "下摄司街道",
        "垃圾中转站异味",
        "垃圾中转站清运不及时，周边居民反映异味严重。",
        "co_opinion",
        ("杨春", "13800138107"),
    ),
    Story(
        14,
        "environment-water",
        "荷塘街道",
        "池塘水质变差",
        "荷塘社区池塘水体发绿发臭，希望治理。",
        "extension",
        ("黄桂兰", "13800138108"),
    ),
    Story(
        30,
        "environment-air",
        "下摄司街道",
        "工厂粉尘影响晾晒",
        "立新村附近工厂粉尘较大，居民衣物无法晾晒。",
        "replied",
        ("赵强", "13800138109"),
    ),
    Story(
        40,
        "environment-noise",
        "荷塘街道",
        "变电站低频噪声",
        "荷塘社区变电站附近夜间有低频噪声。",
        "replied",
        ("孙敏", "13800138110"),
        True,
    ),
    Story(
        55,
        "environment-water",
        "下摄司街道",
        "河道垃圾清理",
        "湘江社区河道内漂浮垃圾较多，请定期清理。",
        "closed",
        ("马军", "13800138111"),
    ),
    Story(
        60,
        "environment-waste",
        "建设路街道",
        "垃圾分类亭位置不合理",
        "分类亭紧挨住宅窗户，夏天气味大。",
        "closed",
        ("朱红", "13800138112"),
    ),
    Story(
        70,
        "environment-air",
        "下摄司街道",
        "汽修店喷漆异味",
        "和平社区汽修店露天喷漆，气味刺鼻。",
        "rehandled",
        ("胡杰", "13800138113"),
    ),
    Story(
        4,
        "environment-noise",
        "下摄司街道",
        "商铺外放音乐",
        "下摄司社区沿街商铺外放音乐招揽顾客。",
        "returned",
        ("郭涛", "13800138114"),
    ),
    # agency2: 住建局
    Story(
        1,
        "urban-housing",
        "下摄司街道",
        "小区电梯经常停运",
        "湘江社区某小区电梯经常停运，老人上下楼困难。",
        "assigned",
        ("何娟", "13800138115"),
    ),
    Story(
        11,
        "urban-roads",
        "建设路街道",
        "人行道破损",
        "建设路人行道多处地砖破损松动，雨天溅水。",
        "assigned",
        ("高磊", "13800138116"),
    ),
    Story(
        2,
        "urban-renewal",
        "下摄司街道",
        "老旧小区加装电梯",
        "和平社区老旧小区居民希望加装电梯，咨询补贴政策。",
        "accepted",
        ("林斌", "13800138117"),
    ),
    Story(
        20,
        "urban-housing",
        "荷塘街道",
        "物业费公示不透明",
        "荷塘社区某小区物业费收支未按时公示。",
        "accepted",
        ("罗超", "13800138118"),
        True,
    ),
    Story(
        8,
        "urban-renewal",
        "建设路街道",
        "老旧管网改造",
        "红旗社区老旧小区供水管网老化，经常爆管。",
        "co_opinion",
        ("梁娟", "13800138119"),
    ),
    Story(
        15,
        "urban-roads",
        "下摄司街道",
        "路灯不亮",
        "立新村主干道路灯损坏一个多月。",
        "extension",
        ("谢春", "13800138120"),
    ),
    Story(
        33,
        "urban-housing",
        "下摄司街道",
        "楼道堆物消防隐患",
        "湘江社区某楼栋楼道堆放杂物，存在消防隐患。",
        "replied",
        ("宋晓东", "13800138121"),
    ),
    Story(
        45,
        "urban-roads",
        "荷塘街道",
        "积水路段",
        "五星村进村道路雨后积水严重。",
        "replied",
        (None, "13800138122"),
    ),
    Story(
        58,
        "urban-renewal",
        "下摄司街道",
        "小区外墙脱落",
        "下摄司社区老旧小区外墙瓷砖脱落，存在安全隐患。",
        "closed",
        ("唐慧", "13800138123"),
    ),
    Story(
        65,
        "urban-housing",
        "建设路街道",
        "二次供水水压不足",
        "建设路社区高层住户水压不足。",
        "closed",
        ("许颖", "13800138124"),
    ),
    Story(
        75,
        "urban-roads",
        "下摄司街道",
        "井盖松动",
        "和平社区路口井盖松动，车辆经过响声大。",
        "rehandled",
        ("韩鹏", "13800138125"),
    ),
    # A deputy's formal suggestion, and merged duplicates.
    Story(
        10,
        "urban-renewal",
        "下摄司街道",
        "统筹推进老旧小区改造",
        "建议将下摄司街道老旧小区改造纳入年度计划，统筹管网、外墙和加装电梯。",
        "accepted",
        None,
        False,
        "deputy",
    ),
    Story(
        6,
        "environment-water",
        "下摄司街道",
        "支流河段异味（重复反映）",
        "又有居民反映支流河段异味。",
        "merged",
        ("冯飞", "13800138126"),
    ),
    Story(
        5,
        "urban-housing",
        "下摄司街道",
        "电梯停运（重复反映）",
        "同一小区另一栋居民反映电梯停运。",
        "merged",
        ("邓宇", "13800138127"),
    ),
    # Waiting in triage: no rule covers them.
    Story(
        1,
        "transport-parking",
        "下摄司街道",
        "小区周边停车难",
        "下摄司社区周边停车位不足，车辆乱停。",
        "triage",
        ("曹婷", "13800138128"),
    ),
    Story(
        2,
        "community-disputes",
        "建设路街道",
        "楼上漏水纠纷",
        "楼上漏水多次协商未果。",
        "triage",
        ("彭雪", "13800138129"),
    ),
    Story(
        3,
        "education-safety",
        "荷塘街道",
        "校门口交通秩序",
        "荷塘小学放学时校门口车辆拥堵。",
        "triage",
        (None, None),
    ),
]


def _lookup(model: type, column: Any, value: Any) -> Any:
    return db.session.scalar(sa.select(model).where(column == value))


def seed_rules(district: Area, agencies: dict[str, Agency], liaison: Any) -> int:
    """The demo routing rules, unless any rule exists already."""
    if db.session.scalar(sa.select(RoutingRule.id).limit(1)):
        return 0
    categories = {c.code: c for c in db.session.scalars(sa.select(Category))}
    created = 0
    for code, lead, co, group in RULES:
        if code not in categories or lead not in agencies:
            continue
        routing.create_rule(
            category=categories[code],
            area=district,
            lead_agency=agencies[lead],
            co_agencies=[agencies[c] for c in co if c in agencies],
            group=_lookup(ProfessionalGroup, ProfessionalGroup.code, group) if group else None,
            actor=liaison,
        )
        created += 1
    db.session.flush()
    return created


def _play(
    s: Suggestion, story: Story, start: dt.datetime, actors: dict[str, Any], now: dt.datetime
) -> None:
    """Take ``s`` from its submission at ``start`` to the story's state."""

    def at(days: float) -> dt.datetime:
        return min(start + dt.timedelta(days=days), now - dt.timedelta(minutes=5))

    liaison = actors["liaison"]
    if story.state in ("triage", "merged") or s.status != "assigned":
        return
    lead = s.lead_agency
    handler = actors.get(lead.code) if lead is not None else None
    co = [link.agency for link in s.agencies if link.role == "co"]
    if story.state == "returned":
        lifecycle.return_misassigned(
            s, agency=lead, reason="不属于本单位职责，建议交城管部门。", now=at(1), actor=handler
        )
        return
    if story.state == "assigned":
        return
    if story.state == "extension":
        lifecycle.request_extension(
            s,
            agency=lead,
            requested_due=s.reply_due + dt.timedelta(days=10),  # type: ignore[operator]
            reason="需要协调多个部门现场勘查。",
            now=at(2),
            actor=handler,
        )
        return
    lifecycle.accept(s, agency=lead, now=at(1), actor=handler)
    if story.state == "accepted":
        return
    if story.state == "co_opinion":
        for agency in co:
            lifecycle.co_opinion(
                s,
                agency=agency,
                opinion="同意牵头单位方案，我单位配合现场核查。",
                now=at(3),
                actor=actors.get(agency.code),
            )
        return
    lifecycle.reply(
        s,
        agency=lead,
        text="经现场核查，已责令整改并完成处理，后续将加强日常巡查。",
        reply_class="A" if story.state != "rehandled" else "B",
        now=at(8),
        actor=handler,
    )
    if story.state == "replied":
        return
    satisfaction = "dissatisfied" if story.state == "rehandled" else "satisfied"
    for citizen in lifecycle.group_citizens(s):
        lifecycle.record_follow_up(
            s, citizen, satisfaction=satisfaction, note="电话回访", now=at(10), actor=liaison
        )
    if story.state == "closed":
        lifecycle.close(s, now=at(11), actor=liaison)
    elif story.state == "rehandled":
        lifecycle.rehandle(
            s, now=at(11), actor=liaison, reason="群众反映问题仍未解决，请重新办理。"
        )


def seed(now: dt.datetime) -> int:
    """Add the demo rules and suggestions unless any suggestion exists; returns how
    many records were created (rules and suggestions)."""
    if db.session.scalar(sa.select(Suggestion.id).limit(1)):
        return 0
    district = _lookup(Area, Area.name, "岳塘区")
    workrooms = {w.area.name: w for w in db.session.scalars(sa.select(Workroom))}
    liaison = find_user("liaison")
    if district is None or liaison is None:
        return 0
    agencies = {a.code: a for a in db.session.scalars(sa.select(Agency))}
    actors: dict[str, Any] = {"liaison": liaison}
    for username in ("agency1", "agency2"):
        user = find_user(username)
        if user is not None and user.agency is not None:
            actors[user.agency.code] = user
    deputy = db.session.scalar(
        sa.select(Deputy)
        .join(Deputy.workrooms)
        .where(Workroom.slug == "xiasheshi")
        .order_by(Deputy.id)
    )
    categories = {c.code: c for c in db.session.scalars(sa.select(Category))}
    last_message = db.session.scalar(sa.select(sa.func.max(OutboxMessage.id))) or 0
    created = seed_rules(district, agencies, liaison)

    firsts: dict[str, Suggestion] = {}
    for index, story in enumerate(STORIES):
        workroom = workrooms.get(story.street)
        area = workroom.area if workroom else district
        start = now - dt.timedelta(days=story.days, hours=index % 5)
        citizens = []
        if story.citizen is not None and any(story.citizen):
            citizens = [{"visit": None, "name": story.citizen[0], "phone": story.citizen[1]}]
        s = lifecycle.submit(
            title=story.title,
            content=story.content,
            category=categories[story.code],
            area=area,
            source=story.source,
            now=start,
            actor=liaison,
            workroom=workroom,
            citizens=citizens,
            confidential=story.confidential,
            deputy=deputy if story.source == "deputy" else None,
        )
        created += 1
        key = story.code.split("-")[0]
        firsts.setdefault(key, s)
        if story.state == "merged" and firsts[key] is not s:
            lifecycle.merge(s, into=firsts[key], now=start + dt.timedelta(hours=1), actor=liaison)
            continue
        _play(s, story, start, actors, now)
    created += _from_visits(now, liaison, categories)
    # The demo's history happened in the past: none of its notifications are sent.
    db.session.flush()
    db.session.execute(sa.delete(OutboxMessage).where(OutboxMessage.id > last_message))
    return created


def _from_visits(now: dt.datetime, liaison: Any, categories: dict[str, Category]) -> int:
    """Raise a suggestion from each demo visit whose outcome asks for one, so a receipt
    code can be tracked on /track."""
    visits = db.session.scalars(
        sa.select(Visit)
        .where(Visit.outcome == "suggestion", Visit.purged_at.is_(None))
        .order_by(Visit.arrived_at)
    ).all()
    created = 0
    for visit in visits:
        category = visit.category or categories["community"]
        summary = (visit.summary or visit.description or "").strip()
        lifecycle.submit(
            title=(summary.split("，")[0] or summary)[:200],
            content="\n\n".join(p for p in (visit.description, visit.summary) if p),
            category=category,
            area=visit.workroom.area,
            source="visit",
            now=min(visit.arrived_at + dt.timedelta(hours=2), now),
            actor=liaison,
            workroom=visit.workroom,
            citizens=[{"visit": visit}],
        )
        created += 1
    return created
