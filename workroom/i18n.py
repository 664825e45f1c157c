"""Language choice: the user's setting, then the session, then the browser; Chinese
by default."""

from __future__ import annotations

from flask import current_app, has_request_context, request, session
from flask_security import current_user

DEFAULT_LOCALE = "zh_Hans_CN"


def normalize_locale(tag: str | None) -> str | None:
    """Map a language tag to a locale we ship, or None.

    Browsers send zh, zh-CN, zh-Hans, zh-Hans-CN …; werkzeug's best match would
    pick English for ``zh-CN,zh;q=0.9,en;q=0.8``, so Chinese tags are mapped here.
    """
    if not tag:
        return None
    tag = tag.strip().replace("_", "-").lower()
    if tag == "zh" or tag.startswith(("zh-hans", "zh-cn", "zh-sg")):
        return DEFAULT_LOCALE
    if tag.startswith("zh"):
        # Traditional Chinese readers read Simplified better than English.
        return DEFAULT_LOCALE
    if tag == "en" or tag.startswith("en-"):
        return "en"
    return None


def default_locale() -> str:
    """The office's language: what jobs, the CLI and stored words speak."""
    return current_app.config.get("BABEL_DEFAULT_LOCALE", DEFAULT_LOCALE)


def select_locale() -> str:
    if not has_request_context():
        # CLI commands and jobs speak the configured default.
        return default_locale()
    user_locale = getattr(current_user, "locale", None) if current_user else None
    for candidate in (
        request.args.get("lang"),
        user_locale if getattr(current_user, "is_authenticated", False) else None,
        session.get("locale"),
    ):
        locale = normalize_locale(candidate)
        if locale:
            return locale
    for tag, _quality in request.accept_languages:
        locale = normalize_locale(tag)
        if locale:
            return locale
    return default_locale()


def html_lang(locale: object) -> str:
    """The value for <html lang>: zh-Hans-CN or en."""
    text = str(locale)
    return "zh-Hans-CN" if text.startswith("zh") else text.replace("_", "-")
