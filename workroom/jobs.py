"""Scheduled jobs and the job runner."""

from __future__ import annotations

from flask import Flask


def start_embedded_runner(app: Flask) -> None:
    """Start the job runner in this process (embedded mode)."""
