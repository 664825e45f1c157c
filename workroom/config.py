"""Configuration defaults.

Values here are read first; ``instance/config.py`` overrides them, and environment
variables named ``WORKROOM_<NAME>`` override both. ``WORKROOM_DATABASE_URL`` sets
``SQLALCHEMY_DATABASE_URI``; every other ``WORKROOM_<NAME>`` sets ``<NAME>``.
"""

import json
import os
from collections.abc import Mapping
from typing import Any


class DefaultConfig:
    # Database: None means the SQLite file ``workroom.sqlite`` in the instance folder.
    SQLALCHEMY_DATABASE_URI: str | None = None
    SQLALCHEMY_ENGINE_OPTIONS: dict[str, Any] = {"pool_pre_ping": True}

    # None means: generate one random key once and keep it in the instance folder.
    SECRET_KEY: str | None = None
    # The key of the audit log's hash chain; generated into the instance folder when
    # unset. Keep it outside the database, and keep it: old seals need it.
    AUDIT_CHAIN_KEY: str | None = None

    # The zone reception days and deadlines are shown in; everything is stored in UTC.
    TIMEZONE = "Asia/Shanghai"

    # The address printed in QR codes, emails and calendar feeds; never taken from a request.
    PUBLIC_URL = "http://127.0.0.1:5000"

    # How many reverse-proxy hops to trust for the client address (X-Forwarded-For).
    TRUSTED_PROXIES = 0

    # Languages offered; the first is the default.
    LANGUAGES = ("zh_Hans_CN", "en")
    BABEL_DEFAULT_LOCALE = "zh_Hans_CN"
    BABEL_DEFAULT_TIMEZONE = "Asia/Shanghai"

    # Pages of staff lists.
    PAGE_SIZE = 25

    # Audit events are kept at least this long (Cybersecurity Law art. 21: six months).
    AUDIT_RETENTION_DAYS = 190

    # Sign-in throttling: per submitted username and per client address.
    LOGIN_LIMIT_PER_ACCOUNT = "10 per 15 minutes"
    LOGIN_LIMIT_PER_ADDRESS = "30 per 15 minutes"
    # Consecutive failed passwords before an account is locked, and for how long.
    LOGIN_LOCKOUT_FAILURES = 8
    LOGIN_LOCKOUT_MINUTES = 15

    # Flask-Limiter storage: memory for the embedded server, redis://... at scale.
    RATELIMIT_STORAGE_URI = "memory://"
    RATELIMIT_HEADERS_ENABLED = True

    # Cookies: Secure is switched on when PUBLIC_URL is https.
    SESSION_COOKIE_HTTPONLY = True
    SESSION_COOKIE_SAMESITE = "Lax"
    REMEMBER_COOKIE_HTTPONLY = True
    REMEMBER_COOKIE_SAMESITE = "Lax"

    # Outgoing email (SMTP). No server: messages wait in the outbox with an error.
    MAIL_SERVER: str | None = None
    MAIL_PORT = 25
    MAIL_USERNAME: str | None = None
    MAIL_PASSWORD: str | None = None
    MAIL_USE_TLS = False  # STARTTLS
    MAIL_USE_SSL = False
    MAIL_DEFAULT_SENDER: str | None = None  # None: noreply@<host of PUBLIC_URL>
    MAIL_TIMEOUT = 10

    # SMS through an HTTP webhook gateway (template id + parameters + signature).
    SMS_WEBHOOK_URL: str | None = None
    SMS_WEBHOOK_TOKEN: str | None = None  # sent as a Bearer token
    SMS_SIGNATURE = ""
    SMS_TIMEOUT = 5

    # Outbox retries: 1, 2, 4 … minutes up to an hour; then the message is marked failed.
    OUTBOX_MAX_ATTEMPTS = 20
    OUTBOX_RETRY_BASE_SECONDS = 60
    OUTBOX_RETRY_MAX_SECONDS = 3600
    # A claimed message whose sender died is taken over after this long.
    OUTBOX_LEASE_SECONDS = 600
    OUTBOX_BATCH = 50

    # Job runner: {job name: trigger keywords} replaces a job's trigger; None disables it.
    JOB_TRIGGERS: dict[str, Any] = {}
    JOBS_LOCK_POLL_SECONDS = 5
    # Admins are warned when the runner's last heartbeat is older than this.
    JOBS_HEARTBEAT_STALE_SECONDS = 120

    # Largest request body; uploads have their own, smaller limits below.
    MAX_CONTENT_LENGTH = 16 * 1024 * 1024

    # Roster import: largest file, most rows, how long a checked upload waits.
    IMPORT_MAX_BYTES = 2 * 1024 * 1024
    IMPORT_MAX_ROWS = 5000
    IMPORT_PREVIEW_MINUTES = 30

    # The gateway's SMS template ids, by ours: {"RECEPTION_REMINDER": "SMS_123456", ...}.
    # Our ids and their parameters are the table SMS_PARAMETERS in workroom/messenger.py;
    # a missing entry sends ours unchanged. The preferred setting for every template.
    SMS_TEMPLATES: dict[str, str] = {}
    # Older name for SMS_TEMPLATES["SUGGESTION_REPLIED"], read only when that entry is
    # missing; prefer SMS_TEMPLATES.
    SMS_TEMPLATE_SUGGESTION_REPLIED: str | None = None

    # Reception reminders: N days before, the evening before (local hour), and the
    # liaison's alert about unconfirmed deputies; confirm/decline links stay valid this long.
    REMINDER_DAYS_BEFORE = 3
    REMINDER_EVENING_HOUR = 18
    UNCONFIRMED_ALERT_DAYS = 2
    ASSIGNMENT_LINK_MAX_AGE_DAYS = 120

    # Kiosk: idle time before the warning, the warning's length (at least 20 s), how
    # long a pairing code is valid, and pairing attempts per client address.
    KIOSK_IDLE_SECONDS = 90
    KIOSK_IDLE_WARNING_SECONDS = 30
    KIOSK_PAIRING_MINUTES = 15
    KIOSK_PAIR_LIMIT = "10 per 15 minutes"

    # Check-ins per client address (a paired kiosk is not limited: it syncs its queue).
    CHECKIN_RATE_LIMIT = "30 per minute"

    # Display board polling and the console's idle refresh, in seconds.
    BOARD_POLL_SECONDS = 3
    CONSOLE_REFRESH_SECONDS = 30

    # Visitors' names, numbers and number hashes are removed after this; statistics stay.
    VISITOR_RETENTION_MONTHS = 24
    # Sent and failed messages keep their recipient and text this long.
    OUTBOX_RETENTION_DAYS = 90
    # Audit events are sealed into the hash chain once this old (minutes), so that a
    # transaction still open when the sealer runs is never left behind it.
    AUDIT_SEAL_SETTLE_MINUTES = 15

    # Suggestion deadlines, on the working-day calendar: accept within 2 working days;
    # a citizen's suggestion answered within 15 working days, a deputy's within 3 months.
    ACCEPT_WORKING_DAYS = 2
    REPLY_WORKING_DAYS = 15
    DEPUTY_REPLY_MONTHS = 3
    # One extension each: up to 15 working days (citizen), up to 3 months (deputy).
    EXTENSION_MAX_WORKING_DAYS = 15
    DEPUTY_EXTENSION_MAX_MONTHS = 3
    # 退办 is allowed this many working days after assignment; 重新办理 at most this often.
    RETURN_LIMIT_WORKING_DAYS = 3
    REHANDLE_MAX = 2
    # Agencies are warned this many working days before the answer is due.
    DEADLINE_WARNING_WORKING_DAYS = 3

    # Attachments: None keeps them in <instance>/attachments; PDF, JPEG and PNG only.
    ATTACHMENT_PATH: str | None = None
    ATTACHMENT_MAX_BYTES = 10 * 1024 * 1024

    # Public tracking requests per client (the page's form and the JSON API together).
    TRACK_RATE_LIMIT = "20 per minute"

    WTF_CSRF_TIME_LIMIT = None  # a form left open over lunch still submits

    # Flask-Security-Too: username sign-in, no self-service emails (messages go
    # through the outbox), generic answers that do not reveal whether an account exists.
    SECURITY_USERNAME_ENABLE = True
    SECURITY_USERNAME_REQUIRED = True
    # Sign-in accepts every username accounts.create_user accepts.
    SECURITY_USERNAME_ALLOWED_CHARS = ["L", "N", "Pd", "Pc", "Po"]
    SECURITY_USERNAME_MIN_LENGTH = 3
    SECURITY_USERNAME_MAX_LENGTH = 60
    SECURITY_USER_IDENTITY_ATTRIBUTES = [
        {"username": {"mapper": "flask_security.uia_username_mapper", "case_insensitive": True}}
    ]
    SECURITY_RETURN_GENERIC_RESPONSES = True
    SECURITY_PASSWORD_HASH = "argon2"  # noqa: S105 (an algorithm name)
    SECURITY_PASSWORD_LENGTH_MIN = 10
    SECURITY_PASSWORD_CHECK_BREACHED = False
    SECURITY_REGISTERABLE = False
    SECURITY_RECOVERABLE = False
    SECURITY_CONFIRMABLE = False
    SECURITY_CHANGEABLE = True
    SECURITY_SEND_PASSWORD_CHANGE_EMAIL = False
    SECURITY_SEND_PASSWORD_RESET_NOTICE_EMAIL = False
    SECURITY_SEND_REGISTER_EMAIL = False
    SECURITY_TRACKABLE = True
    SECURITY_LOGIN_URL = "/login"
    SECURITY_LOGOUT_URL = "/logout"
    SECURITY_CHANGE_URL = "/account/password"
    SECURITY_POST_LOGIN_VIEW = "/staff"
    SECURITY_POST_LOGOUT_VIEW = "/login"
    SECURITY_POST_CHANGE_VIEW = "/staff"
    SECURITY_LOGOUT_METHODS = ["POST"]
    SECURITY_CSRF_IGNORE_UNAUTH_ENDPOINTS = False
    SECURITY_MSG_INVALID_PASSWORD = ("Invalid username or password.", "error")
    SECURITY_MSG_GENERIC_AUTHN_FAILED = ("Invalid username or password.", "error")
    SECURITY_FLASH_MESSAGES = True


def env_overrides(environ: Mapping[str, str]) -> dict[str, Any]:
    """Return the settings given as ``WORKROOM_*`` environment variables.

    A value that parses as JSON (numbers, true/false, lists) is used as parsed;
    anything else is kept as a string.
    """
    settings: dict[str, Any] = {}
    for key, raw in environ.items():
        if not key.startswith("WORKROOM_") or key == "WORKROOM_INSTANCE_PATH":
            continue
        name = key.removeprefix("WORKROOM_")
        if name == "DATABASE_URL":
            name = "SQLALCHEMY_DATABASE_URI"
        try:
            value: Any = json.loads(raw)
        except ValueError:
            value = raw
        if isinstance(value, dict):
            value = raw
        settings[name] = value
    return settings


def instance_path_from_env() -> str | None:
    return os.environ.get("WORKROOM_INSTANCE_PATH") or None
