"""Workroom: reception days, visits and suggestions for deputy workrooms."""

from __future__ import annotations

import os
from typing import Any

from flask import Flask


def create_app(test_config: dict[str, Any] | None = None) -> Flask:
    """Build the application.

    Settings come from ``workroom.config.DefaultConfig``, then ``instance/config.py``
    (skipped when ``test_config`` is given), then ``WORKROOM_*`` environment
    variables, then ``test_config``. Migrations are not run here.
    """
    from workroom import config as config_module
    from workroom.factory import configure, register

    instance_path = (test_config or {}).get(
        "INSTANCE_PATH"
    ) or config_module.instance_path_from_env()
    app = Flask(
        __name__,
        instance_path=os.path.abspath(instance_path) if instance_path else None,
        instance_relative_config=True,
        template_folder=os.path.join(os.path.dirname(os.path.dirname(__file__)), "templates"),
    )
    app.config.from_object(config_module.DefaultConfig)
    if test_config is None:
        app.config.from_pyfile("config.py", silent=True)
    app.config.update(config_module.env_overrides(os.environ))
    if test_config is not None:
        app.config.update(test_config)
    configure(app)
    register(app)
    return app
