"""Staff pages for suggestions: raising one, the list and its export, the detail page
with the timeline and the staff's steps, and attachments."""

from __future__ import annotations

import datetime as dt
import os
from collections.abc import Callable, Collection
from typing import Any, NoReturn

import sqlalchemy as sa
from flask import (
    Blueprint,
    abort,
    flash,
    redirect,
    render_template,
    request,
    send_file,
    url_for,
)
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_security import auth_required, current_user
from sqlalchemy.orm import selectinload

from workroom.audit.log import record
from workroom.auth.permissions import allowed, get_or_404, require, scoped
from workroom.categories.models import Category
from workroom.clock import local_date, utcnow
from workroom.db import db, writing
from workroom.errors import Conflict, DomainError
from workroom.forms import render_form
from workroom.listing import id_arg, page_of
from workroom.people.models import Agency, Deputy
from workroom.places.models import Area, Workroom
from workroom.places.views import area_choices
from workroom.suggestions import attachments, exports, lifecycle, routing
from workroom.suggestions.deadlines import DEADLINE_STATES
from workroom.suggestions.forms import (
    DIRECT_SOURCES,
    AssignForm,
    AttachmentForm,
    CloseForm,
    ExtensionDecisionForm,
    FollowUpForm,
    MergeForm,
    RehandleForm,
    SuggestionForm,
)
from workroom.suggestions.models import (
    ASSIGNED_BY,
    DEADLINE_POLICIES,
    EVENT_KINDS,
    REPLY_CLASSES,
    SATISFACTION,
    SOURCES,
    STATUSES,
    Attachment,
    Suggestion,
    SuggestionCitizen,
)
from workroom.suggestions.queries import AGENCY_ROLES, SuggestionFilter, suggestions_query
from workroom.suggestions.views.routing import category_choices
from workroom.visits.models import Visit
from workroom.workdays.calendar import WorkingCalendar, working_calendar

bp = Blueprint("suggestions", __name__, url_prefix="/staff")

DEADLINE_LABELS = {
    "on_time": _l("On time"),
    "due_soon": _l("Due within 3 working days"),
    "overdue": _l("Overdue"),
}
DEADLINE_TAGS = {"on_time": "tag--ok", "due_soon": "tag--warn", "overdue": "tag--error"}
EXPORT_FORMATS = ("csv", "xlsx")


# Access


def deny(object_id: Any, object_type: str = "suggestion") -> NoReturn:
    """Record an attempt to reach a suggestion or attachment out of scope; answer 404."""
    with writing():
        record(
            "suggestion.access_denied",
            object_type=object_type,
            object_id=object_id,
            summary=f"{request.method} {request.path}",
        )
        db.session.commit()
    abort(404)


def scoped_suggestion(suggestion_id: int, permission: str) -> Suggestion:
    """The suggestion if ``permission`` covers it for the current user; else deny."""
    s = db.session.scalar(
        scoped(sa.select(Suggestion).where(Suggestion.id == suggestion_id), Suggestion, permission)
    )
    if s is None:
        deny(suggestion_id)
    return s


def staff_suggestion(suggestion_id: int, permission: str = "suggestion.view") -> Suggestion:
    """A suggestion for the staff pages; agency handlers work in the portal instead."""
    if allowed("suggestion.handle"):
        deny(suggestion_id)
    return scoped_suggestion(suggestion_id, permission)


def may(s: Suggestion, permission: str) -> bool:
    """Whether the current user holds ``permission`` on ``s``."""
    stmt = scoped(sa.select(Suggestion.id).where(Suggestion.id == s.id), Suggestion, permission)
    return db.session.scalar(stmt) is not None


def actor() -> Any:
    return current_user._get_current_object()


# Lists, shared with the agency portal


def calendar_around(today: dt.date) -> WorkingCalendar:
    return working_calendar(range(today.year - 1, today.year + 2))


# The filters each list takes from its query string.
STAFF_FILTERS = ("status", "deadline", "category", "area", "agency", "workroom", "since", "until")
PORTAL_FILTERS = ("status", "deadline", "role")


def list_filter(
    names: Collection[str] = STAFF_FILTERS, *, agency_id: int | None = None
) -> SuggestionFilter:
    """The list filter from the query string, read from the arguments in ``names``
    only; unknown values and malformed dates are ignored, an id that is not a number
    in range answers 400 (``listing.id_arg``). ``role`` is the part ``agency_id``
    (the portal's own agency) plays."""
    args = {name: request.args.get(name, "") for name in names}

    def number(name: str) -> int | None:
        return id_arg(name) if name in names else None

    def day(name: str) -> dt.date | None:
        try:
            return dt.date.fromisoformat(args.get(name, ""))
        except ValueError:
            return None

    status, deadline, role = args.get("status"), args.get("deadline"), args.get("role")
    role = role if role in AGENCY_ROLES and agency_id else ""
    return SuggestionFilter(
        status=status if status in STATUSES else "",
        deadline=deadline if deadline in DEADLINE_STATES else "",
        category_id=number("category"),
        area_id=number("area"),
        agency_id=agency_id if role else number("agency"),
        agency_role=role,
        workroom_id=number("workroom"),
        since=day("since"),
        until=day("until"),
    )


def list_options() -> list[Any]:
    """What a list row shows, loaded with the page in a fixed number of queries."""
    return [
        selectinload(Suggestion.category),
        selectinload(Suggestion.area),
        selectinload(Suggestion.workroom),
        selectinload(Suggestion.lead_agency),
    ]


def export_response(
    stmt: sa.Select, fmt: str, *, hide_confidential: bool, today: dt.date, calendar: Any
) -> Any:
    """The filtered list as CSV or .xlsx; the export is recorded in the audit log."""
    count = db.session.scalar(
        sa.select(sa.func.count()).select_from(stmt.order_by(None).subquery())
    )
    with writing():
        record(
            "suggestion.export",
            object_type="suggestion",
            summary=_l(
                "%(num)s suggestions as %(format)s (%(query)s)",
                num=count,
                format=fmt,
                query=request.query_string.decode()[:300],
            ),
        )
        db.session.commit()

    def rows() -> Any:
        yield exports.headers()
        for s in exports.suggestions_in_order(stmt):
            yield exports.row(
                s,
                hide_confidential=hide_confidential,
                today=today,
                calendar=calendar,
                local_date=local_date,
            )

    filename = f"suggestions-{today:%Y%m%d}.{fmt}"
    if fmt == "csv":
        return exports.csv_response(rows(), filename)
    return exports.xlsx_response(rows(), filename, _("Suggestions"))


def _workrooms_in_scope() -> list[Workroom]:
    return list(
        db.session.scalars(
            scoped(sa.select(Workroom), Workroom, "workroom.view").order_by(Workroom.name)
        )
    )


@bp.get("/suggestions")
@auth_required()
def index() -> Any:
    require("suggestion.view")
    if allowed("suggestion.handle"):
        return redirect(url_for("portal.index"))
    today = local_date(utcnow())
    calendar = calendar_around(today)
    filters = list_filter()
    stmt = suggestions_query(filters, user=actor(), today=today, calendar=calendar)
    fmt = request.args.get("format", "")
    if fmt in EXPORT_FORMATS:
        return export_response(stmt, fmt, hide_confidential=False, today=today, calendar=calendar)
    page = page_of(stmt.options(*list_options()))
    agencies = db.session.scalars(sa.select(Agency).order_by(Agency.name, Agency.id)).all()
    return render_template(
        "suggestions/index.html",
        page=page,
        filters=filters,
        states={s.id: lifecycle.deadline_state(s, today, calendar) for s in page.items},
        statuses=STATUSES,
        deadline_labels=DEADLINE_LABELS,
        deadline_tags=DEADLINE_TAGS,
        categories=category_choices(),
        areas=area_choices(),
        agencies=agencies,
        workrooms=_workrooms_in_scope(),
    )


# Raising a suggestion

# Where the domain's field names land on the intake form.
INTAKE_FIELDS = {"name": "citizen_name", "phone": "citizen_phone", "source": "source"}


def _intake_form(visit: Visit | None) -> SuggestionForm:
    user = actor()
    form = SuggestionForm()
    form.category_id.choices = category_choices(blank=_("Choose a category"))
    form.area_id.choices = area_choices(blank=_("Choose an area"))
    if visit is not None:
        form.workroom_id.choices = [(visit.workroom_id, visit.workroom.name)]
        form.source.choices = [("visit", SOURCES["visit"])]
    else:
        form.workroom_id.choices = [(0, _("None"))] + [
            (w.id, w.name) for w in _workrooms_in_scope() if w.active
        ]
        form.source.choices = [(code, SOURCES[code]) for code in DIRECT_SOURCES]
    if user.role == "deputy":
        del form.deputy_id
    else:
        deputies = db.session.scalars(
            scoped(sa.select(Deputy).where(Deputy.active), Deputy, "deputy.view").order_by(
                Deputy.name
            )
        )
        form.deputy_id.choices = [(0, _("None"))] + [(d.id, d.name) for d in deputies]
    return form


def _prefill(form: SuggestionForm, visit: Visit | None) -> None:
    user = actor()
    if visit is None:
        form.source.data = "deputy" if user.role == "deputy" else "liaison"
        own = [choice for choice in form.workroom_id.choices if choice[0]]
        form.workroom_id.data = own[0][0] if len(own) == 1 else 0
        return
    form.source.data = "visit"
    form.workroom_id.data = visit.workroom_id
    form.category_id.data = visit.category_id or 0
    form.area_id.data = visit.workroom.area_id
    summary = (visit.summary or "").strip()
    description = (visit.description or "").strip()
    form.title.data = (summary or description.split("\n", 1)[0])[:200]
    form.content.data = "\n\n".join(part for part in (description, summary) if part)
    if visit.purged_at is None:
        form.citizen_name.data = visit.visitor_name or ""


@bp.route("/suggestions/new", methods=["GET", "POST"])
@auth_required()
def new() -> Any:
    """Raise a suggestion directly, or from a visit (``?visit=<id>``)."""
    require("suggestion.raise")
    visit = None
    if "visit" in request.args:
        visit = get_or_404(Visit, id_arg("visit") or 0, "visit.view")
    form = _intake_form(visit)
    if request.method == "GET":
        _prefill(form, visit)
    max_mb = attachments.max_megabytes()
    if form.validate_on_submit():
        user = actor()
        now = utcnow()
        stored: list[Attachment] = []
        try:
            uploads = attachments.read_uploads(form.attachments.data or [])
            workroom = (
                db.session.get(Workroom, form.workroom_id.data) if form.workroom_id.data else None
            )
            if user.role == "deputy":
                deputy = user.deputy
            else:
                deputy = (
                    db.session.get(Deputy, form.deputy_id.data) if form.deputy_id.data else None
                )
            name, phone = form.citizen_name.data or None, form.citizen_phone.data or None
            citizens = (
                [{"visit": visit, "name": name, "phone": phone}]
                if visit is not None or name or phone
                else []
            )
            s = lifecycle.submit(
                title=form.title.data,
                content=form.content.data,
                category=db.session.get(Category, form.category_id.data),
                area=db.session.get(Area, form.area_id.data),
                source=form.source.data,
                now=now,
                actor=user,
                workroom=workroom,
                citizens=citizens,
                confidential=form.confidential.data,
                deputy=deputy,
            )
            for upload in uploads:
                stored.append(attachments.store(s, upload, kind="citizen", now=now, actor=user))
            db.session.commit()
        except DomainError as error:
            db.session.rollback()
            attachments.remove_files(stored)
            if error.field in INTAKE_FIELDS:
                error.field = INTAKE_FIELDS[error.field]
            form.add_error(error)
        else:
            flash(_("Suggestion %(code)s recorded.", code=s.tracking_code))
            return redirect(url_for("suggestions.detail", suggestion_id=s.id), 303)
    return render_form("suggestions/new.html", form, visit=visit, max_mb=max_mb)


# The detail page


def _citizens_shown(s: Suggestion) -> list[SuggestionCitizen]:
    """A handling suggestion answers its duplicates' citizens too; a merged one shows its own."""
    if s.status == "merged":
        return list(s.citizens)
    return lifecycle.group_citizens(s)


def _agency_choices() -> list[Agency]:
    return list(
        db.session.scalars(sa.select(Agency).where(Agency.active).order_by(Agency.name, Agency.id))
    )


def _assign_form(s: Suggestion, formdata: Any = None) -> AssignForm:
    form = AssignForm(formdata=formdata, prefix="assign")
    agencies = _agency_choices()
    form.lead_agency_id.choices = [(0, _("Choose the lead agency"))] + [
        (a.id, a.name) for a in agencies
    ]
    form.co_agency_ids.choices = [(a.id, a.name) for a in agencies]
    if formdata is None:
        form.lead_agency_id.data = s.lead_agency_id or 0
        form.co_agency_ids.data = [link.agency_id for link in s.agencies if link.role == "co"]
    return form


def detail_forms(s: Suggestion) -> dict[str, Any]:
    """Empty forms of the steps the current user may take on ``s`` now."""
    if not may(s, "suggestion.manage"):
        return {}
    forms: dict[str, Any] = {"upload": AttachmentForm(formdata=None, prefix="upload")}
    if s.status in ("triage", "assigned", "accepted"):
        forms["assign"] = _assign_form(s)
    if s.status in lifecycle.MERGEABLE:
        forms["merge"] = MergeForm(formdata=None, prefix="merge")
    if s.status == "replied":
        forms["close"] = CloseForm(formdata=None, prefix="close")
    citizens = _citizens_shown(s)
    if s.status in ("replied", "closed") and any(
        c.satisfaction == "dissatisfied" for c in citizens
    ):
        forms["rehandle"] = RehandleForm(formdata=None, prefix="rehandle")
    if any(r.status == "pending" for r in s.extension_requests):
        forms["extension"] = ExtensionDecisionForm(formdata=None, prefix="extension")
    if lifecycle.handling_suggestion(s).status == "replied":
        forms["follow_up"] = {
            c.id: FollowUpForm(formdata=None, prefix=f"c{c.id}")
            for c in citizens
            if c.followed_up_at is None
        }
    return forms


def timeline_detail(event: Any) -> str:
    """The short code completing a timeline step, in words."""
    if event.kind == "assigned":
        return str(ASSIGNED_BY.get(event.detail, event.detail))
    if event.kind == "replied":
        return str(REPLY_CLASSES.get(event.detail, event.detail))
    if event.kind == "followed_up":
        return str(SATISFACTION.get(event.detail, event.detail))
    if event.kind.startswith("extension_") and event.detail:
        return _("until %(date)s", date=event.detail)
    return ""


def detail_lookups() -> dict[str, Any]:
    """The tables and functions a suggestion's detail page shows its codes with, and
    the upload limit."""
    return {
        "deadline_labels": DEADLINE_LABELS,
        "deadline_tags": DEADLINE_TAGS,
        "sources": SOURCES,
        "reply_classes": REPLY_CLASSES,
        "satisfaction": SATISFACTION,
        "event_kinds": EVENT_KINDS,
        "timeline_detail": timeline_detail,
        "explain_routing": routing.explain_routing,
        "file_kinds": attachments.KINDS,
        "max_mb": attachments.max_megabytes(),
    }


def _detail_page(
    s: Suggestion,
    *,
    forms: dict[str, Any] | None = None,
    status: int = 200,
    conflict: str | None = None,
) -> Any:
    today = local_date(utcnow())
    all_forms = detail_forms(s)
    for name, form in (forms or {}).items():
        if name == "follow_up":
            all_forms.setdefault("follow_up", {}).update(form)
        else:
            all_forms[name] = form
    return render_template(
        "suggestions/detail.html",
        s=s,
        handling=lifecycle.handling_suggestion(s),
        citizens=_citizens_shown(s),
        files=attachments.attachments_of(s),
        forms=all_forms,
        conflict=conflict,
        state=lifecycle.deadline_state(s, today),
        policies=DEADLINE_POLICIES,
        **detail_lookups(),
    ), status


@bp.get("/suggestions/<int:suggestion_id>")
@auth_required()
def detail(suggestion_id: int) -> Any:
    return _detail_page(staff_suggestion(suggestion_id))


def _done(s: Suggestion, message: str) -> Any:
    flash(message)
    return redirect(url_for("suggestions.detail", suggestion_id=s.id), 303)


def run_step(
    s: Suggestion,
    step: Callable[[], str],
    *,
    page: Callable[..., Any],
    done: Callable[[Suggestion, str], Any],
    form: Any = None,
    forms: dict[str, Any] | None = None,
) -> Any:
    """Run a lifecycle step and commit; on a broken rule re-render the page instead:
    409 with the message of a Conflict, 400 with a DomainError on ``form``."""
    try:
        message = step()
        db.session.commit()
    except Conflict as error:
        db.session.rollback()
        return page(s, status=409, conflict=str(error.message))
    except DomainError as error:
        db.session.rollback()
        if form is not None:
            form.add_error(error)
        return page(s, forms=forms, status=400)
    return done(s, message)


def form_step(
    s: Suggestion,
    name: str,
    form: Any,
    step: Callable[[], str],
    *,
    page: Callable[..., Any],
    done: Callable[[Suggestion, str], Any],
) -> Any:
    """Validate ``form`` (the page with 400 when invalid), then :func:`run_step` ``step``."""
    forms = {name: form}
    if not form.validate():
        return page(s, forms=forms, status=400)
    return run_step(s, step, page=page, done=done, form=form, forms=forms)


def _step(s: Suggestion, name: str, form: Any, step: Callable[[], str]) -> Any:
    return form_step(s, name, form, step, page=_detail_page, done=_done)


@bp.post("/suggestions/<int:suggestion_id>/assign")
@auth_required()
def assign(suggestion_id: int) -> Any:
    s = staff_suggestion(suggestion_id, "suggestion.manage")
    form = _assign_form(s, request.form)

    def step() -> str:
        lead = db.session.get(Agency, form.lead_agency_id.data)
        co_ids = sorted(set(form.co_agency_ids.data or []))
        co = list(db.session.scalars(sa.select(Agency).where(Agency.id.in_(co_ids))))
        lifecycle.assign(
            s,
            lead_agency=lead,
            co_agencies=co,
            now=utcnow(),
            actor=actor(),
            reason=form.reason.data,
            override=form.override.data,
            deadline_policy=form.deadline_policy.data or None,
        )
        return _("Assigned to %(agency)s.", agency=lead.name)

    return _step(s, "assign", form, step)


@bp.post("/suggestions/<int:suggestion_id>/follow-up")
@auth_required()
def follow_up(suggestion_id: int) -> Any:
    s = staff_suggestion(suggestion_id, "suggestion.manage")
    citizen_id = request.form.get("citizen_id", 0, type=int) or 0
    # Only this suggestion's citizens: an id from elsewhere must not reveal it exists.
    citizen = next((c for c in lifecycle.group_citizens(s) if c.id == citizen_id), None)
    if citizen is None:
        return _detail_page(s, status=400, conflict=_("Choose a citizen."))
    form = FollowUpForm(formdata=request.form, prefix=f"c{citizen.id}")
    forms = {"follow_up": {citizen.id: form}}
    if not form.validate():
        return _detail_page(s, forms=forms, status=400)

    def step() -> str:
        lifecycle.record_follow_up(
            s,
            citizen,
            satisfaction=form.satisfaction.data,
            note=form.note.data,
            now=utcnow(),
            actor=actor(),
        )
        return _("Follow-up recorded.")

    return run_step(s, step, page=_detail_page, done=_done, form=form, forms=forms)


@bp.post("/suggestions/<int:suggestion_id>/close")
@auth_required()
def close(suggestion_id: int) -> Any:
    s = staff_suggestion(suggestion_id, "suggestion.manage")
    form = CloseForm(formdata=request.form, prefix="close")

    def step() -> str:
        lifecycle.close(s, now=utcnow(), actor=actor())
        return _("Suggestion closed.")

    return _step(s, "close", form, step)


@bp.post("/suggestions/<int:suggestion_id>/rehandle")
@auth_required()
def rehandle(suggestion_id: int) -> Any:
    s = staff_suggestion(suggestion_id, "suggestion.manage")
    form = RehandleForm(formdata=request.form, prefix="rehandle")

    def step() -> str:
        lifecycle.rehandle(s, now=utcnow(), actor=actor(), reason=form.reason.data)
        return _("Sent back to the agency to be handled again.")

    return _step(s, "rehandle", form, step)


@bp.post("/suggestions/<int:suggestion_id>/merge")
@auth_required()
def merge(suggestion_id: int) -> Any:
    s = staff_suggestion(suggestion_id, "suggestion.manage")
    form = MergeForm(formdata=request.form, prefix="merge")
    if not form.validate():
        return _detail_page(s, forms={"merge": form}, status=400)
    code = "".join(form.into_code.data.split()).upper()
    into = db.session.scalar(
        scoped(
            sa.select(Suggestion).where(Suggestion.tracking_code == code),
            Suggestion,
            "suggestion.manage",
        )
    )
    if into is None:
        form.add_error(DomainError(_l("No suggestion you manage has this code."), "into_code"))
        return _detail_page(s, forms={"merge": form}, status=400)

    def step() -> str:
        lifecycle.merge(s, into=into, now=utcnow(), actor=actor())
        return _("Merged into %(code)s.", code=into.tracking_code)

    return run_step(s, step, page=_detail_page, done=_done, form=form, forms={"merge": form})


@bp.post("/suggestions/<int:suggestion_id>/extension")
@auth_required()
def decide_extension(suggestion_id: int) -> Any:
    s = staff_suggestion(suggestion_id, "suggestion.manage")
    form = ExtensionDecisionForm(formdata=request.form, prefix="extension")
    if not form.validate():
        return _detail_page(s, forms={"extension": form}, status=400)
    pending = [r for r in s.extension_requests if r.status == "pending"]
    if not pending:
        return _detail_page(
            s, status=409, conflict=_("No extension request is waiting for a decision.")
        )
    approve = form.decision.data == "approve"

    def step() -> str:
        lifecycle.decide_extension(
            pending[0], approve=approve, now=utcnow(), actor=actor(), note=form.note.data
        )
        return _("Extension approved.") if approve else _("Extension refused.")

    return run_step(s, step, page=_detail_page, done=_done, form=form, forms={"extension": form})


# Attachments


@bp.post("/suggestions/<int:suggestion_id>/attachments")
@auth_required()
def upload(suggestion_id: int) -> Any:
    s = staff_suggestion(suggestion_id, "suggestion.manage")
    form = AttachmentForm(prefix="upload")
    stored: list[Attachment] = []
    try:
        if not form.validate_on_submit():
            raise DomainError(_l("Please correct the highlighted fields."))
        uploads = attachments.read_uploads(form.files.data or [], "files")
        if not uploads:
            raise DomainError(_l("Choose a file to attach."), "files")
        now = utcnow()
        for item in uploads:
            stored.append(attachments.store(s, item, kind="citizen", now=now, actor=actor()))
        db.session.commit()
    except DomainError as error:
        db.session.rollback()
        attachments.remove_files(stored)
        form.add_error(error)
        return _detail_page(s, forms={"upload": form}, status=400)
    return _done(s, _("%(n)s files attached.", n=len(stored)))


@bp.get("/attachments/<int:attachment_id>")
@auth_required()
def attachment(attachment_id: int) -> Any:
    """Download a file, to users who may see its suggestion (agencies: not the citizens'
    files of a confidential suggestion, see attachments.agency_may_see)."""
    a = db.session.get(Attachment, attachment_id)
    if a is None or a.purged_at is not None:
        deny(attachment_id, "attachment")
    user = actor()
    if allowed("suggestion.handle"):
        s = db.session.scalar(
            scoped(
                sa.select(Suggestion).where(Suggestion.id == a.suggestion_id),
                Suggestion,
                "suggestion.handle",
            )
        )
        if s is None or not attachments.agency_may_see(a, s, user.agency_id):
            deny(attachment_id, "attachment")
    else:
        s = db.session.scalar(
            scoped(
                sa.select(Suggestion).where(Suggestion.id == a.suggestion_id),
                Suggestion,
                "suggestion.view",
            )
        )
        if s is None:
            deny(attachment_id, "attachment")
    path = attachments.path_of(a)
    if not os.path.isfile(path):
        abort(404)
    with writing():
        record(
            "attachment.download",
            object_type="attachment",
            object_id=attachment_id,
            summary=f"{s.tracking_code}: {a.filename}",
        )
        db.session.commit()
    response = send_file(
        path,
        mimetype=a.content_type,
        as_attachment=True,
        download_name=a.filename,
        max_age=0,
        conditional=False,
    )
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Cache-Control"] = "no-store"
    return response
