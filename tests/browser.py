"""Real parts for browser tests: a static server on 127.0.0.1 and Debian's Chromium driven by
Playwright. Missing parts skip the tests on a developer machine and fail them in CI."""

from __future__ import annotations

import functools
import http.server
import os
import shutil
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

CHROMIUM = Path("/usr/bin/chromium")
FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync"]
REPO = Path(__file__).resolve().parent.parent
ARTIFACTS = REPO / "tests" / "artifacts"


def require(ok: bool, what: str) -> None:
    """Skip when a real part is missing here, but fail in CI, where .ci/run installs it."""
    if ok:
        return
    if os.environ.get("CI"):
        pytest.fail(f"{what} is missing in CI; .ci/run should install it")
    pytest.skip(f"{what} is not installed here")


class _Handler(http.server.SimpleHTTPRequestHandler):
    extensions_map = {**http.server.SimpleHTTPRequestHandler.extensions_map,
                      ".js": "text/javascript", ".mjs": "text/javascript",
                      ".wasm": "application/wasm", ".css": "text/css", ".svg": "image/svg+xml",
                      ".json": "application/json", ".xml": "application/xml"}

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 (stdlib's name)
        pass


@contextmanager
def serve(directory: Path) -> Iterator[str]:
    """Serve a folder on a free 127.0.0.1 port; yield its base URL."""
    handler = functools.partial(_Handler, directory=str(directory))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


@contextmanager
def chromium() -> Iterator[Any]:
    """Debian's Chromium under Playwright (never a downloaded browser)."""
    require(CHROMIUM.exists(), "Debian's chromium (/usr/bin/chromium)")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        require(False, "the playwright package")
        raise
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=FLAGS, headless=True)
        try:
            yield browser
        finally:
            browser.close()


def vnu_jar() -> Path | None:
    """The Nu HTML Checker's jar from the npm package vnu-jar, if installed."""
    env = os.environ.get("VNU_JAR")
    candidates = [Path(env)] if env else []
    candidates.append(REPO / ".tools" / "node_modules" / "vnu-jar" / "build" / "dist" / "vnu.jar")
    found = next((c for c in candidates if c.is_file()), None)
    return found if found and shutil.which("java") else None
