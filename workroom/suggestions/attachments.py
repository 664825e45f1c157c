"""Attachments of suggestions: a citizen's letter or photo, an agency's reply letter (答复函).

Only PDF, JPEG and PNG files are kept, recognised by their first bytes (a renamed file
is refused), up to ATTACHMENT_MAX_BYTES each. Files live under ATTACHMENT_PATH
(default: ``attachments`` in the instance folder) under a random name; the uploaded
name is kept only to offer it back on download.
"""

from __future__ import annotations

import contextlib
import dataclasses
import datetime as dt
import os
import secrets
import unicodedata
from collections.abc import Iterable
from typing import Any

import sqlalchemy as sa
from flask import current_app
from flask_babel import lazy_gettext as _l
from werkzeug.datastructures import FileStorage

from workroom.audit.log import record
from workroom.clock import as_utc_naive
from workroom.db import db
from workroom.errors import DomainError
from workroom.people.models import Agency
from workroom.suggestions.models import Attachment, Suggestion

DEFAULT_MAX_BYTES = 10 * 1024 * 1024
# Most files one form may carry.
MAX_FILES = 5
FILENAME_MAX = 200

KINDS = {"citizen": _l("Citizen's letter or photo"), "reply": _l("Reply letter")}

# Content type, the first bytes that identify it, and the extensions its name may carry.
FILE_TYPES = {
    "application/pdf": (b"%PDF-", ("pdf",)),
    "image/jpeg": (b"\xff\xd8\xff", ("jpg", "jpeg")),
    "image/png": (b"\x89PNG\r\n\x1a\n", ("png",)),
}


@dataclasses.dataclass(frozen=True)
class Upload:
    """A checked file, ready to be stored."""

    filename: str
    content_type: str
    data: bytes


def attachment_root() -> str:
    """The folder attachments are stored in."""
    configured = current_app.config.get("ATTACHMENT_PATH")
    return configured or os.path.join(current_app.instance_path, "attachments")


def max_bytes() -> int:
    return int(current_app.config.get("ATTACHMENT_MAX_BYTES", DEFAULT_MAX_BYTES))


def max_megabytes() -> str:
    return f"{max_bytes() / (1024 * 1024):g}"


def sniff(head: bytes) -> str | None:
    """The content type the first bytes of a file reveal, if it is one we keep."""
    for content_type, (magic, _extensions) in FILE_TYPES.items():
        if head.startswith(magic):
            return content_type
    return None


def clean_filename(name: str) -> str:
    """The last part of an uploaded name, without control characters, at most 200 long."""
    name = unicodedata.normalize("NFC", name or "").replace("\\", "/").rsplit("/", 1)[-1]
    name = "".join(ch for ch in name if unicodedata.category(ch) not in ("Cc", "Cf", "Cs"))
    name = name.strip().strip(".")
    if len(name) > FILENAME_MAX:
        stem, dot, extension = name.rpartition(".")
        name = (stem[: FILENAME_MAX - len(extension) - 1] + dot + extension) if dot else name
        name = name[:FILENAME_MAX]
    return name


def read_upload(file: FileStorage | None, field: str = "attachments") -> Upload | None:
    """Check one uploaded file; None when the file input was left empty.

    Raises DomainError (on ``field``) for a file that is not a PDF, JPEG or PNG by both
    its content and its name, that is empty, or that is larger than the limit.
    """
    if file is None or not file.filename:
        return None
    filename = clean_filename(file.filename)
    limit = max_bytes()
    data = file.stream.read(limit + 1)
    if len(data) > limit:
        raise DomainError(
            _l("%(name)s is larger than %(mb)s MB.", name=filename, mb=max_megabytes()), field
        )
    if not data:
        raise DomainError(_l("%(name)s is empty.", name=filename), field)
    content_type = sniff(data[:16])
    extension = filename.rpartition(".")[2].lower() if "." in filename else ""
    if content_type is None or extension not in FILE_TYPES[content_type][1]:
        raise DomainError(
            _l("%(name)s is not a PDF, JPEG or PNG file. Attach only these.", name=filename),
            field,
        )
    return Upload(filename=filename, content_type=content_type, data=data)


def read_uploads(files: Iterable[FileStorage], field: str = "attachments") -> list[Upload]:
    """Check every file of a multiple file input (empty inputs are skipped)."""
    uploads = [u for u in (read_upload(f, field) for f in files) if u is not None]
    if len(uploads) > MAX_FILES:
        raise DomainError(_l("Attach at most %(n)s files at a time.", n=MAX_FILES), field)
    return uploads


def path_of(attachment: Attachment) -> str:
    return os.path.join(attachment_root(), attachment.stored_name)


def store(
    s: Suggestion,
    upload: Upload,
    *,
    kind: str,
    now: dt.datetime,
    actor: Any,
    agency: Agency | None = None,
) -> Attachment:
    """Write the file under a new random name and add its row (the caller commits).

    If the transaction fails, call ``remove_files`` with the returned attachments.
    """
    if kind not in KINDS:
        raise DomainError(_l("Choose what the file is."), "kind")
    root = attachment_root()
    os.makedirs(root, exist_ok=True)
    extension = FILE_TYPES[upload.content_type][1][0]
    stored_name = f"{secrets.token_hex(16)}.{extension}"
    # "x": never overwrite; 0o640: not readable by other accounts on the machine.
    fd = os.open(os.path.join(root, stored_name), os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o640)
    with os.fdopen(fd, "wb") as handle:
        handle.write(upload.data)
    attachment = Attachment(
        suggestion_id=s.id,
        kind=kind,
        agency_id=agency.id if agency is not None else None,
        filename=upload.filename,
        content_type=upload.content_type,
        size=len(upload.data),
        stored_name=stored_name,
        uploaded_by_id=getattr(actor, "id", None),
        created_at=as_utc_naive(now),
        updated_at=as_utc_naive(now),
    )
    db.session.add(attachment)
    db.session.flush()
    record(
        "attachment.create",
        attachment,
        actor=actor,
        summary=_l(
            "%(code)s: %(kind)s %(type)s, %(size)s bytes",
            code=s.tracking_code,
            kind=kind,
            type=upload.content_type,
            size=len(upload.data),
        ),
        at=as_utc_naive(now),
    )
    return attachment


def remove_files(attachments: Iterable[Attachment]) -> None:
    """Delete stored files whose rows were not committed."""
    for attachment in attachments:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(path_of(attachment))


def attachments_of(s: Suggestion) -> list[Attachment]:
    """The suggestion's attachments still on file, oldest first."""
    return list(
        db.session.scalars(
            sa.select(Attachment)
            .where(Attachment.suggestion_id == s.id, Attachment.purged_at.is_(None))
            .order_by(Attachment.id)
        )
    )


def agency_may_see(attachment: Attachment, s: Suggestion, agency_id: int | None) -> bool:
    """Whether a handler of ``agency_id`` (which handles ``s``) may open ``attachment``.

    Agencies see reply letters and their own uploads; a citizen's file only when the
    citizen did not ask to stay unnamed (为本人保密): the letter may name them.
    """
    if agency_id is None:
        return False
    if attachment.agency_id == agency_id or attachment.kind == "reply":
        return True
    return attachment.kind == "citizen" and not s.confidential


def purge_citizen_attachments(now: dt.datetime) -> int:
    """Delete the citizens' files of suggestions whose citizens were removed by the
    retention job (``suggestions.retention``); rows stay, marked ``purged_at``.
    Returns how many."""
    rows = db.session.scalars(
        sa.select(Attachment).where(
            Attachment.kind == "citizen",
            Attachment.purged_at.is_(None),
            Attachment.suggestion_id.in_(
                sa.select(Suggestion.id).where(Suggestion.purged_at.is_not(None))
            ),
        )
    ).all()
    remove_files(rows)
    for attachment in rows:
        attachment.purged_at = as_utc_naive(now)
    if rows:
        record(
            "attachment.purge",
            object_type="attachment",
            summary=_l("%(num)s citizens' attachments removed after retention", num=len(rows)),
            at=as_utc_naive(now),
        )
    return len(rows)
