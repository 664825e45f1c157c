"""Staff pages to import the deputies roster: upload, preview, confirm."""

from __future__ import annotations

import os
from typing import Any

from flask import Blueprint, abort, current_app, make_response, redirect, render_template, url_for
from flask_babel import lazy_gettext as _l
from flask_security import auth_required, current_user
from flask_wtf.file import FileAllowed, FileField, FileRequired

from workroom import spreadsheet
from workroom.auth.permissions import allowed, require
from workroom.clock import utcnow
from workroom.db import db
from workroom.errors import DomainError, NotFound
from workroom.forms import Form
from workroom.people import importing
from workroom.people.models import DEPUTY_LEVELS

bp = Blueprint("roster_import", __name__, url_prefix="/staff")

ACCEPT = ".xlsx,.csv,application/vnd.openxmlformats-officedocument.spreadsheetml.sheet,text/csv"


class RosterUploadForm(Form):
    file = FileField(
        _l("Roster file"),
        validators=[
            FileRequired(_l("Choose the file to import.")),
            FileAllowed(["xlsx", "csv"], _l("Upload an .xlsx or .csv file.")),
        ],
    )


def _render_upload(form: RosterUploadForm, status: int = 200, gone: Any = None) -> Any:
    max_bytes, max_rows = importing.import_limits()
    return render_template(
        "roster_import/upload.html",
        form=form,
        guide=importing.column_guide(),
        accept=ACCEPT,
        max_size=spreadsheet.size_label(max_bytes),
        max_rows=max_rows,
        gone=gone,
    ), status


def _pending(token: str) -> importing.PendingImport:
    """The current user's upload; else abort with the upload page saying it is gone (404).

    An upload is an object of its uploader's: to anyone else it does not exist (404).
    """
    if not allowed("deputy.manage"):
        abort(404)
    try:
        return importing.load_pending(
            importing.pending_folder(), token, user_id=current_user.id, now=utcnow()
        )
    except NotFound as error:
        abort(make_response(_render_upload(RosterUploadForm(), 404, gone=error.message)))


@bp.route("/deputies/import", methods=["GET", "POST"])
@auth_required()
def upload() -> Any:
    require("deputy.manage")
    form = RosterUploadForm()
    if form.validate_on_submit():
        max_bytes, max_rows = importing.import_limits()
        upload = form.file.data
        try:
            roster = importing.read_roster(
                upload.stream.read(max_bytes + 1), max_bytes=max_bytes, max_rows=max_rows
            )
            token = importing.save_pending(
                importing.pending_folder(),
                roster,
                user_id=current_user.id,
                filename=os.path.basename(upload.filename or ""),
                now=utcnow(),
                minutes=int(
                    current_app.config.get(
                        "IMPORT_PREVIEW_MINUTES", importing.DEFAULT_PREVIEW_MINUTES
                    )
                ),
            )
            return redirect(url_for("roster_import.preview", token=token), 303)
        except DomainError as error:
            form.add_error(error)
    return _render_upload(form, 400 if form.errors else 200)


@bp.get("/deputies/import/<token>")
@auth_required()
def preview(token: str) -> Any:
    pending = _pending(token)
    check = importing.check_roster(pending.roster)
    return render_template(
        "roster_import/preview.html",
        pending=pending,
        check=check,
        columns=importing.COLUMNS,
        levels=DEPUTY_LEVELS,
        refused=False,
    )


@bp.post("/deputies/import/<token>/confirm")
@auth_required()
def confirm(token: str) -> Any:
    pending = _pending(token)
    folder = importing.pending_folder()
    try:
        with importing.claim_pending(folder, token):
            check = importing.import_roster(pending.roster, source=pending.filename)
            if not check.ok:
                db.session.rollback()
                return render_template(
                    "roster_import/preview.html",
                    pending=pending,
                    check=check,
                    columns=importing.COLUMNS,
                    levels=DEPUTY_LEVELS,
                    refused=True,
                ), 400
            db.session.commit()
            importing.discard_pending(folder, token)
    except NotFound as error:
        return _render_upload(RosterUploadForm(), 404, gone=error.message)
    return render_template("roster_import/done.html", pending=pending, check=check)
