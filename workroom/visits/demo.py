"""Demo visits at the Xiasheshi workroom (called by workroom.demo.seed_demo).

Every visitor is invented, and their numbers use the 138 0013 8xxx test range.
"""

from __future__ import annotations

import datetime as dt

import sqlalchemy as sa

from workroom.auth.accounts import find_user
from workroom.categories.models import Category
from workroom.clock import local_date, to_utc
from workroom.db import db
from workroom.people.models import Deputy
from workroom.places.models import Workroom
from workroom.schedule.models import ReceptionDay
from workroom.visits.checkin import new_receipt_code, next_ticket, ticket_label, visitor_phone_hash
from workroom.visits.models import Visit
from workroom.visits.privacy_notice import CURRENT_VERSION
from workroom.workdays.calendar import working_calendar

# Working days back, local time, channel, category code, name, phone, outcome, by a
# deputy (else the liaison), what was said, the record's summary.
PAST_VISITS = [
    (
        2,
        "09:20",
        "kiosk",
        "urban-housing",
        "李秀英",
        "13800138001",
        "suggestion",
        True,
        "小区电梯经常停运，老人上下楼困难。",
        "电梯维保不到位，建议督促物业整改。",
    ),
    (
        2,
        "09:45",
        "phone",
        "environment-noise",
        None,
        None,
        "referred",
        True,
        "夜间施工噪声扰民。",
        "转岳塘分局核查夜间施工许可。",
    ),
    (
        3,
        "10:05",
        "walk_in",
        "health-insurance",
        "张建华",
        "13800138002",
        "answered",
        False,
        "门诊慢特病报销比例不清楚。",
        "当场解释报销政策并提供咨询电话。",
    ),
    (
        5,
        "15:10",
        "call",
        "transport-bus",
        "王桂兰",
        "13800138003",
        "suggestion",
        False,
        "希望增开到湘潭北站的公交。",
        "公交线路建议，待整理上报。",
    ),
    (
        7,
        "09:30",
        "kiosk",
        "urban-housing",
        "李秀英",
        "13800138001",
        "answered",
        True,
        "再次反映电梯问题，物业已开始维修。",
        "告知整改进度，群众表示认可。",
    ),
    (
        8,
        "10:40",
        "letter",
        "agriculture-irrigation",
        "刘志刚",
        None,
        "referred",
        False,
        "立新村灌溉渠堵塞。",
        "来信转街道农业办。",
    ),
    (
        10,
        "16:00",
        "message",
        "community-disputes",
        None,
        "13800138004",
        "none",
        False,
        "楼上漏水，邻里协商未果。",
        "已电话回复，建议先由社区调解。",
    ),
    (
        12,
        "09:15",
        "kiosk",
        "social-security-pension",
        "陈玉梅",
        "13800138005",
        "answered",
        True,
        "养老保险缴费年限如何查询。",
        "现场指导使用湘税社保查询。",
    ),
    (
        15,
        "10:30",
        "walk_in",
        "environment-waste",
        "杨明",
        None,
        "suggestion",
        False,
        "垃圾分类亭位置不合理。",
        "建议调整分类亭位置，待上报。",
    ),
    (
        18,
        "14:50",
        "phone",
        "education-enrolment",
        None,
        "13800138006",
        "answered",
        False,
        "孩子入学划片咨询。",
        "告知学区划分查询方式。",
    ),
]
# Today's queue, when today is a reception day at the workroom: category codes.
TODAY_QUEUE = ["urban-renewal", "health-community", "transport-parking", "other"]


def _working_days_back(today: dt.date, count: int) -> dt.date:
    calendar = working_calendar([today.year - 1, today.year])
    day = today
    for _ in range(count):
        day -= dt.timedelta(days=1)
        while not calendar.is_working_day(day):
            day -= dt.timedelta(days=1)
    return day


def _visit(workroom: Workroom, **fields: object) -> Visit:
    phone = fields.get("phone")
    fields.setdefault("kind", "checkin")
    visit = Visit(
        workroom_id=workroom.id,
        receipt_code=new_receipt_code(),
        phone_hash=visitor_phone_hash(str(phone)) if phone else None,
        wants_reply=bool(phone),
        **fields,
    )
    db.session.add(visit)
    return visit


def seed(now: dt.datetime) -> int:
    """Add demo visits at Xiasheshi unless it has visits already; returns how many."""
    workroom = db.session.scalar(sa.select(Workroom).where(Workroom.slug == "xiasheshi"))
    if workroom is None:
        return 0
    if db.session.scalar(sa.select(Visit.id).where(Visit.workroom_id == workroom.id).limit(1)):
        return 0
    categories = {c.code: c for c in db.session.scalars(sa.select(Category))}
    deputies = list(
        db.session.scalars(
            sa.select(Deputy)
            .join(Deputy.workrooms)
            .where(Workroom.id == workroom.id, Deputy.active.is_(True))
            .order_by(Deputy.id)
            .limit(3)
        )
    )
    liaison = find_user("liaison")
    today = local_date(now)
    created = 0
    for index, row in enumerate(PAST_VISITS):
        back, time, channel, code, name, phone, outcome, by_deputy, said, summary = row
        day = _working_days_back(today, back)
        hour, minute = (int(part) for part in time.split(":"))
        arrived = to_utc(day, dt.time(hour, minute))
        deputy = deputies[index % len(deputies)] if by_deputy and deputies else None
        queued = channel in ("kiosk", "phone")
        fields: dict[str, object] = {
            "channel": channel,
            "kind": "checkin" if queued else ("message" if channel == "message" else "record"),
            "category_id": categories[code].id if code in categories else None,
            "visitor_name": name,
            "phone": phone,
            "description": said,
            "status": "done",
            "arrived_at": arrived,
            "ended_at": arrived + dt.timedelta(minutes=25),
            "deputy_id": deputy.id if deputy else None,
            "to_liaison": deputy is None,
            "received_by_id": liaison.id if liaison else None,
            "summary": summary,
            "outcome": outcome,
        }
        if queued:
            number = next_ticket(workroom.id, day)
            fields.update(
                ticket_date=day,
                ticket_number=number,
                ticket_label=ticket_label(number),
                called_at=arrived + dt.timedelta(minutes=6),
                call_count=1,
                started_at=arrived + dt.timedelta(minutes=8),
                consent_version=CURRENT_VERSION,
                consented_at=arrived,
            )
        _visit(workroom, **fields)
        created += 1
    reception_today = db.session.scalar(
        sa.select(ReceptionDay.id).where(
            ReceptionDay.workroom_id == workroom.id,
            ReceptionDay.day == today,
            ReceptionDay.status == "published",
        )
    )
    if reception_today is not None:
        for minutes, code in enumerate(TODAY_QUEUE):
            number = next_ticket(workroom.id, today)
            _visit(
                workroom,
                channel="kiosk",
                category_id=categories[code].id if code in categories else None,
                description="",
                status="waiting",
                arrived_at=now - dt.timedelta(minutes=5 * (len(TODAY_QUEUE) - minutes)),
                ticket_date=today,
                ticket_number=number,
                ticket_label=ticket_label(number),
                reception_day_id=reception_today,
                consent_version=CURRENT_VERSION,
                consented_at=now,
            )
            created += 1
    db.session.flush()
    return created
