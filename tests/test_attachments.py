"""Attachments: only real PDF, JPEG and PNG files within the size limit, stored under
random names, and served only to those who may see them."""

from __future__ import annotations

import io
import os

import pytest
import sqlalchemy as sa

from tests import test_suggestion_views as base
from tests.conftest import csrf_from, login
from tests.test_suggestion_views import direct_form, raise_suggestion, signed_in, text_of
from workroom.audit.models import AuditEvent
from workroom.clock import utcnow
from workroom.suggestions import attachments
from workroom.suggestions.models import Attachment, Suggestion

# Shared fixtures: the world of accounts and places, pages in English.
world = base.world
english = base.english

PDF = b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj<<>>endobj\n%%EOF\n"
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 32
JPEG = b"\xff\xd8\xff\xe0" + b"\x00" * 32


@pytest.fixture
def files_dir(app, tmp_path):
    path = tmp_path / "attachments"
    app.config["ATTACHMENT_PATH"] = str(path)
    return path


def _raise_with(client, db, world, *files, **changes):
    login(client, world["liaison"])
    token = csrf_from(text_of(client.get("/staff/suggestions/new")))
    data = {**direct_form(db, world, **changes), "csrf_token": token}
    data["attachments"] = [(io.BytesIO(content), name) for content, name in files]
    return client.post("/staff/suggestions/new", data=data, content_type="multipart/form-data")


def test_intake_keeps_pdf_and_images_under_random_names(client, db, world, files_dir):
    response = _raise_with(
        client, db, world, (PDF, "来信.pdf"), (PNG, "照片.PNG"), (JPEG, "a.jpeg")
    )
    assert response.status_code == 303, text_of(response)[:2000]
    rows = db.session.scalars(sa.select(Attachment).order_by(Attachment.id)).all()
    assert [(a.filename, a.content_type, a.kind) for a in rows] == [
        ("来信.pdf", "application/pdf", "citizen"),
        ("照片.PNG", "image/png", "citizen"),
        ("a.jpeg", "image/jpeg", "citizen"),
    ]
    for row, content in zip(rows, (PDF, PNG, JPEG), strict=True):
        assert "来信" not in row.stored_name and len(row.stored_name) > 30
        assert (files_dir / row.stored_name).read_bytes() == content
        assert row.size == len(content)


@pytest.mark.parametrize(
    ("content", "name"),
    [
        (PNG, "letter.pdf"),  # the name says PDF, the bytes say PNG
        (PDF, "tool.exe"),  # PDF bytes under another name
        (b"<html><script>alert(1)</script>", "page.pdf"),
        (b"", "empty.pdf"),
    ],
)
def test_intake_refuses_what_is_not_a_pdf_or_image(client, db, world, files_dir, content, name):
    response = _raise_with(client, db, world, (content, name))
    assert response.status_code == 400
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Suggestion)) == 0
    assert not files_dir.exists() or os.listdir(files_dir) == []


def test_the_size_limit(app, client, db, world, files_dir):
    app.config["ATTACHMENT_MAX_BYTES"] = 1024
    response = _raise_with(client, db, world, (PDF + b"0" * 2000, "big.pdf"))
    assert response.status_code == 400 and "is larger than" in text_of(response)


def _stored(db, s, content=PDF, name="来信.pdf", kind="citizen", agency=None) -> Attachment:
    upload = attachments.Upload(filename=name, content_type="application/pdf", data=content)
    a = attachments.store(s, upload, kind=kind, now=utcnow(), actor=None, agency=agency)
    db.session.commit()
    return a


def test_download_headers(client, db, world, files_dir):
    s = raise_suggestion(db, world)
    a = _stored(db, s)
    login(client, world["liaison"])
    response = client.get(f"/staff/attachments/{a.id}")
    assert response.status_code == 200 and response.data == PDF
    assert response.mimetype == "application/pdf"
    assert response.headers["Content-Disposition"].startswith("attachment;")
    assert "filename*=UTF-8''" in response.headers["Content-Disposition"]
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Cache-Control"] == "no-store"
    actions = db.session.scalars(sa.select(AuditEvent.action)).all()
    assert "attachment.download" in actions


def test_who_may_download(app, client, db, world, files_dir):
    s = raise_suggestion(db, world)
    secret = raise_suggestion(db, world, confidential=True)
    citizen_file = _stored(db, s)
    secret_file = _stored(db, secret)
    letter = _stored(db, secret, name="答复函.pdf", kind="reply", agency=world["ecology"])
    expected = {
        "liaison": {citizen_file: 200, secret_file: 200, letter: 200},
        "liaison_b": {citizen_file: 404, secret_file: 404, letter: 404},
        "viewer": {citizen_file: 200, secret_file: 200, letter: 200},
        "agency1": {citizen_file: 200, secret_file: 404, letter: 200},
        "agency_street": {citizen_file: 200, secret_file: 404, letter: 200},
        "agency2": {citizen_file: 404, secret_file: 404, letter: 404},
    }
    got = {}
    for name, files in expected.items():
        browser = signed_in(app, world[name])
        got[name] = {a: browser.get(f"/staff/attachments/{a.id}").status_code for a in files}
    assert got == expected
    denied = db.session.scalars(
        sa.select(AuditEvent.actor_name).where(AuditEvent.action == "suggestion.access_denied")
    ).all()
    assert denied.count(world["agency2"].username) == 3
    assert denied.count(world["agency1"].username) == 1


def test_a_purged_or_missing_file_is_404(client, db, world, files_dir):
    s = raise_suggestion(db, world)
    a = _stored(db, s)
    login(client, world["admin"])
    os.unlink(files_dir / a.stored_name)
    assert client.get(f"/staff/attachments/{a.id}").status_code == 404
    assert client.get("/staff/attachments/999999").status_code == 404


def test_staff_attach_files_on_the_detail_page(client, db, world, files_dir):
    s = raise_suggestion(db, world)
    login(client, world["liaison"])
    url = f"/staff/suggestions/{s.id}"
    token = csrf_from(text_of(client.get(url)))
    none = client.post(url + "/attachments", data={"csrf_token": token})
    assert none.status_code == 400 and "Choose a file to attach." in text_of(none)
    done = client.post(
        url + "/attachments",
        data={"csrf_token": token, "upload-files": [(io.BytesIO(PNG), "现场.png")]},
        content_type="multipart/form-data",
    )
    assert done.status_code == 303
    assert "现场.png" in text_of(client.get(url))


def test_retention_removes_the_citizens_files(db, world, files_dir):
    s = raise_suggestion(db, world)
    kept = raise_suggestion(db, world)
    gone = _stored(db, s)
    reply = _stored(db, s, kind="reply", agency=world["ecology"])
    other = _stored(db, kept)
    for citizen in s.citizens:
        citizen.name = citizen.phone = None
        citizen.purged_at = utcnow()
    s.purged_at = utcnow()
    db.session.commit()
    assert attachments.purge_citizen_attachments(utcnow()) == 1
    db.session.commit()
    assert gone.purged_at is not None and not (files_dir / gone.stored_name).exists()
    assert (files_dir / reply.stored_name).exists() and (files_dir / other.stored_name).exists()
    assert attachments.purge_citizen_attachments(utcnow()) == 0
