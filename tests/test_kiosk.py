"""Kiosks: registration, one-time pairing codes, the device credential and its revocation,
and the check-in pages for the kiosk and the citizen's phone."""

from __future__ import annotations

import datetime as dt
import re

import pytest
import sqlalchemy as sa

from tests.conftest import csrf_from, post_form
from workroom.audit.models import AuditEvent
from workroom.errors import DomainError
from workroom.visits import kiosk_auth
from workroom.visits.models import Kiosk

NOW = dt.datetime(2026, 12, 2, 2, 0)  # 10:00 in Shanghai, a Wednesday


@pytest.fixture(autouse=True)
def clock_at_now(time_machine):
    """Kiosks are registered at NOW and the pages check codes against the clock: keep it there."""
    time_machine.move_to(NOW.replace(tzinfo=dt.UTC), tick=True)


@pytest.fixture
def make_kiosk(db, make_workroom):
    """Register a kiosk; returns (kiosk, pairing code)."""

    def make(workroom=None, name="入口平板", now=NOW):
        kiosk, code = kiosk_auth.register_kiosk(workroom or make_workroom(), name, now)
        db.session.commit()
        return kiosk, code

    return make


def paired_client(app, code: str):
    """A fresh browser-like client that pairs with ``code``."""
    client = app.test_client()
    response = post_form(client, "/kiosk/pair", {"code": code})
    assert response.status_code == 302, response.get_data(as_text=True)[:300]
    assert response.headers["Location"].endswith("/kiosk")
    return client


# Registration and pairing codes


def test_admin_registers_kiosk_and_sees_the_code_once(client, db, login_as, make_workroom):
    room = make_workroom(name="下摄司街道代表工作室")
    login_as("admin")
    response = post_form(client, "/staff/kiosks/new", {"name": "入口平板", "workroom_id": room.id})
    assert response.status_code == 200
    text = response.get_data(as_text=True)
    code = re.search(r"<code>([A-Z0-9]{4}-[A-Z0-9]{4})</code>", text).group(1)
    assert "no-store" in response.headers["Cache-Control"]
    kiosk = db.session.scalar(sa.select(Kiosk))
    assert kiosk.prefix == f"K{kiosk.id}" and kiosk.workroom_id == room.id
    assert kiosk.pairing_code_hash and code.replace("-", "") not in kiosk.pairing_code_hash
    assert kiosk.pairing_code_hash == kiosk_auth.hash_pairing_code(code)
    assert db.session.scalar(sa.select(AuditEvent).where(AuditEvent.action == "kiosk.create"))

    listing = client.get("/staff/kiosks").get_data(as_text=True)
    assert "入口平板" in listing and "下摄司街道代表工作室" in listing
    assert code not in listing


def test_kiosk_form_errors_are_explained(client, db, login_as):
    login_as("admin")
    response = post_form(
        client,
        "/staff/kiosks/new",
        {"name": "", "workroom_id": 0},
        headers={"Accept-Language": "en"},
    )
    assert response.status_code == 400
    text = response.get_data(as_text=True)
    assert "Enter a name." in text
    assert db.session.scalar(sa.select(sa.func.count(Kiosk.id))) == 0


def test_pairing_code_works_once(app, client, db, make_kiosk):
    kiosk, code = make_kiosk()
    tablet = paired_client(app, code.lower())  # typed in lower case, without the dash
    credential = tablet.get_cookie(kiosk_auth.COOKIE_NAME)
    assert credential is not None and credential.http_only
    page = tablet.get("/kiosk")
    assert page.status_code == 200
    assert f'data-prefix="{kiosk.prefix}"' in page.get_data(as_text=True)

    second = app.test_client()
    response = post_form(second, "/kiosk/pair", {"code": code}, headers={"Accept-Language": "en"})
    assert response.status_code == 400
    assert "wrong or has expired" in response.get_data(as_text=True)
    assert second.get_cookie(kiosk_auth.COOKIE_NAME) is None


def test_pairing_code_expires(db, make_kiosk):
    kiosk, code = make_kiosk(now=NOW)
    with pytest.raises(DomainError) as error:
        kiosk_auth.pair_kiosk(code, NOW + dt.timedelta(minutes=16))
    assert error.value.field == "code"
    paired, credential = kiosk_auth.pair_kiosk(code, NOW + dt.timedelta(minutes=14))
    assert paired.id == kiosk.id and paired.pairing_code_hash is None
    assert kiosk_auth.verify_kiosk_credential(credential).id == kiosk.id


def test_pairing_expiry_follows_the_setting(app, db, make_workroom):
    app.config["KIOSK_PAIRING_MINUTES"] = 2
    kiosk, code = kiosk_auth.register_kiosk(make_workroom(), "平板", NOW)
    assert kiosk.pairing_expires_at == NOW + dt.timedelta(minutes=2)
    with pytest.raises(DomainError):
        kiosk_auth.pair_kiosk(code, NOW + dt.timedelta(minutes=3))


def test_unknown_and_malformed_codes_are_refused(db, make_kiosk):
    make_kiosk()
    for wrong in ("", "ABCD", "ABCD-EFGH", "<script>", "\x00" * 8):
        with pytest.raises(DomainError):
            kiosk_auth.pair_kiosk(wrong, NOW)


# The device credential


def test_credential_verifies_until_revoked(db, make_kiosk):
    kiosk, code = make_kiosk()
    _, credential = kiosk_auth.pair_kiosk(code, NOW)
    db.session.commit()
    assert kiosk_auth.verify_kiosk_credential(credential).id == kiosk.id
    for forged in (None, "", "garbage", credential[:-2] + "xx", credential + "a", "x" * 500):
        assert kiosk_auth.verify_kiosk_credential(forged) is None

    kiosk_auth.revoke_kiosk(kiosk, NOW)
    db.session.commit()
    assert kiosk_auth.verify_kiosk_credential(credential) is None
    with pytest.raises(DomainError):
        kiosk_auth.new_pairing_code(kiosk, NOW)
    assert db.session.scalar(sa.select(AuditEvent).where(AuditEvent.action == "kiosk.revoke"))


def test_pairing_again_retires_the_old_credential(db, make_kiosk):
    kiosk, code = make_kiosk()
    _, old = kiosk_auth.pair_kiosk(code, NOW)
    new_code = kiosk_auth.new_pairing_code(kiosk, NOW)
    # The paired tablet keeps working until the new code is used.
    assert kiosk_auth.verify_kiosk_credential(old) is not None
    _, new = kiosk_auth.pair_kiosk(new_code, NOW)
    assert kiosk_auth.verify_kiosk_credential(old) is None
    assert kiosk_auth.verify_kiosk_credential(new).id == kiosk.id


def test_credential_of_an_inactive_workroom_fails(db, make_kiosk, make_workroom):
    room = make_workroom()
    _, code = make_kiosk(workroom=room)
    _, credential = kiosk_auth.pair_kiosk(code, NOW)
    room.active = False
    db.session.commit()
    assert kiosk_auth.verify_kiosk_credential(credential) is None


def test_credential_signed_with_another_secret_fails(app, db, make_kiosk):
    _, code = make_kiosk()
    _, credential = kiosk_auth.pair_kiosk(code, NOW)
    app.config["SECRET_KEY"] = "another-secret"
    assert kiosk_auth.verify_kiosk_credential(credential) is None


def test_revoked_kiosk_is_sent_back_to_pairing(app, client, db, login_as, make_kiosk):
    kiosk, code = make_kiosk()
    tablet = paired_client(app, code)
    assert tablet.get("/kiosk").status_code == 200

    login_as("admin")
    page = client.get("/staff/kiosks").get_data(as_text=True)
    response = client.post(f"/staff/kiosks/{kiosk.id}/revoke", data={"csrf_token": csrf_from(page)})
    assert response.status_code == 302

    response = tablet.get("/kiosk")
    assert response.status_code == 302
    assert response.headers["Location"].endswith("/kiosk/pair?revoked=1")
    assert tablet.get_cookie(kiosk_auth.COOKIE_NAME) is None
    pair_page = tablet.get("/kiosk/pair?revoked=1", headers={"Accept-Language": "en"})
    assert "no longer paired" in pair_page.get_data(as_text=True)


def test_kiosk_without_credential_goes_to_pairing(client):
    response = client.get("/kiosk")
    assert response.status_code == 302
    assert response.headers["Location"].endswith("/kiosk/pair")
    assert client.get("/kiosk/pair").status_code == 200


def test_new_pairing_code_from_the_list(client, db, login_as, make_kiosk):
    kiosk, _ = make_kiosk()
    login_as("admin")
    page = client.get("/staff/kiosks").get_data(as_text=True)
    response = client.post(
        f"/staff/kiosks/{kiosk.id}/pairing-code", data={"csrf_token": csrf_from(page)}
    )
    assert response.status_code == 200
    code = re.search(r"<code>([A-Z0-9-]+)</code>", response.get_data(as_text=True)).group(1)
    db.session.refresh(kiosk)
    assert kiosk.pairing_code_hash == kiosk_auth.hash_pairing_code(code)


def test_pairing_attempts_are_throttled(app, client, db, make_kiosk):
    app.config["KIOSK_PAIR_LIMIT"] = "3 per minute"
    _, code = make_kiosk()
    for _attempt in range(3):
        assert post_form(client, "/kiosk/pair", {"code": "WRONG-CODE"}).status_code == 400
    assert post_form(client, "/kiosk/pair", {"code": code}).status_code == 429


# Permissions of the admin pages


@pytest.mark.parametrize("role", ["viewer", "liaison", "deputy", "agency_handler"])
def test_only_admins_manage_kiosks(
    client, db, login_as, make_kiosk, make_workroom, make_deputy, make_agency, role
):
    room = make_workroom()
    kiosk, _ = make_kiosk(workroom=room)
    scope = {
        "liaison": {"workrooms": [room]},
        "deputy": {"deputy": make_deputy()},
        "agency_handler": {"agency": make_agency()},
    }.get(role, {})
    login_as(role, **scope)
    assert client.get("/staff/kiosks").status_code == 403
    assert client.get("/staff/kiosks/new").status_code == 403
    token = csrf_from(client.get("/staff").get_data(as_text=True))
    assert (
        client.post(f"/staff/kiosks/{kiosk.id}/revoke", data={"csrf_token": token}).status_code
        == 404
    )
    assert (
        client.post(
            f"/staff/kiosks/{kiosk.id}/pairing-code", data={"csrf_token": token}
        ).status_code
        == 404
    )
    db.session.refresh(kiosk)
    assert kiosk.revoked_at is None


def test_signed_out_visitors_are_sent_to_sign_in(client, db, make_kiosk):
    kiosk, _ = make_kiosk()
    assert client.get("/staff/kiosks").status_code == 302
    assert client.post(f"/staff/kiosks/{kiosk.id}/revoke").status_code in (302, 400)
    db.session.refresh(kiosk)
    assert kiosk.revoked_at is None


def test_kiosk_names_are_escaped(client, db, login_as, make_workroom):
    login_as("admin")
    kiosk_auth.register_kiosk(make_workroom(), "<script>alert(1)</script>", NOW)
    db.session.commit()
    page = client.get("/staff/kiosks").get_data(as_text=True)
    assert "<script>alert(1)</script>" not in page
    assert "&lt;script&gt;" in page


# The check-in pages


def test_phone_page_answers_404_for_unknown_or_inactive_workroom(client, db, make_workroom):
    make_workroom(slug="closed-room", active=False)
    assert client.get("/w/no-such-room/checkin").status_code == 404
    assert client.get("/w/closed-room/checkin").status_code == 404


def test_phone_page_renders_in_chinese_by_default(client, db, make_workroom):
    make_workroom(slug="xiasheshi", name="下摄司街道代表工作室")
    response = client.get("/w/xiasheshi/checkin")
    assert response.status_code == 200
    text = response.get_data(as_text=True)
    assert '<html lang="zh-Hans-CN">' in text
    assert "城乡建设" in text and "Urban and rural development" not in text
    assert 'data-channel="phone"' in text
    assert 'data-api-url="/api/v1/workrooms/xiasheshi/checkins"' in text
    assert "data-credential" not in text
    assert "<script>" not in text and 'src="/static/js/checkin.js"' in text
    assert "css/kiosk.css" in text
    # Only the top level of the taxonomy: one big button per topic.
    assert text.count("data-category=") == 9
    assert 'data-category="urban-housing"' not in text

    english = client.get("/w/xiasheshi/checkin?lang=en").get_data(as_text=True)
    assert '<html lang="en">' in english and "Urban and rural development" in english


def test_kiosk_page_is_chinese_whatever_the_browser_says(app, db, make_kiosk):
    _, code = make_kiosk()
    tablet = paired_client(app, code)
    response = tablet.get("/kiosk", headers={"Accept-Language": "en-US,en;q=0.9"})
    text = response.get_data(as_text=True)
    assert '<html lang="zh-Hans-CN">' in text and "城乡建设" in text
    assert response.headers["Cache-Control"] == "no-store"
    english = tablet.get("/kiosk?lang=en").get_data(as_text=True)
    assert '<html lang="en">' in english


def test_kiosk_page_carries_credential_and_idle_settings(app, db, make_kiosk):
    app.config["KIOSK_IDLE_SECONDS"] = 5
    app.config["KIOSK_IDLE_WARNING_SECONDS"] = 3
    kiosk, code = make_kiosk()
    tablet = paired_client(app, code)
    text = tablet.get("/kiosk").get_data(as_text=True)
    credential = tablet.get_cookie(kiosk_auth.COOKIE_NAME).value
    assert f'data-credential="{credential}"' in text
    assert 'data-channel="kiosk"' in text
    assert 'data-idle-seconds="5"' in text
    # The warning always leaves at least 20 seconds.
    assert 'data-warning-seconds="20"' in text
    db.session.refresh(kiosk)
    assert kiosk.last_seen_at is not None


def test_kiosk_page_hides_staff_chrome(app, db, make_kiosk):
    _, code = make_kiosk()
    text = paired_client(app, code).get("/kiosk").get_data(as_text=True)
    assert "citizen--kiosk" in text
    assert 'action="/language"' not in text
    assert 'class="site-nav"' not in text
