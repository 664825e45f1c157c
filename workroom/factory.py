"""Derived settings, extensions and blueprints for ``create_app``."""

from __future__ import annotations

import contextlib
import os
import secrets
import tempfile
from typing import Any

from flask import Flask


def _instance_secret(instance_path: str, name: str) -> str:
    """A random key created once in the instance folder.

    Created by linking a complete temporary file into place, so two workers starting
    together both read the one that won.
    """
    path = os.path.join(instance_path, name)
    if not os.path.exists(path):
        os.makedirs(instance_path, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=instance_path, prefix=".secret-")
        try:
            with os.fdopen(fd, "w") as handle:
                handle.write(secrets.token_hex(32))
            os.chmod(tmp, 0o600)
            with contextlib.suppress(FileExistsError):
                os.link(tmp, path)
        finally:
            os.unlink(tmp)
    with open(path) as handle:
        return handle.read().strip()


def configure(app: Flask) -> None:
    config = app.config
    os.makedirs(app.instance_path, exist_ok=True)
    if not config.get("SQLALCHEMY_DATABASE_URI"):
        config["SQLALCHEMY_DATABASE_URI"] = "sqlite:///" + os.path.join(
            app.instance_path, "workroom.sqlite"
        )
    if config["SQLALCHEMY_DATABASE_URI"].startswith("sqlite"):
        options = dict(config.get("SQLALCHEMY_ENGINE_OPTIONS") or {})
        options.setdefault("connect_args", {}).setdefault("timeout", 30)
        config["SQLALCHEMY_ENGINE_OPTIONS"] = options
    if not config.get("SECRET_KEY"):
        config["SECRET_KEY"] = _instance_secret(app.instance_path, "secret_key")
    if not config.get("AUDIT_CHAIN_KEY"):
        config["AUDIT_CHAIN_KEY"] = _instance_secret(app.instance_path, "audit_chain_key")
    if not config.get("SECURITY_PASSWORD_SALT"):
        config["SECURITY_PASSWORD_SALT"] = _instance_secret(app.instance_path, "password_salt")
    config["PUBLIC_URL"] = str(config["PUBLIC_URL"]).rstrip("/")
    if config["PUBLIC_URL"].startswith("https://"):
        config["SESSION_COOKIE_SECURE"] = True
        config["REMEMBER_COOKIE_SECURE"] = True
    config["BABEL_DEFAULT_TIMEZONE"] = config["TIMEZONE"]
    config["BABEL_TRANSLATION_DIRECTORIES"] = os.path.join(app.root_path, "translations")
    # Flask-Babel merges catalogs in order, later ones winning: ours fills the gaps
    # in Flask-Security's own Chinese catalog.
    config["SECURITY_I18N_DIRNAME"] = ["builtin", os.path.join(app.root_path, "translations")]


def register(app: Flask) -> None:
    from workroom import cli, jinja, models  # noqa: F401 (models: complete metadata)
    from workroom.auth.security import init_security
    from workroom.db import configure_sqlite, db
    from workroom.extensions import babel, csrf, limiter, migrate
    from workroom.i18n import select_locale
    from workroom.web import init_web, use_id_converter

    use_id_converter(app)
    db.init_app(app)
    migrate.init_app(app, db, directory=os.path.join(app.root_path, "migrations"))
    babel.init_app(app, locale_selector=select_locale)
    csrf.init_app(app)
    limiter.init_app(app)
    init_security(app)
    init_web(app)
    with app.app_context():
        if db.engine.dialect.name == "sqlite":
            configure_sqlite(db.engine)
    jinja.init_jinja(app)
    for blueprint in _blueprints():
        app.register_blueprint(blueprint)
    cli.init_cli(app)


def _blueprints() -> list[Any]:
    from workroom.api.views import bp as api_bp
    from workroom.audit.views import bp as audit_bp
    from workroom.auth.views import bp as auth_bp
    from workroom.categories.views import bp as categories_bp
    from workroom.outbox.views import bp as outbox_bp
    from workroom.people.views.roster_import import bp as roster_import_bp
    from workroom.people.views.staff import bp as people_bp
    from workroom.places.views import bp as places_bp
    from workroom.schedule.views.public import bp as public_bp
    from workroom.schedule.views.staff import bp as schedule_bp
    from workroom.site.views import bp as site_bp
    from workroom.suggestions.views.agency import bp as portal_bp
    from workroom.suggestions.views.public import bp as tracking_bp
    from workroom.suggestions.views.routing import bp as routing_bp
    from workroom.suggestions.views.staff import bp as suggestions_bp
    from workroom.visits.views.kiosk import bp as kiosk_bp
    from workroom.visits.views.public import bp as board_bp
    from workroom.visits.views.staff import bp as visits_bp
    from workroom.workdays.views import bp as workdays_bp

    return [
        site_bp,
        auth_bp,
        audit_bp,
        places_bp,
        people_bp,
        roster_import_bp,
        categories_bp,
        workdays_bp,
        outbox_bp,
        schedule_bp,
        public_bp,
        visits_bp,
        kiosk_bp,
        board_bp,
        api_bp,
        routing_bp,
        suggestions_bp,
        portal_bp,
        tracking_bp,
    ]
