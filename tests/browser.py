"""Real headless Chromium and a real server on a free port, for end-to-end tests of the UI.

Reusable by any test (dashboard, report):

    from tests.browser import open_page, requires_chromium, screenshot, serve

    @requires_chromium
    def test_page(app):
        with serve(app) as url, open_page(allow=(url,)) as tab:
            tab.page.goto(url)
            assert not tab.errors and not tab.blocked
            screenshot(tab, "page.png")  # artifacts/page.png

Chromium is Debian's (`apt-get install chromium`), driven by Playwright through
`executable_path`: `playwright install` downloads browsers, which machines without internet
cannot do.
"""

from __future__ import annotations

import os
import shutil
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

CHROMIUM = os.environ.get("AUTORESEARCH_CHROMIUM") or shutil.which("chromium") \
    or "/usr/bin/chromium"
CHROMIUM_ARGS = ("--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
                 "--no-first-run", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync")
ARTIFACTS = Path(os.environ.get("AUTORESEARCH_ARTIFACTS")
                 or Path(__file__).resolve().parents[1] / "artifacts")

requires_chromium = pytest.mark.skipif(
    not Path(CHROMIUM).exists(),
    reason=f"no Chromium at {CHROMIUM} (apt-get install chromium, or set AUTORESEARCH_CHROMIUM)",
)


def free_port(host: str = "127.0.0.1") -> int:
    with socket.socket() as sock:
        sock.bind((host, 0))
        return int(sock.getsockname()[1])


@contextmanager
def serve(app: Any, host: str = "127.0.0.1", port: int | None = None,
          timeout: float = 20.0) -> Iterator[str]:
    """Run an ASGI app with uvicorn in a thread of this process; yields its base URL."""
    import uvicorn

    port = port or free_port(host)
    server = uvicorn.Server(uvicorn.Config(app, host=host, port=port, log_level="warning",
                                           lifespan="off"))
    thread = threading.Thread(target=server.run, name=f"uvicorn:{port}", daemon=True)
    thread.start()
    deadline = time.monotonic() + timeout
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            server.should_exit = True
            raise RuntimeError(f"uvicorn did not start on {host}:{port}")
        time.sleep(0.02)
    try:
        yield f"http://{host}:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout)


def wait_for_http(url: str, timeout: float = 30.0) -> None:
    """Block until `url` answers (for servers started as subprocesses)."""
    import urllib.request

    deadline = time.monotonic() + timeout
    while True:
        try:
            with urllib.request.urlopen(url, timeout=2):
                return
        except OSError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.1)


@dataclass
class Tab:
    """A page plus what went wrong in it: console errors, uncaught exceptions, refused requests."""

    page: Any  # playwright.sync_api.Page
    errors: list[str] = field(default_factory=list)
    blocked: list[str] = field(default_factory=list)


@contextmanager
def open_page(allow: tuple[str, ...] = (), width: int = 1280, height: int = 900) -> Iterator[Tab]:
    """A fresh Chromium page whose network is limited to file:, data:, and the `allow` prefixes.

    Anything else is aborted and listed in `Tab.blocked`, so a page that reaches for a CDN
    shows up in the test instead of silently working only online.
    """
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=list(CHROMIUM_ARGS),
                                     headless=True)
        try:
            context = browser.new_context(viewport={"width": width, "height": height})
            tab = Tab(page=context.new_page())

            def route(request_route: Any) -> None:
                url = request_route.request.url
                if url.startswith(("file:", "data:", "blob:", "about:", *allow)):
                    request_route.continue_()
                else:
                    tab.blocked.append(url)
                    request_route.abort()

            context.route("**/*", route)
            tab.page.on("console", lambda m: m.type == "error" and tab.errors.append(m.text))
            tab.page.on("pageerror", lambda exc: tab.errors.append(str(exc)))
            yield tab
        finally:
            browser.close()


def screenshot(tab: Tab, name: str, full_page: bool = False) -> Path:
    """Save a PNG under artifacts/ (gitignored) and return its path."""
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    path = ARTIFACTS / name
    tab.page.screenshot(path=str(path), full_page=full_page)
    return path
