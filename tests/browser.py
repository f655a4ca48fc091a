"""Real parts for browser tests: a static server on 127.0.0.1 and a real Chromium driven by
Playwright, found wherever it is installed (`find_chromium`; never downloaded by the tests).
Missing parts skip the tests on a developer machine and fail them in CI."""

from __future__ import annotations

import functools
import http.server
import os
import shutil
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest

# Where a Chromium is looked for, in this order: the path in this variable (and only there
# when it is set), the system's (Debian's package installs /usr/bin/chromium), then the one
# Playwright keeps if `playwright install chromium` was ever run (the tests never run it).
CHROMIUM_VARIABLE = "HEALTHSITE_CHROMIUM"
SYSTEM_CHROMIUMS = (Path("/usr/bin/chromium"), Path("/usr/bin/chromium-browser"))
FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync"]
REPO = Path(__file__).resolve().parent.parent
ARTIFACTS = REPO / "tests" / "artifacts"


def require(ok: bool, what: str) -> None:
    """Skip when a real part is missing here, but fail in CI, where .ci/run and the
    workflow's test job install it."""
    if ok:
        return
    if os.environ.get("CI"):
        pytest.fail(f"{what} is missing in CI; .ci/run (or the workflow's test job) should "
                    "install it")
    pytest.skip(f"{what} is not installed here")


def _runnable(path: Path) -> bool:
    """Whether `path` is a file this process may run."""
    return path.is_file() and os.access(path, os.X_OK)


def find_chromium(playwright: Any | None = None,
                  system: tuple[Path, ...] = SYSTEM_CHROMIUMS) -> Path | None:
    """The Chromium to drive: the file named by $HEALTHSITE_CHROMIUM when it is set (None
    when that file is missing: a named browser is never replaced by another), else the first
    of `system` that exists, else Playwright's own when `playwright` (a started Playwright)
    is given and its browser is installed."""
    named = os.environ.get(CHROMIUM_VARIABLE, "")
    if named:
        return Path(named) if _runnable(Path(named)) else None
    found = next((path for path in system if _runnable(path)), None)
    if found is None and playwright is not None:
        own = Path(playwright.chromium.executable_path)
        found = own if _runnable(own) else None
    return found


def chromium_wanted() -> str:
    """What `find_chromium` looks for, as a skip or failure message says it."""
    named = os.environ.get(CHROMIUM_VARIABLE, "")
    if named:
        return f"the Chromium named by ${CHROMIUM_VARIABLE} ({named})"
    return ("a Chromium (" + ", ".join(map(str, SYSTEM_CHROMIUMS))
            + f", Playwright's own, or a path in ${CHROMIUM_VARIABLE})")


class _Handler(http.server.SimpleHTTPRequestHandler):
    extensions_map = {**http.server.SimpleHTTPRequestHandler.extensions_map,
                      ".js": "text/javascript", ".mjs": "text/javascript",
                      ".wasm": "application/wasm", ".css": "text/css", ".svg": "image/svg+xml",
                      ".json": "application/json", ".xml": "application/xml"}

    seen: list[str] | None = None  # (`serve`'s: the paths asked for, when wanted)

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 (stdlib's name)
        pass

    def send_head(self) -> Any:
        if self.seen is not None:
            self.seen.append(urlsplit(self.path).path)
        return super().send_head()


@contextmanager
def serve(directory: Path, seen: list[str] | None = None) -> Iterator[str]:
    """Serve a folder on a free 127.0.0.1 port; yield its base URL. Every path asked for is
    added to `seen`, if given (a web worker's requests too, which a page's events miss)."""
    handler = functools.partial(type("Seeing", (_Handler,), {"seen": seen}),
                                directory=str(directory))
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
    """A real Chromium (`find_chromium`) under Playwright, with the same flags wherever it
    was found (never a browser downloaded by the tests)."""
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        require(False, "the playwright package")
        raise
    with sync_playwright() as p:
        path = find_chromium(p)
        require(path is not None, chromium_wanted())
        browser = p.chromium.launch(executable_path=str(path), args=FLAGS, headless=True)
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


def axe_core() -> Path | None:
    """axe-core's script (the npm package axe-core, installed into .tools/ by .ci/run and the
    workflow), if installed."""
    script = REPO / ".tools" / "node_modules" / "axe-core" / "axe.min.js"
    return script if script.is_file() else None


# the WCAG 2.x A and AA rules, which every page must pass
WCAG = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22a", "wcag22aa"]


def axe_violations(page: Any, tags: list[str]) -> list[dict[str, Any]]:
    """axe-core's violations of the rules tagged `tags` on the page as it is now. The page
    must be opened with bypass_csp=True: the script goes in as an inline script, which the
    site's Content-Security-Policy refuses."""
    script = axe_core()
    require(script is not None, "axe-core (npm package axe-core in .tools/)")
    assert script is not None
    if not page.evaluate("typeof window.axe === 'object'"):
        page.add_script_tag(path=str(script))
    result: list[dict[str, Any]] = page.evaluate(
        "tags => axe.run(document, {runOnly: {type: 'tag', values: tags}})"
        ".then(r => r.violations)", tags)
    return result


# The preview server as editors start it (`python build.py serve`), for the serve tests.

def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class Served:
    root: Path
    port: int
    proc: subprocess.Popen[str]
    log: Path
    tmp: Path  # the server's TMPDIR, where its healthsite-preview-* folder is

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def output(self) -> str:
        return self.log.read_text(errors="replace")


def listening(port: int, seconds: float = 15) -> bool:
    """Whether something listens on 127.0.0.1:`port` within `seconds`."""
    for _ in range(int(seconds * 10)):
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                return True
        except OSError:
            time.sleep(0.1)
    return False


@contextmanager
def preview_server(root: Path, env: dict[str, str] | None = None) -> Iterator[Served]:
    """`python build.py serve` on a free 127.0.0.1 port, with its own TMPDIR; stopped after."""
    port = free_port()
    tmp = root.parent / f"tmp-{port}"
    tmp.mkdir()
    log = root.parent / f"serve-{port}.log"
    with open(log, "w") as out:
        proc = subprocess.Popen(
            [sys.executable, str(REPO / "build.py"), "serve", "--root", str(root), "--port",
             str(port)], stdout=out, stderr=subprocess.STDOUT, text=True,
            env={**os.environ, "TMPDIR": str(tmp), **(env or {})})
    served = Served(root, port, proc, log, tmp)
    try:
        if not listening(port):
            pytest.fail("the preview server did not start: " + served.output())
        yield served
    finally:
        if proc.poll() is None:
            proc.terminate()
            proc.wait(timeout=10)


def open_page(browser: Any, url: str, width: int) -> tuple[Any, list[str]]:
    """Open a page; return it and every console error, failed or off-site request."""
    page = browser.new_page(viewport={"width": width, "height": 900})
    trouble: list[str] = []
    page.on("console", lambda m: trouble.append(f"console {m.type}: {m.text}")
            if m.type in ("error", "warning") else None)
    page.on("pageerror", lambda e: trouble.append(f"page error: {e}"))
    page.on("requestfailed", lambda r: trouble.append(f"failed: {r.url} {r.failure}"))
    page.on("response", lambda r: trouble.append(f"HTTP {r.status}: {r.url}")
            if r.status >= 400 else None)
    page.on("request", lambda r: trouble.append(f"off-site request: {r.url}")
            if urlsplit(r.url).hostname not in ("127.0.0.1", None) and
            not r.url.startswith("data:") else None)
    page.goto(url, wait_until="networkidle")
    return page, trouble
