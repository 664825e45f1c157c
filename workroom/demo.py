"""The demo workroom: Xiasheshi street in Yuetang district, Xiangtan.

Every person here is invented; names are drawn from common surnames and given-name
characters with a fixed seed, so the demo is the same on every machine.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import random

import sqlalchemy as sa

from workroom.auth.accounts import create_user, find_user, generate_password
from workroom.clock import utcnow
from workroom.db import db
from workroom.people.models import Agency, Deputy, ProfessionalGroup
from workroom.places.models import Area, Workroom
from workroom.schedule import demo as schedule_demo
from workroom.suggestions import demo as suggestions_demo
from workroom.visits import demo as visits_demo

SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘蒋蔡余杜叶程苏魏吕丁任沈姚卢姜崔钟谭陆汪范金石廖贾夏韦付方白邹孟熊秦邱江尹薛闫段雷侯龙史陶黎贺顾毛郝龚邵万钱严覃武戴莫孔向汤"
GIVEN = "建国华明丽芳军平伟强敏静秀英桂兰志刚海燕玉梅红霞勇杰涛磊斌超娟春晓东辉文慧颖鹏飞宇婷雪峰亮"
SECTORS = [
    "社区工作者",
    "教师",
    "医生",
    "企业职工",
    "个体工商户",
    "农业技术员",
    "律师",
    "退役军人",
    "街道干部",
    "民营企业家",
    "环卫工人",
    "护士",
    "工程师",
    "社会组织负责人",
]
LEVELS = ["national", "provincial", "municipal", "county", "county", "township", "township"]
TERMS = {
    "national": "第十四届",
    "provincial": "第十四届",
    "municipal": "第十六届",
    "county": "第十八届",
    "township": "第十九届",
}

WORKROOMS = [
    (
        "xiasheshi",
        "下摄司街道代表工作室",
        "下摄司街道",
        "岳塘区下摄司街道办事处一楼",
        "0731-58581234",
    ),
    (
        "jianshelu",
        "建设路街道代表联络站",
        "建设路街道",
        "岳塘区建设路街道综合服务中心",
        "0731-58582345",
    ),
    ("hetang", "荷塘街道代表联络站", "荷塘街道", "岳塘区荷塘街道便民服务中心二楼", "0731-58583456"),
]
COMMUNITIES = {
    "下摄司街道": ["下摄司社区", "湘江社区", "和平社区", "立新村"],
    "建设路街道": ["建设路社区", "红旗社区"],
    "荷塘街道": ["荷塘社区", "五星村"],
}
GROUPS = [("environment", "环保代表专业小组"), ("agriculture", "农业代表专业小组")]
AGENCIES = [
    ("yt-gov", "岳塘区人民政府办公室", None),
    ("yt-health", "岳塘区卫生健康局", "yt-gov"),
    ("yt-housing", "岳塘区住房和城乡建设局", "yt-gov"),
    ("yt-ecology", "湘潭市生态环境局岳塘分局", "yt-gov"),
    ("yt-agri", "岳塘区农业农村局", "yt-gov"),
    ("yt-civil", "岳塘区民政局", "yt-gov"),
    ("xss-office", "下摄司街道办事处", "yt-gov"),
]
DEPUTY_COUNT = 100


@dataclasses.dataclass
class DemoReport:
    created: dict[str, int]
    password: str | None
    password_generated: bool

    def summary(self) -> str:
        parts = [f"{name}: {count}" for name, count in self.created.items() if count]
        return "Demo loaded. Created " + (", ".join(parts) if parts else "nothing new") + "."


def _area(name: str, level: str, parent: Area | None, created: dict[str, int]) -> Area:
    same_parent = Area.parent_id == parent.id if parent else Area.parent_id.is_(None)
    area = db.session.scalar(sa.select(Area).where(Area.name == name, same_parent))
    if area is None:
        area = Area(name=name, level=level, parent=parent, active=True)
        db.session.add(area)
        db.session.flush()
        created["areas"] += 1
    return area


def seed_places(created: dict[str, int]) -> dict[str, Workroom]:
    city = _area("湘潭市", "city", None, created)
    district = _area("岳塘区", "district", city, created)
    workrooms: dict[str, Workroom] = {}
    for slug, name, street_name, address, phone in WORKROOMS:
        street = _area(street_name, "street", district, created)
        for community in COMMUNITIES[street_name]:
            _area(community, "community", street, created)
        workroom = db.session.scalar(sa.select(Workroom).where(Workroom.slug == slug))
        if workroom is None:
            workroom = Workroom(
                slug=slug,
                name=name,
                area=street,
                address=address,
                phone=phone,
                liaison_hours="09:00-12:00,14:30-17:30",
                active=True,
            )
            db.session.add(workroom)
            created["workrooms"] += 1
        workrooms[slug] = workroom
    db.session.flush()
    return workrooms


def seed_people(workrooms: dict[str, Workroom], created: dict[str, int]) -> None:
    groups = {}
    for code, name in GROUPS:
        group = db.session.scalar(
            sa.select(ProfessionalGroup).where(ProfessionalGroup.code == code)
        )
        if group is None:
            group = ProfessionalGroup(code=code, name=name, active=True)
            db.session.add(group)
            created["groups"] += 1
        groups[code] = group
    district = db.session.scalar(sa.select(Area).where(Area.name == "岳塘区"))
    agencies: dict[str, Agency] = {}
    for code, name, supervisor in AGENCIES:
        agency = db.session.scalar(sa.select(Agency).where(Agency.code == code))
        if agency is None:
            agency = Agency(
                code=code,
                name=name,
                area=district,
                contact_name="办公室",
                contact_phone="0731-5858" + str(1000 + len(agencies)),
                supervisor=agencies.get(supervisor or ""),
                active=True,
            )
            db.session.add(agency)
            created["agencies"] += 1
        agencies[code] = agency
    if db.session.scalar(sa.select(sa.func.count()).select_from(Deputy)):
        return
    rng = random.Random(20261128)
    others = [w for slug, w in workrooms.items() if slug != "xiasheshi"]
    used: set[str] = set()
    while len(used) < DEPUTY_COUNT:
        name = rng.choice(SURNAMES) + "".join(rng.sample(GIVEN, rng.choice((1, 2))))
        if name in used:
            continue
        used.add(name)
        level = rng.choice(LEVELS)
        attached = [workrooms["xiasheshi"]]
        if rng.random() < 0.4:
            attached += rng.sample(others, rng.choice((1, 2)))
        member_of = [groups["environment"]] if rng.random() < 0.15 else []
        if rng.random() < 0.15:
            member_of.append(groups["agriculture"])
        db.session.add(
            Deputy(
                name=name,
                level=level,
                term=TERMS[level],
                constituency=f"岳塘区第{rng.randint(1, 30)}选区",
                sector=rng.choice(SECTORS),
                # No phone number: an invented one could belong to someone real.
                # example.org is reserved (RFC 2606), so reminders reach nobody.
                phone="",
                email=f"deputy{len(used)}@example.org",
                workrooms=attached,
                groups=member_of,
                active=True,
            )
        )
        created["deputies"] += 1
    db.session.flush()


def seed_accounts(password: str, created: dict[str, int]) -> None:
    xiasheshi = db.session.scalar(sa.select(Workroom).where(Workroom.slug == "xiasheshi"))
    first_deputy = db.session.scalar(
        sa.select(Deputy)
        .join(Deputy.workrooms)
        .where(Workroom.slug == "xiasheshi")
        .order_by(Deputy.id)
    )
    agency = {a.code: a for a in db.session.scalars(sa.select(Agency))}
    accounts = [
        ("admin", "admin", {}, "系统管理员"),
        ("liaison", "liaison", {"workrooms": [xiasheshi]}, "下摄司联络员"),
        ("deputy", "deputy", {"deputy": first_deputy}, first_deputy.name if first_deputy else ""),
        ("agency1", "agency_handler", {"agency": agency["yt-ecology"]}, "生态环境分局经办人"),
        ("agency2", "agency_handler", {"agency": agency["yt-housing"]}, "住建局经办人"),
    ]
    for username, role, scope, display in accounts:
        if find_user(username) is None:
            create_user(username, role, password=password, display_name=display, **scope)
            created["accounts"] += 1


def seed_demo(password: str | None = None, now: dt.datetime | None = None) -> DemoReport:
    """Load the demo; running it again adds only what is missing. The caller commits."""
    created = dict.fromkeys(("areas", "workrooms", "groups", "agencies", "deputies", "accounts"), 0)
    generated = password is None
    password = password or generate_password()
    workrooms = seed_places(created)
    seed_people(workrooms, created)
    seed_accounts(password, created)
    now = now or utcnow()
    created["reception days"] = schedule_demo.seed(now)
    created["visits"] = visits_demo.seed(now)
    created["suggestions"] = suggestions_demo.seed(now)
    return DemoReport(
        created=created,
        password=password if created["accounts"] else None,
        password_generated=generated and bool(created["accounts"]),
    )
