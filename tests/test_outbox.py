"""The outbox: messages queued in the caller's transaction, delivered at least once to a
real SMTP server (aiosmtpd) and a real local SMS webhook, with a stable identity."""

from __future__ import annotations

import contextlib
import datetime as dt
import email
import email.policy
import json
import socket
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
import sqlalchemy as sa
from aiosmtpd.controller import Controller

from tests.conftest import csrf_from
from workroom.audit.models import AuditEvent
from workroom.outbox import delivery, views
from workroom.outbox.delivery import deliver_due
from workroom.outbox.models import OutboxMessage
from workroom.outbox.queue import (
    idempotency_key_for,
    message_id_for,
    queue_email,
    queue_sms,
)
from workroom.people.models import Deputy
from workroom.runner.models import JobHeartbeat

NOW = dt.datetime(2026, 3, 4, 1, 0)  # naive UTC: 09:00 in Shanghai
MOBILE = "13800138000"


def free_port() -> int:
    with contextlib.closing(socket.socket()) as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class Inbox:
    """An aiosmtpd handler keeping every message it accepts."""

    def __init__(self) -> None:
        self.messages: list[dict[str, Any]] = []
        self.refuse: set[str] = set()
        self.lock = threading.Lock()

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if address in self.refuse:
            return "550 5.1.1 No such user here"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        message = email.message_from_bytes(envelope.content, policy=email.policy.default)
        with self.lock:
            self.messages.append(
                {
                    "to": list(envelope.rcpt_tos),
                    "from": envelope.mail_from,
                    "message_id": message["Message-ID"],
                    "subject": str(message["Subject"]),
                    "date": message["Date"],
                    "body": message.get_content(),
                }
            )
        return "250 Message accepted for delivery"

    def ids(self) -> list[str]:
        with self.lock:
            return [m["message_id"] for m in self.messages]


class Gateway:
    """A local SMS webhook: records each request; answers ``status`` (200 unless told)."""

    def __init__(self) -> None:
        self.requests: list[dict[str, Any]] = []
        self.status = 200
        self.answer = b'{"ok": true}'
        self.lock = threading.Lock()
        gateway = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = json.loads(self.rfile.read(length))
                with gateway.lock:
                    status, answer = gateway.status, gateway.answer
                    if status < 300:
                        gateway.requests.append(
                            {"body": body, "key": self.headers.get("Idempotency-Key")}
                        )
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(answer)))
                self.end_headers()
                self.wfile.write(answer)

            def log_message(self, *_args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/sms"
        self.thread = threading.Thread(
            target=self.server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )

    def keys(self) -> list[str]:
        with self.lock:
            return [r["key"] for r in self.requests]


@pytest.fixture
def smtp_server():
    inbox = Inbox()
    controller = Controller(inbox, hostname="127.0.0.1", port=free_port())
    controller.start()
    inbox.port = controller.port
    yield inbox
    controller.stop()


@pytest.fixture
def sms_gateway():
    gateway = Gateway()
    gateway.thread.start()
    yield gateway
    gateway.server.shutdown()
    gateway.server.server_close()


@pytest.fixture
def app_config(app_config, smtp_server, sms_gateway):
    app_config.update(
        MAIL_SERVER="127.0.0.1",
        MAIL_PORT=smtp_server.port,
        MAIL_DEFAULT_SENDER="代表工作室 <noreply@workroom.test>",
        SMS_WEBHOOK_URL=sms_gateway.url,
        SMS_SIGNATURE="岳塘人大",
        SMS_TIMEOUT=2,
        MAIL_TIMEOUT=2,
    )
    return app_config


def message(key: str) -> OutboxMessage:
    from workroom.db import db

    db.session.expire_all()
    return db.session.scalar(sa.select(OutboxMessage).where(OutboxMessage.dedupe_key == key))


# Queueing


def test_queueing_a_key_twice_keeps_the_first_message(db):
    first = queue_email("reminder:2026-12-09:17:email", "li@example.cn", "提醒", "第一版", NOW)
    again = queue_email("reminder:2026-12-09:17:email", "li@example.cn", "提醒", "第二版", NOW)
    db.session.commit()
    assert again.id == first.id
    rows = db.session.scalars(sa.select(OutboxMessage)).all()
    assert [(m.dedupe_key, m.body, m.status) for m in rows] == [
        ("reminder:2026-12-09:17:email", "第一版", "pending")
    ]


def test_message_is_part_of_the_callers_transaction(db):
    db.session.add(Deputy(name="王代表", level="county"))
    queue_sms("reminder:2026-12-09:17:sms", MOBILE, "SMS_1001", {"date": "12月9日"}, NOW)
    db.session.rollback()
    assert db.session.scalar(sa.select(sa.func.count()).select_from(OutboxMessage)) == 0
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Deputy)) == 0

    queue_sms("reminder:2026-12-09:17:sms", MOBILE, "SMS_1001", {"date": "12月9日"}, NOW)
    db.session.commit()
    # A repeated key does not spoil the caller's other changes.
    db.session.add(Deputy(name="王代表", level="county"))
    queue_sms("reminder:2026-12-09:17:sms", "138 0013 8000", "SMS_1001", {}, NOW)
    db.session.commit()
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Deputy)) == 1
    sms = message("reminder:2026-12-09:17:sms")
    assert sms.params == {"date": "12月9日"}
    assert sms.sms_signature == "岳塘人大"


def test_identity_derives_from_the_key(db):
    key = "reminder:2026-12-09:17:email"
    assert message_id_for(key) == message_id_for(key)
    assert message_id_for(key).endswith("@workroom.test>")
    assert message_id_for(key) != message_id_for("reminder:2026-12-09:18:email")
    assert idempotency_key_for(key) == idempotency_key_for(key)
    assert len(idempotency_key_for(key)) == 32


# Delivery


def test_each_message_is_delivered_once_with_its_identity(db, smtp_server, sms_gateway):
    for n in range(3):
        queue_email(f"notice:{n}", f"deputy{n}@example.cn", "接待日提醒", f"您好，第{n}条。", NOW)
    queue_sms("sms:a", MOBILE, "SMS_1001", {"name": "王", "date": "12月9日"}, NOW)
    queue_sms("sms:b", "13900139000", "SMS_1002", {"n": 2}, NOW, signature="下摄司")
    queue_email("notice:0", "deputy0@example.cn", "接待日提醒", "重复", NOW)
    db.session.commit()

    report = deliver_due(NOW)
    assert (report.sent, report.retrying, report.failed) == (5, 0, 0)
    assert deliver_due(NOW + dt.timedelta(minutes=5)).total == 0

    assert sorted(smtp_server.ids()) == sorted(message_id_for(f"notice:{n}") for n in range(3))
    first = next(m for m in smtp_server.messages if m["message_id"] == message_id_for("notice:0"))
    assert first["to"] == ["deputy0@example.cn"]
    assert first["from"] == "noreply@workroom.test"
    assert first["subject"] == "接待日提醒"
    assert first["body"].strip() == "您好，第0条。"
    assert first["date"]

    assert sorted(sms_gateway.keys()) == sorted(
        [idempotency_key_for("sms:a"), idempotency_key_for("sms:b")]
    )
    by_key = {r["key"]: r["body"] for r in sms_gateway.requests}
    assert by_key[idempotency_key_for("sms:a")] == {
        "template": "SMS_1001",
        "params": {"date": "12月9日", "name": "王"},
        "signature": "岳塘人大",
        "phone": MOBILE,
        "idempotency_key": idempotency_key_for("sms:a"),
    }
    assert by_key[idempotency_key_for("sms:b")]["signature"] == "下摄司"
    sent = message("notice:1")
    assert (sent.status, sent.attempts, sent.sent_at, sent.claimed_by) == ("sent", 1, NOW, None)


def test_two_runners_at_once_deliver_each_key_once(app, db, smtp_server, sms_gateway):
    for n in range(12):
        queue_email(f"notice:{n}", f"deputy{n}@example.cn", "提醒", "正文", NOW)
    for n in range(4):
        queue_sms(f"sms:{n}", f"1380013800{n}", "SMS_1001", {}, NOW)
    db.session.commit()
    errors: list[BaseException] = []

    def run() -> None:
        try:
            with app.app_context():
                for _ in range(4):
                    deliver_due(NOW, batch=3)
        except BaseException as error:
            errors.append(error)

    threads = [threading.Thread(target=run) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert not errors
    assert sorted(smtp_server.ids()) == sorted(message_id_for(f"notice:{n}") for n in range(12))
    assert sorted(sms_gateway.keys()) == sorted(idempotency_key_for(f"sms:{n}") for n in range(4))
    db.session.expire_all()
    assert set(db.session.scalars(sa.select(OutboxMessage.status))) == {"sent"}


class Killed(BaseException):
    """The runner dying between handing a message over and recording it."""


def test_runner_killed_mid_send_resends_with_the_same_identity(
    app, db, smtp_server, sms_gateway, monkeypatch
):
    queue_email("notice:crash", "li@example.cn", "提醒", "正文", NOW)
    queue_sms("sms:crash", MOBILE, "SMS_1001", {}, NOW)
    queue_email("notice:later", "wang@example.cn", "提醒", "正文", NOW)
    db.session.commit()

    def die(*_args: Any) -> None:
        raise Killed

    monkeypatch.setattr(delivery, "_mark_sent", die)
    with pytest.raises(Killed):
        deliver_due(NOW)
    monkeypatch.undo()
    assert smtp_server.ids() == [message_id_for("notice:crash")]
    assert message("notice:crash").status == "sending"
    # Messages the dead runner had not started are given back at once.
    assert message("notice:later").status == "pending"

    # Within the lease nobody else touches the claimed message.
    deliver_due(NOW + dt.timedelta(minutes=1))
    assert smtp_server.ids().count(message_id_for("notice:crash")) == 1
    assert sms_gateway.keys() == [idempotency_key_for("sms:crash")]

    # Once the lease has expired another runner sends it again, recognisably.
    deliver_due(NOW + dt.timedelta(minutes=11))
    assert smtp_server.ids().count(message_id_for("notice:crash")) == 2
    assert smtp_server.ids().count(message_id_for("notice:later")) == 1
    assert sms_gateway.keys() == [idempotency_key_for("sms:crash")]
    assert message("notice:crash").status == "sent"


def test_crash_of_an_sms_send_repeats_the_idempotency_key(db, sms_gateway, monkeypatch):
    queue_sms("sms:crash", MOBILE, "SMS_1001", {"d": "9日"}, NOW)
    db.session.commit()
    monkeypatch.setattr(delivery, "_mark_sent", lambda *_a: (_ for _ in ()).throw(Killed()))
    with pytest.raises(Killed):
        deliver_due(NOW)
    monkeypatch.undo()
    deliver_due(NOW + dt.timedelta(minutes=11))
    assert sms_gateway.keys() == [idempotency_key_for("sms:crash")] * 2
    assert message("sms:crash").status == "sent"


def test_nothing_is_lost_while_smtp_is_down(app, db, smtp_server):
    for n in range(3):
        queue_email(f"notice:{n}", f"deputy{n}@example.cn", "提醒", "正文", NOW)
    db.session.commit()
    app.config["MAIL_PORT"] = free_port()  # nothing listens there

    report = deliver_due(NOW)
    assert (report.sent, report.retrying) == (0, 3)
    waiting = message("notice:0")
    assert (waiting.status, waiting.attempts) == ("pending", 1)
    assert "ConnectionRefusedError" in waiting.last_error
    assert waiting.next_attempt_at == NOW + dt.timedelta(minutes=1)

    # Backoff: not due again yet; then a second failure waits twice as long.
    assert deliver_due(NOW + dt.timedelta(seconds=30)).total == 0
    assert deliver_due(NOW + dt.timedelta(minutes=1)).retrying == 3
    waiting = message("notice:0")
    assert waiting.attempts == 2
    assert waiting.next_attempt_at == NOW + dt.timedelta(minutes=3)
    assert smtp_server.ids() == []

    app.config["MAIL_PORT"] = smtp_server.port
    assert deliver_due(NOW + dt.timedelta(minutes=3)).sent == 3
    assert sorted(smtp_server.ids()) == sorted(message_id_for(f"notice:{n}") for n in range(3))
    assert message("notice:2").last_error == ""


def test_gateway_outage_is_retried_and_errors_mask_the_phone(db, sms_gateway):
    queue_sms("sms:1", MOBILE, "SMS_1001", {}, NOW)
    db.session.commit()
    sms_gateway.status, sms_gateway.answer = 503, f'{{"error": "busy for {MOBILE}"}}'.encode()
    assert deliver_due(NOW).retrying == 1
    error = message("sms:1").last_error
    assert "HTTP 503" in error and "138****8000" in error and MOBILE not in error

    sms_gateway.status = 200
    assert deliver_due(NOW + dt.timedelta(minutes=1)).sent == 1
    assert sms_gateway.keys() == [idempotency_key_for("sms:1")]


def test_rejected_messages_fail_at_once(db, smtp_server, sms_gateway):
    smtp_server.refuse.add("nobody@example.cn")
    queue_email("notice:bad", "nobody@example.cn", "提醒", "正文", NOW)
    queue_sms("sms:bad", MOBILE, "NO_SUCH_TEMPLATE", {}, NOW)
    db.session.commit()
    sms_gateway.status = 400
    report = deliver_due(NOW)
    assert report.failed == 2
    assert message("notice:bad").status == "failed"
    assert "550" in message("notice:bad").last_error
    assert "HTTP 400" in message("sms:bad").last_error


def test_failed_message_is_shown_to_admins_and_retried(
    app, client, db, login_as, smtp_server, monkeypatch
):
    app.config.update(OUTBOX_MAX_ATTEMPTS=2, MAIL_PORT=free_port())
    queue_email("notice:stuck", "li@example.cn", "接待日提醒", "正文", NOW)
    queue_sms("sms:no-gateway", MOBILE, "SMS_1001", {}, NOW)
    db.session.commit()
    app.config["SMS_WEBHOOK_URL"] = None
    deliver_due(NOW)
    deliver_due(NOW + dt.timedelta(minutes=1))
    stuck = message("notice:stuck")
    assert (stuck.status, stuck.attempts) == ("failed", 2)

    login_as("admin")
    headers = {"Accept-Language": "en"}
    page = client.get("/staff/messages?status=failed&channel=email", headers=headers)
    assert page.status_code == 200
    text = page.get_data(as_text=True)
    assert "li@example.cn" in text and "ConnectionRefusedError" in text
    assert "No job runner has reported yet" in text
    assert "sms:no-gateway" not in text
    everything = client.get("/staff/messages", headers=headers).get_data(as_text=True)
    assert "138****8000" in everything and MOBILE not in everything
    assert "No SMS gateway is configured" in everything

    app.config["MAIL_PORT"] = smtp_server.port
    retried_at = NOW + dt.timedelta(hours=2)
    monkeypatch.setattr(views, "utcnow", lambda: retried_at)
    response = client.post(
        f"/staff/messages/{stuck.id}/retry",
        data={"csrf_token": csrf_from(text), "status": "failed"},
    )
    assert response.status_code == 302
    assert response.headers["Location"].endswith("/staff/messages?status=failed")
    stuck = message("notice:stuck")
    assert (stuck.status, stuck.attempts, stuck.next_attempt_at) == ("pending", 0, retried_at)
    event = db.session.scalar(sa.select(AuditEvent).where(AuditEvent.action == "outbox.retry"))
    assert event.object_id == str(stuck.id)

    assert deliver_due(retried_at).sent == 1
    assert smtp_server.ids() == [message_id_for("notice:stuck")]
    # A sent message cannot be retried.
    again = client.post(
        f"/staff/messages/{stuck.id}/retry",
        data={"csrf_token": csrf_from(text)},
        headers=headers,
        follow_redirects=True,
    )
    assert "Only a failed or waiting message can be retried." in again.get_data(as_text=True)
    assert len(smtp_server.ids()) == 1
    assert (
        client.post("/staff/messages/9999/retry", data={"csrf_token": csrf_from(text)}).status_code
        == 404
    )


def test_heartbeat_state_is_shown_with_a_warning_when_stale(client, db, login_as, monkeypatch):
    login_as("admin")
    headers = {"Accept-Language": "en"}
    db.session.add(
        JobHeartbeat(runner="host:1:abc", host="office-pc", pid=4242, started_at=NOW, beat_at=NOW)
    )
    db.session.commit()
    monkeypatch.setattr(views, "utcnow", lambda: NOW + dt.timedelta(seconds=40))
    fresh = client.get("/staff/messages", headers=headers).get_data(as_text=True)
    assert "Running" in fresh and "office-pc" in fresh and "has not reported" not in fresh
    monkeypatch.setattr(views, "utcnow", lambda: NOW + dt.timedelta(minutes=5))
    stale = client.get("/staff/messages", headers=headers).get_data(as_text=True)
    assert "The job runner has not reported since" in stale


def test_only_admins_see_messages(client, db, login_as, make_workroom):
    login_as("liaison", workrooms=[make_workroom()])
    assert client.get("/staff/messages").status_code == 403


def test_stored_errors_are_shown_in_the_reader_s_language(app, client, db, login_as):
    from workroom.outbox.labels import error_label

    app.config["SMS_WEBHOOK_URL"] = None
    queue_sms("sms:no-gateway", MOBILE, "RECEPTION_REMINDER", {}, NOW)
    db.session.commit()
    assert deliver_due(NOW).total == 1
    stored = message("sms:no-gateway").last_error
    assert stored == "No SMS gateway is configured (SMS_WEBHOOK_URL)."

    login_as("admin")
    chinese = client.get("/staff/messages").get_data(as_text=True)
    assert "未配置短信网关（设置项 SMS_WEBHOOK_URL），消息等待发送。" in chinese
    assert stored not in chinese
    english = client.get("/staff/messages", headers={"Accept-Language": "en"})
    assert "No SMS gateway is configured (setting SMS_WEBHOOK_URL)" in english.get_data(
        as_text=True
    )
    with app.test_request_context(headers={"Accept-Language": "zh-CN"}):
        assert error_label("Recipient refused: 550 b'no such user'") == (
            "邮件服务器拒收该收件人：550 b'no such user'"
        )
        assert error_label("ConnectionRefusedError: [Errno 111] refused") == (
            "发送失败：ConnectionRefusedError: [Errno 111] refused"
        )
        # An error not known here is shown as it was stored.
        assert error_label("Something new") == "Something new"
    assert message("sms:no-gateway").last_error == stored
