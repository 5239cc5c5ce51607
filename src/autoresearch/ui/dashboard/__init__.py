"""Live web dashboard over a store: FastAPI + Jinja + htmx + Chart.js, static files shipped."""

from autoresearch.ui.dashboard.app import create_app
from autoresearch.ui.dashboard.server import is_loopback, serve

__all__ = ["create_app", "is_loopback", "serve"]
