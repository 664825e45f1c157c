"""The messenger: each notice in its recipient's language, on the channels the recipient
has, under the dedupe keys the notices have always had; SMS parameters checked against
the one table; received by a real SMTP server and a real SMS webhook."""

from __future__ import annotations

import datetime as dt
import json
import re
from pathlib import Path

import pytest
import sqlalchemy as sa
from flask_babel import force_locale, gettext

from tests import test_lifecycle, test_outbox
from tests.test_lifecycle import new
from tests.test_public_schedule import add_day, utc
from workroom import messenger
from workroom.outbox.delivery import deliver_due
from workroom.outbox.models import OutboxMessage
from workroom.schedule import changes, deputy_days
from workroom.schedule.reminders import day_context, queue_deputy_reminder, send_reminders
from workroom.suggestions import lifecycle
from workroom.suggestions.deadlines import check_deadlines

ROOT = Path(__file__).resolve().parent.parent
NOW = utc(dt.date(2026, 3, 2), 9)  # Monday 2 March 2026, 09:00 in Shanghai
DAY = dt.date(2026, 3, 11)  # a Wednesday
ROOM = "下摄司街道代表工作室"

# Fixtures of other modules: the real SMTP server and SMS webhook, the lifecycle's world.
smtp_server = test_outbox.smtp_server
sms_gateway = test_outbox.sms_gateway
world = test_lifecycle.world


@pytest.fixture(autouse=True)
def clock_at_now(time_machine):
    # Every step below is dated NOW; the clock the code reads agrees.
    time_machine.move_to(NOW.replace(tzinfo=dt.UTC), tick=True)


@pytest.fixture
def app_config(app_config, smtp_server, sms_gateway):
    app_config.update(
        MAIL_SERVER="127.0.0.1",
        MAIL_PORT=smtp_server.port,
        MAIL_DEFAULT_SENDER="代表工作室 <noreply@workroom.test>",
        SMS_WEBHOOK_URL=sms_gateway.url,
        SMS_TIMEOUT=2,
        MAIL_TIMEOUT=2,
    )
    return app_config


@pytest.fixture
def room(make_workroom):
    return make_workroom(name=ROOM)


def keys(db, prefix: str = "") -> set[str]:
    db.session.expire_all()
    return set(
        db.session.scalars(
            sa.select(OutboxMessage.dedupe_key).where(OutboxMessage.dedupe_key.startswith(prefix))
        )
    )


def zh(message: str, **values: str) -> str:
    with force_locale("zh_Hans_CN"):
        return gettext(message, **values)


# Languages


def test_each_liaison_reads_the_swap_request_in_its_own_language(
    db,
    room,
    make_deputy,
    make_user,
    smtp_server,
):
    deputy = make_deputy(name="张建国", email="zhang@example.cn")
    english = make_user("liaison", workrooms=[room], display_name="Wang Fang")
    english.email, english.locale = "wang@example.cn", "en"
    chinese = make_user("liaison", workrooms=[room], display_name="李红")
    chinese.email = "li@example.cn"
    make_user("liaison", workrooms=[room])  # no address: no email
    db.session.commit()
    day = add_day(db, room, DAY, [deputy])

    deputy_days.request_swap(day.assignments[0], "外地出差", NOW)
    db.session.commit()
    assert deliver_due(NOW).sent == 2

    received = {m["to"][0]: m for m in smtp_server.messages}
    assert set(received) == {"wang@example.cn", "li@example.cn"}
    in_english, in_chinese = received["wang@example.cn"], received["li@example.cn"]
    assert in_english["subject"] == f"Swap request: 张建国, Wednesday, March 11, 2026 at {ROOM}"
    assert in_english["body"].splitlines() == [
        "Hello Wang Fang,",
        "",
        f"张建国 asks to swap the reception day at {ROOM} on Wednesday, March 11, 2026, "
        "09:00–11:30.",
        "",
        "Reason: 外地出差",
        "",
        f"Choose a substitute: http://workroom.test/staff/workrooms/{room.id}/swaps",
    ]
    date = "2026年3月11日星期三"
    assert in_chinese["subject"] == zh(
        "Swap request: %(name)s, %(date)s at %(workroom)s",
        name="张建国",
        date=date,
        workroom=ROOM,
    )
    assert in_chinese["body"].startswith(zh("Hello %(name)s,", name="李红"))
    assert zh("Reason: %(reason)s", reason="外地出差") in in_chinese["body"]
    assert date in in_chinese["body"]
    assert not re.search(r"Hello|Reason|Wednesday|asks", in_chinese["body"])


def test_a_deputy_hears_in_its_account_s_language_else_in_chinese(
    db,
    room,
    make_deputy,
    make_user,
    smtp_server,
    sms_gateway,
):
    anna = make_deputy(name="Anna", email="anna@example.cn", phone="13800138000")
    account = make_user("deputy", deputy=anna)
    account.locale = "en"
    li = make_deputy(name="李秀英", email="li@example.cn", phone="13900139000")
    make_user("deputy", deputy=li)  # an account without a language: the default
    db.session.commit()
    day = add_day(db, room, DAY, [anna, li])
    for assignment in day.assignments:
        assert queue_deputy_reminder(assignment, "published", NOW) == 2
    db.session.commit()
    assert deliver_due(NOW).sent == 4

    subjects = {m["to"][0]: m["subject"] for m in smtp_server.messages}
    assert subjects == {
        "anna@example.cn": f"You are on duty on Wednesday, March 11, 2026 at {ROOM} (reception day)",
        "li@example.cn": zh(
            "You are on duty on %(date)s at %(workroom)s (reception day)",
            date="2026年3月11日星期三",
            workroom=ROOM,
        ),
    }
    english = next(m for m in smtp_server.messages if m["to"] == ["anna@example.cn"])
    assert english["body"].startswith("Dear Anna,") and "With: 李秀英" in english["body"]
    texts = {r["body"]["phone"]: r["body"] for r in sms_gateway.requests}
    # The SMS text is the gateway's, registered in Chinese: its date is Chinese for both.
    assert texts["13800138000"]["params"]["date"] == "2026年3月11日"
    assert texts["13900139000"]["params"]["date"] == "2026年3月11日"
    assert {t["template"] for t in texts.values()} == {"RECEPTION_REMINDER"}


def test_agencies_get_the_default_language(db, world, smtp_server):
    world["liaison"].locale = "en"  # the acting liaison's language does not reach them
    db.session.commit()
    s = new(db, world)
    assert deliver_due(NOW).sent == 2
    assert {m["subject"] for m in smtp_server.messages} == {
        zh("New suggestion assigned: %(code)s", code=s.tracking_code)
    }
    lead = next(m for m in smtp_server.messages if m["to"] == ["env@example.cn"])
    assert lead["body"].splitlines() == [
        zh("Suggestion %(code)s: %(title)s", code=s.tracking_code, title="河道有异味"),
        zh(
            "Your agency leads its handling. Accept it by %(accept)s and answer by %(reply)s.",
            accept="2026-03-04",
            reply="2026-03-23",
        ),
        "",
        zh("Sign in to Workroom to handle it: %(link)s", link="http://workroom.test"),
    ]


# Dedupe keys


def test_every_schedule_notice_keeps_its_key_and_a_repeat_queues_nothing(
    db, room, make_deputy, make_user
):
    zhang = make_deputy(name="张建国", email="zhang@example.cn", phone="13800138000")
    li = make_deputy(name="李秀英", email="li@example.cn")
    liaison = make_user("liaison", workrooms=[room])
    liaison.email = "liaison@example.cn"
    db.session.commit()
    first = add_day(db, room, DAY, [zhang, li])
    second = add_day(db, room, DAY + dt.timedelta(days=7), [zhang])
    third = add_day(db, room, DAY + dt.timedelta(days=14), [zhang])
    z, lid, u = zhang.id, li.id, liaison.id

    for _run in range(2):
        for day in (first, second, third):
            for assignment in day.assignments:
                queue_deputy_reminder(assignment, "published", NOW)
        db.session.commit()
    two_days_before = utc(dt.date(2026, 3, 9), 9, 5)
    for _run in range(2):
        send_reminders(two_days_before)
        db.session.commit()
    assert keys(db, f"reminder:{first.id}:") == {
        f"reminder:{first.id}:{z}:published:0:email",
        f"reminder:{first.id}:{z}:published:0:sms",
        f"reminder:{first.id}:{lid}:published:0:email",
        f"reminder:{first.id}:{z}:days_before:0:email",
        f"reminder:{first.id}:{z}:days_before:0:sms",
        f"reminder:{first.id}:{lid}:days_before:0:email",
    }
    assert keys(db, "unconfirmed:") == {f"unconfirmed:{first.id}:0:{u}"}

    swap = deputy_days.request_swap(first.assignments[0], "外地出差", NOW)
    deputy_days.refuse_swap(swap, "请自行协调", NOW)
    deputy_days.respond(first.assignments[1], "decline", NOW)
    changes.remove_deputy(second, zhang, NOW)
    changes.cancel_day(third, "街道停电", NOW)
    db.session.commit()
    assert keys(db, "swap-") == {
        f"swap-requested:{swap.id}:liaison-{u}",
        f"swap-refused:{swap.id}:email",
        f"swap-refused:{swap.id}:sms",
    }
    assert keys(db, "declined:") == {f"declined:{first.id}:{lid}:{u}"}
    assert keys(db, "removed:") == {
        f"removed:{second.id}:{z}:1:email",
        f"removed:{second.id}:{z}:1:sms",
    }
    assert keys(db, "cancelled:") == {
        f"cancelled:{third.id}:{z}:1:email",
        f"cancelled:{third.id}:{z}:1:sms",
    }
    cancelled = db.session.scalar(
        sa.select(OutboxMessage).where(OutboxMessage.dedupe_key.like("cancelled:%:sms"))
    )
    assert cancelled.params["reason"] == "街道停电"
    assert cancelled.sms_template == "RECEPTION_CANCELLED"


def test_every_suggestion_notice_keeps_its_key_and_a_repeat_queues_nothing(db, world):
    lead, co, supervisor = world["lead"], world["co"], world["supervisor"]
    liaison = world["liaison"].id
    s = new(db, world)
    assert keys(db, f"assigned:{s.id}:") == {
        f"assigned:{s.id}:2:agency{lead.id}",
        f"assigned:{s.id}:2:agency{co.id}",
    }
    lifecycle.accept(s, agency=lead, now=NOW, actor=None)
    lifecycle.co_opinion(s, agency=co, opinion="同意清淤", now=NOW, actor=None)
    request = lifecycle.request_extension(
        s, agency=lead, requested_due=dt.date(2026, 3, 27), reason="等材料", now=NOW, actor=None
    )
    lifecycle.decide_extension(request, approve=True, now=NOW, actor=None)
    lifecycle.reply(s, agency=lead, text="已清淤", reply_class="A", now=NOW, actor=None)
    lifecycle.record_follow_up(s, s.citizens[0], satisfaction="dissatisfied", now=NOW, actor=None)
    lifecycle.rehandle(s, now=NOW, actor=None, reason="还是臭")
    lifecycle.accept(s, agency=lead, now=NOW, actor=None)
    lifecycle.reply(s, agency=lead, text="再次清淤", reply_class="A", now=NOW, actor=None)
    returned = new(db, world)
    lifecycle.return_misassigned(returned, agency=lead, reason="不归我们管", now=NOW, actor=None)
    db.session.commit()
    assert keys(db) - keys(db, "assigned:") == {
        f"co-opinion:{s.id}:4:agency{lead.id}",
        f"extension-requested:{request.id}:user{liaison}",
        f"extension-decided:{request.id}:agency{lead.id}",
        f"replied:{s.id}:{s.citizens[0].id}:0",
        f"replied:{s.id}:{s.citizens[0].id}:1",
        f"rehandled:{s.id}:1:agency{lead.id}",
        f"rehandled:{s.id}:1:agency{co.id}",
        f"returned:{returned.id}:3:user{liaison}",
    }

    late = new(db, world)  # to be accepted by 4 March, answered by 23 March
    thursday = utc(dt.date(2026, 3, 5), 9)
    for _run in range(2):
        check_deadlines(thursday)
        db.session.commit()
    assert keys(db, "overdue:") == {
        f"overdue:{late.id}:accept:2026-03-05:{name}"
        for name in (f"agency{lead.id}", f"agency{supervisor.id}", f"user{liaison}")
    }
    before = keys(db)
    lifecycle.accept(late, agency=lead, now=thursday, actor=None)
    db.session.commit()
    warning_day = utc(dt.date(2026, 3, 20), 9)  # within three working days of 23 March
    for _run in range(2):
        check_deadlines(warning_day)
        db.session.commit()
    assert keys(db) - before == {
        f"warning:{late.id}:reply:2026-03-23:agency{lead.id}",
        f"warning:{late.id}:reply:2026-03-23:agency{co.id}",
    }


# The messenger's own rules


def test_channels_the_recipient_lacks_are_skipped_and_a_repeat_answers_the_same(db, room):
    day = add_day(db, room, DAY)
    day.cancel_reason = "停电"
    notice = {
        "email": "reception_cancelled.txt",
        "context": day_context(day),
        "sms": "RECEPTION_CANCELLED",
        "params": {"date": day.day, "time": "09:00–11:30", "workroom": ROOM, "reason": "停电"},
    }
    nobody = messenger.Recipient(name="无", email="no address", mobile="0731-58581234")
    assert messenger.tell(nobody, "notice:nobody", NOW, **notice) == 0
    someone = messenger.Recipient(name="张", email=" zhang@example.cn ", mobile="+86 138 0013 8000")
    assert messenger.tell(someone, "notice:zhang", NOW, **notice) == 2
    assert messenger.tell(someone, "notice:zhang", NOW, **notice) == 2
    email_only = messenger.Recipient(name="李", email="li@example.cn")
    assert (
        messenger.tell(
            email_only, "notice:li", NOW, email="reception_cancelled.txt", context=day_context(day)
        )
        == 1
    )
    db.session.commit()
    rows = db.session.scalars(sa.select(OutboxMessage).order_by(OutboxMessage.dedupe_key)).all()
    assert [(m.dedupe_key, m.recipient) for m in rows] == [
        ("notice:li", "li@example.cn"),
        ("notice:zhang:email", "zhang@example.cn"),
        ("notice:zhang:sms", "13800138000"),
    ]


def test_sms_parameters_that_do_not_match_the_table_are_a_programming_error(db):
    citizen = messenger.citizen("13800138000")
    for template, params in [
        ("SUGGESTION_REPLIED", {}),
        ("SUGGESTION_REPLIED", {"code": "ABCD2345", "name": "张三"}),
        ("RECEPTION_CANCELLED", {"date": DAY, "time": "09:00–11:30", "workroom": ROOM}),
        ("NO_SUCH_TEMPLATE", {"code": "ABCD2345"}),
    ]:
        with pytest.raises(ValueError):
            messenger.tell(citizen, "replied:1:1:0", NOW, sms=template, params=params)
    # Also when the recipient has no mobile to send it to.
    with pytest.raises(ValueError):
        messenger.tell(messenger.citizen(None), "replied:1:2:0", NOW, sms="SUGGESTION_REPLIED")
    assert db.session.scalar(sa.select(sa.func.count()).select_from(OutboxMessage)) == 0


def test_gateway_ids_come_from_sms_templates_then_the_older_setting(
    app,
    db,
    sms_gateway,
):
    def reply_to(phone: str) -> None:
        messenger.tell(
            messenger.citizen(phone),
            f"replied:{phone}",
            NOW,
            sms="SUGGESTION_REPLIED",
            params={"code": "ABCD2345"},
        )

    reply_to("13800138000")
    app.config["SMS_TEMPLATE_SUGGESTION_REPLIED"] = "SMS_OLDER"
    reply_to("13800138001")
    app.config["SMS_TEMPLATES"] = {"SUGGESTION_REPLIED": "SMS_PREFERRED"}
    reply_to("13800138002")
    db.session.commit()
    assert deliver_due(NOW).sent == 3
    sent = {r["body"]["phone"]: r["body"] for r in sms_gateway.requests}
    assert {phone: body["template"] for phone, body in sent.items()} == {
        "13800138000": "SUGGESTION_REPLIED",
        "13800138001": "SMS_OLDER",
        "13800138002": "SMS_PREFERRED",
    }
    assert all(body["params"] == {"code": "ABCD2345"} for body in sent.values())


def test_every_sms_we_send_is_in_the_table():
    sent = set()
    for path in (ROOT / "workroom").rglob("*.py"):
        sent |= set(re.findall(r'sms="([A-Z_]+)"', path.read_text(encoding="utf-8")))
    assert sent == set(messenger.SMS_PARAMETERS)


def test_every_email_template_has_a_subject_and_extends_the_layout(app):
    folder = ROOT / "templates" / "email"
    names = sorted(p.name for p in folder.glob("*.txt") if not p.name.startswith("_"))
    assert names
    with app.app_context():
        for name in names:
            template = app.jinja_env.get_template(f"email/{name}")
            assert "subject" in template.blocks, name
            assert (folder / name).read_text(encoding="utf-8").startswith("{% extends"), name
        used = set()
        for path in (ROOT / "workroom").rglob("*.py"):
            used |= set(re.findall(r'"(\w+\.txt)"', path.read_text(encoding="utf-8")))
    assert used == set(names)


def test_only_the_messenger_queues_messages():
    allowed = {"messenger.py", "demo.py"}
    callers = [
        path.relative_to(ROOT).as_posix()
        for path in (ROOT / "workroom").rglob("*.py")
        if "outbox" not in path.parts
        and path.name not in allowed
        and re.search(r"\bqueue_(email|sms)\b", path.read_text(encoding="utf-8"))
    ]
    assert callers == []


def test_sms_parameters_go_as_text_in_the_gateway_s_language(db):
    messenger.tell(
        messenger.citizen("13800138000"),
        "notice:sms",
        NOW,
        sms="RECEPTION_REMOVED",
        params={"workroom": ROOM, "time": "09:00–11:30", "date": DAY},
    )
    db.session.commit()
    row = db.session.scalar(sa.select(OutboxMessage))
    assert json.loads(row.sms_params) == {
        "date": "2026年3月11日",
        "time": "09:00–11:30",
        "workroom": ROOM,
    }
