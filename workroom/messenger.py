"""Tell a person something: the one way the application sends an email or an SMS.

A notice goes to one recipient under one dedupe key, on the channels the recipient
has: an email rendered from a template under ``templates/email/``, in the recipient's
language, and an SMS from the table below, whose text the gateway holds in the
default language. The messages join the caller's transaction in the outbox
(``workroom.outbox``) and leave after the commit.

Dedupe keys: a notice sent on both channels keys its messages ``<key>:email`` and
``<key>:sms``; a notice on one channel keys its message ``<key>``. Telling the same
key again queues nothing.

Email templates extend ``email/_layout.txt`` (directly or through another layout)
and define a ``subject`` block, one line, and the ``body`` block, the text. They see
the caller's context and ``recipient``; they format dates themselves (the ``date``
filter), so that dates follow the recipient's language.

Recipients are plain values, built by the callers or by the small constructors here,
which take a user, a deputy, an agency or a phone number without importing the areas
those come from.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import re
from collections import defaultdict
from collections.abc import Iterable, Mapping
from typing import Any

import sqlalchemy as sa
from flask import current_app
from flask_babel import force_locale, format_date, format_datetime

from workroom.auth.models import Role, User, user_role, user_workroom
from workroom.db import db
from workroom.errors import DomainError
from workroom.i18n import default_locale, normalize_locale
from workroom.outbox.queue import queue_email, queue_sms, usable_email
from workroom.privacy import normalize_mobile

# Every SMS the application sends: our template id and the parameters its text takes,
# in the order the text names them. The gateway's own ids come from the SMS_TEMPLATES
# setting (see gateway_template); each template is registered at the gateway with
# these parameter names.
SMS_PARAMETERS: dict[str, tuple[str, ...]] = {
    # A deputy's coming reception day: at publication and before the day.
    "RECEPTION_REMINDER": ("date", "time", "workroom"),
    # A deputy taken off a published day.
    "RECEPTION_REMOVED": ("date", "time", "workroom"),
    # A published day cancelled, with the reason.
    "RECEPTION_CANCELLED": ("date", "time", "workroom", "reason"),
    # A deputy's swap request refused: it stays on duty.
    "RECEPTION_SWAP_REFUSED": ("date", "time", "workroom"),
    # A citizen's suggestion answered: its tracking code, for /track.
    "SUGGESTION_REPLIED": ("code",),
}

# Older settings that name the gateway's id of one template; an SMS_TEMPLATES entry
# (the preferred setting) wins over them.
_OLDER_SETTINGS = {"SUGGESTION_REPLIED": "SMS_TEMPLATE_SUGGESTION_REPLIED"}

_BLANK_LINES = re.compile(r"\n{3,}")


@dataclasses.dataclass(frozen=True)
class Recipient:
    """Someone to tell: an email address and/or a mobile number, a name, a language.

    ``locale`` None means BABEL_DEFAULT_LOCALE. ``id`` is the id of the user, deputy or
    agency the recipient was made from, for the callers' dedupe keys.
    """

    name: str = ""
    email: str | None = None
    mobile: str | None = None
    locale: str | None = None
    id: int | None = None


def usable_mobile(value: str | None) -> str | None:
    """The 11-digit mainland mobile number in ``value``, or None (a landline, nothing)."""
    if not value:
        return None
    try:
        return normalize_mobile(value)
    except DomainError:
        return None


# Recipients


def user(account: Any) -> Recipient:
    """A staff account: its address, no mobile, its own language setting."""
    return Recipient(name=str(account), email=account.email, locale=account.locale, id=account.id)


def deputy(person: Any) -> Recipient:
    """A deputy: its address and mobile; the language of its account when it has one
    with a language set (active accounts first), else the default."""
    locale = db.session.scalar(
        sa.select(User.locale)
        .where(User.deputy_id == person.id, User.locale.is_not(None), User.locale != "")
        .order_by(User.active.desc(), User.id)
        .limit(1)
    )
    return Recipient(
        name=person.name, email=person.email, mobile=person.phone, locale=locale, id=person.id
    )


def agency(unit: Any) -> Recipient:
    """An agency at its address, in the default language."""
    return Recipient(name=unit.name, email=unit.email, id=unit.id)


def agency_and_supervisor(unit: Any) -> list[Recipient]:
    """An agency and, when it has an active one, its supervising agency."""
    found = [agency(unit)]
    supervisor = unit.supervisor
    if supervisor is not None and supervisor.active:
        found.append(agency(supervisor))
    return found


def citizen(phone: str | None, name: str | None = None) -> Recipient:
    """A citizen by the number it gave (none once purged), in the default language."""
    return Recipient(name=name or "", mobile=phone)


def liaisons(workroom_ids: Iterable[int]) -> dict[int, list[Recipient]]:
    """The active liaison accounts of each workroom, by workroom id, in account order.

    Accounts without an address are included: they simply get no email.
    """
    ids = {i for i in workroom_ids if i is not None}
    if not ids:
        return {}
    rows = db.session.execute(
        sa.select(user_workroom.c.workroom_id, User)
        .join(User, User.id == user_workroom.c.user_id)
        .join(user_role, user_role.c.user_id == User.id)
        .join(Role, Role.id == user_role.c.role_id)
        .where(
            user_workroom.c.workroom_id.in_(ids),
            Role.name == "liaison",
            User.active.is_(True),
        )
        .order_by(User.id)
    ).all()
    found: dict[int, list[Recipient]] = defaultdict(list)
    for workroom_id, account in rows:
        found[workroom_id].append(user(account))
    return dict(found)


# Rendering


def gateway_template(name: str) -> str:
    """The gateway's id of our SMS template ``name``: its SMS_TEMPLATES entry, else the
    older setting for it (SMS_TEMPLATE_SUGGESTION_REPLIED), else ``name`` itself."""
    mapped = (current_app.config.get("SMS_TEMPLATES") or {}).get(name)
    if mapped:
        return str(mapped)
    older = _OLDER_SETTINGS.get(name)
    if older and current_app.config.get(older):
        return str(current_app.config[older])
    return name


def sms_text_params(name: str, params: Mapping[str, Any] | None) -> dict[str, str]:
    """The parameters of SMS ``name`` as the gateway gets them, in the current language:
    dates in the long form, moments in the configured zone, everything else as text.

    Raises ValueError when ``name`` is not in SMS_PARAMETERS or ``params`` do not name
    exactly its parameters (a programming error, never the user's).
    """
    expected = SMS_PARAMETERS.get(name)
    if expected is None:
        raise ValueError(f"SMS template {name!r} is not in messenger.SMS_PARAMETERS")
    given = dict(params or {})
    if set(given) != set(expected):
        raise ValueError(
            f"SMS template {name} takes {', '.join(expected)}; "
            f"given {', '.join(sorted(given)) or 'nothing'}"
        )
    return {key: _param_text(given[key]) for key in expected}


def _param_text(value: Any) -> str:
    if isinstance(value, dt.datetime):
        return format_datetime(value, "short")
    if isinstance(value, dt.date):
        return format_date(value, "long")
    return "" if value is None else str(value)


def render_email(template: str, context: Mapping[str, Any]) -> tuple[str, str]:
    """The subject and body of ``templates/email/<template>`` in the current language.

    Raises ValueError when the template has no ``subject`` block.
    """
    jinja = current_app.jinja_env.get_template(f"email/{template}")
    values = dict(context)
    subject_block = jinja.blocks.get("subject")
    if subject_block is None:
        raise ValueError(f"email/{template} has no subject block")
    subject = "".join(subject_block(jinja.new_context(values)))
    body = _BLANK_LINES.sub("\n\n", jinja.render(values)).strip("\n")
    return " ".join(subject.split()), body + "\n"


# Telling


def tell(
    to: Recipient,
    key: str,
    now: dt.datetime,
    *,
    email: str | None = None,
    context: Mapping[str, Any] | None = None,
    sms: str | None = None,
    params: Mapping[str, Any] | None = None,
) -> int:
    """Queue the notice ``key`` to ``to`` in the caller's transaction; return how many
    messages of it are in the outbox (a repeat queues nothing and answers the same).

    ``email`` names a template under templates/email/ rendered with ``context`` (and
    ``recipient``); ``sms`` is an id of SMS_PARAMETERS with its ``params``. A channel
    the recipient lacks (no usable address, no mobile number) is skipped. The email is
    rendered in the recipient's language; the SMS parameters in the default language,
    the one its text is registered in at the gateway. Raises ValueError for a notice without a
    channel, an unknown SMS template or parameters that do not match it.
    """
    if email is None and sms is None:
        raise ValueError("A notice needs an email template or an SMS template")
    if sms is None and params:
        raise ValueError("SMS parameters given without an SMS template")
    both = email is not None and sms is not None
    address = usable_email(to.email) if email is not None else None
    mobile = usable_mobile(to.mobile) if sms is not None else None
    queued = 0
    # The SMS text is registered at the gateway in one language: its parameters follow it.
    with force_locale(default_locale()):
        text_params = sms_text_params(sms, params) if sms is not None else {}
    with force_locale(normalize_locale(to.locale) or default_locale()):
        if address and email is not None:
            subject, body = render_email(email, {**(context or {}), "recipient": to})
            queue_email(f"{key}:email" if both else key, address, subject, body, now)
            queued += 1
        if mobile and sms is not None:
            queue_sms(
                f"{key}:sms" if both else key, mobile, gateway_template(sms), text_params, now
            )
            queued += 1
    return queued
