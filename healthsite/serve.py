"""The editor's preview: build into a temporary folder, watch the sources, rebuild only what
changed, reload the browser, and show every problem in the page instead of stopping.

python-livereload serves the pages and talks to the browser. We replace its watcher: 2.7.1
polls every 800 ms and skips a reload when the previous one was under 3 s ago, so fast
successive saves would leave the first version on screen. Ours polls every 150 ms, waits for
a burst of saves to settle, rebuilds, and tells the browsers to reload every time."""

from __future__ import annotations

import gc
import html
import logging
import mimetypes
import os
import posixpath
import shutil
import sys
import tempfile
import time
import traceback
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any
from urllib.parse import unquote

from .errors import Level, Problem, ProblemList
from .pipeline import BuildState, Options, build_site
from .search import index_site

WATCHED = ("content", "templates", "static", "site.yaml")
POLL_MS = 150
SETTLE_S = 0.12
LOOPBACK = {"127.0.0.1", "localhost", "::1"}
log = logging.getLogger("healthsite.serve")


class Preview:
    """A site built into a private folder, rebuilt on demand, with its latest problems."""

    def __init__(self, root: Path, drafts: bool = False) -> None:
        self.root = root
        self.drafts = drafts
        self.dir = Path(tempfile.mkdtemp(prefix="healthsite-preview-"))
        self.state = BuildState()
        self.problems: list[Problem] = []
        self.files: dict[str, bytes] = {}
        self.builds = 0
        self.indexed = False

    def rebuild(self) -> bool:
        """Build; on success write the pages that changed. Never raises."""
        start = time.perf_counter()
        try:
            result = build_site(Options(root=self.root, drafts=self.drafts, write=False),
                                self.state)
        except Exception:  # noqa: BLE001 (a bug must not stop the preview; show it instead)
            self.problems = [Problem("healthsite", 1, 1, Level.ERROR, "internal",
                                     "the build crashed: " + traceback.format_exc(limit=3))]
            return False
        finally:
            # a build freezes what it made (gc.freeze, for its own speed); this process lives
            # on, so whatever of it became cyclic garbage must be collectable again
            gc.unfreeze()
        self.problems = result.problems.sorted()
        self.builds += 1
        if result.problems.errors or not result.files:
            log.info("build failed with %d error(s)", result.problems.errors)
            return False
        changed = self._sync(result.files)
        if not self.indexed and result.config is not None and result.config.search:
            self.indexed = index_site(self.dir, result.config.language, ProblemList())
        log.info("rebuilt %d page(s), wrote %d file(s) in %.2f s",
                 result.counts.get("pages_rendered", 0), changed,
                 time.perf_counter() - start)
        return True

    def _sync(self, files: dict[str, bytes]) -> int:
        changed = 0
        for rel, data in files.items():
            if self.files.get(rel) != data:
                target = self.dir / rel
                target.parent.mkdir(parents=True, exist_ok=True)
                target.write_bytes(data)
                changed += 1
        for rel in set(self.files) - set(files):
            (self.dir / rel).unlink(missing_ok=True)
        self.files = dict(files)
        return changed

    def close(self) -> None:
        shutil.rmtree(self.dir, ignore_errors=True)


def snapshot(root: Path) -> dict[str, tuple[int, int]]:
    """(mtime, size) of every watched file."""
    out: dict[str, tuple[int, int]] = {}
    for name in WATCHED:
        path = root / name
        if path.is_file():
            st = path.stat()
            out[name] = (st.st_mtime_ns, st.st_size)
        elif path.is_dir():
            for dirpath, _, filenames in os.walk(path):
                for f in filenames:
                    p = os.path.join(dirpath, f)
                    try:
                        st = os.stat(p)
                    except OSError:
                        continue
                    out[p] = (st.st_mtime_ns, st.st_size)
    return out


class Watcher:
    """Polls the sources, debounces bursts of saves, rebuilds and asks for a reload."""

    def __init__(self, preview: Preview, reload: Callable[[], None]) -> None:
        self.preview, self.reload = preview, reload
        self.seen = snapshot(preview.root)
        self.pending_since: float | None = None
        self._tasks = {"healthsite": None}  # tells livereload not to watch the cwd itself
        self._changes: list[Any] = []
        self.filepath = None

    def poll(self) -> None:
        now = snapshot(self.preview.root)
        if now != self.seen:
            self.seen = now
            self.pending_since = time.monotonic()
            return  # wait for the burst of saves to settle
        if self.pending_since is not None and time.monotonic() - self.pending_since >= SETTLE_S:
            self.pending_since = None
            self.preview.rebuild()
            self.reload()  # also after a failed build: the overlay must appear

    # the part of livereload's Watcher interface that its handler calls
    def start(self, callback: Callable[[], None]) -> bool:
        from tornado import ioloop

        ioloop.PeriodicCallback(self.poll, POLL_MS).start()
        return True

    def examine(self) -> tuple[None, None]:
        return None, None

    def watch(self, *args: Any, **kwargs: Any) -> None:
        pass


def resolve(base: Path, url_path: str) -> Path | None:
    """The file a URL path names inside `base`, or None: never a path outside it."""
    path = unquote(url_path.split("?", 1)[0].split("#", 1)[0])
    if "\0" in path or "\\" in path:
        return None
    clean = posixpath.normpath("/" + path.lstrip("/"))
    if ".." in clean.split("/"):
        return None
    target = (base / clean.lstrip("/")).resolve()
    root = base.resolve()
    if target != root and not target.is_relative_to(root):
        return None
    if target.is_dir():
        target = target / "index.html"
    return target if target.is_file() else None


def overlay(problems: Iterable[Problem]) -> bytes:
    """The error overlay shown on every page while the latest build has errors."""
    items = "".join(
        f"<li><code>{html.escape(p.path)}:{p.line}:{p.col}</code> "
        f"<strong>{p.level.value}[{html.escape(p.code)}]</strong> {html.escape(p.message)}"
        + (f"<br><em>{html.escape(p.hint)}</em>" if p.hint else "") + "</li>"
        for p in problems)
    return (
        '<div id="healthsite-overlay" role="alert" style="position:fixed;inset:0;z-index:99999;'
        'overflow:auto;background:rgba(20,20,20,.94);color:#fff;font:16px/1.5 system-ui,'
        'sans-serif;padding:2rem"><h2 style="color:#ff8a80;margin-top:0">The site did not '
        'build</h2><p>Fix these problems and save; this page reloads by itself.</p>'
        f'<ol style="padding-left:1.5rem">{items}</ol></div>').encode()


def make_app(preview: Preview) -> Callable[..., Iterable[bytes]]:
    """A WSGI app serving the preview folder, with the overlay while a build is broken."""

    def app(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        errors = [p for p in preview.problems if p.level.value == "error"]
        target = resolve(preview.dir, environ.get("PATH_INFO", "/"))
        status = "200 OK"
        if target is None:
            status = "404 Not Found"
            fallback = preview.dir / "404.html"
            body = fallback.read_bytes() if fallback.is_file() else b"<html><head></head>" \
                b"<body><h1>Not found</h1></body></html>"
            ctype = "text/html; charset=utf-8"
        else:
            body = target.read_bytes()
            ctype = mimetypes.guess_type(target.name)[0] or "application/octet-stream"
            if ctype.startswith("text/") or ctype.endswith(("javascript", "json", "xml")):
                ctype += "; charset=utf-8"
        if ctype.startswith("text/html"):
            body = _preview_html(body, errors)
        start_response(status, [("Content-Type", ctype), ("Cache-Control", "no-store")])
        return [body]

    return app


def _preview_html(body: bytes, errors: list[Problem]) -> bytes:
    # livereload injects an inline script: the published CSP would block it in preview
    start = body.find(b'<meta http-equiv="Content-Security-Policy"')
    if start != -1:
        body = body[:start] + body[body.index(b">", start) + 1:]
    if errors:
        at = body.rfind(b"</body>")
        body = body[:at] + overlay(errors) + body[at:] if at != -1 else body + overlay(errors)
    return body


def serve(root: Path, host: str = "127.0.0.1", port: int = 8000, drafts: bool = False) -> int:
    """Run the preview server until interrupted."""
    from livereload import Server
    from livereload.handlers import LiveReloadHandler

    if host not in LOOPBACK:
        print(f"warning: serving on {host} makes the preview reachable from other machines",
              file=sys.stderr)
    preview = Preview(root, drafts)
    preview.rebuild()
    for p in preview.problems:
        print(p.format())
    watcher = Watcher(preview, lambda: LiveReloadHandler.reload_waiters("*"))
    server = Server(app=make_app(preview), watcher=watcher)
    print(f"Previewing {root} at http://{host}:{port}/ (Ctrl+C to stop)", flush=True)
    try:
        server.serve(host=host, port=port, debug=False, restart_delay=0)
    finally:
        preview.close()
    return 0
