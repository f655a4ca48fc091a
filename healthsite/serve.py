"""The editor's preview: build into a temporary folder, watch the sources, rebuild only what
changed, reload the browser, and show every problem in the page instead of stopping.

python-livereload serves the pages and talks to the browser. We replace its watcher: 2.7.1
polls every 800 ms and skips a reload when the previous one was under 3 s ago, so fast
successive saves would leave the first version on screen. Ours polls every 150 ms, waits for
a burst of saves to settle, and hands the rebuild to a worker thread (one at a time), so the
server keeps answering while a slow one runs; the browsers reload when it ends.

What the preview shows is drafts and work in progress, so it answers only to its own
addresses (a page on another site cannot read it by DNS rebinding, reach its websocket or
reload it) and keeps the pages' Content-Security-Policy, loading its reload client as a
same-origin script."""

from __future__ import annotations

import gc
import html
import importlib.metadata
import json
import logging
import mimetypes
import os
import posixpath
import re
import shutil
import signal
import socket
import sys
import tempfile
import threading
import time
import traceback
from collections.abc import Callable, Iterable
from contextlib import suppress
from dataclasses import dataclass
from pathlib import Path
from types import FrameType
from typing import Any
from urllib.parse import unquote, urlsplit

from livereload import Server
from livereload.handlers import LiveReloadHandler, LiveReloadJSHandler
from tornado import ioloop, web
from tornado.wsgi import WSGIContainer

from .errors import Level, Problem, ProblemList
from .pipeline import BuildState, Options, build_site
from .search import index_site

WATCHED = ("content", "templates", "static", "site.yaml")
POLL_MS = 150
SETTLE_S = 0.12
LOOPBACK = {"127.0.0.1", "localhost", "::1"}
ANY_ADDRESS = {"", "0.0.0.0", "::"}
MAX_URL = 2048  # characters of path and query; the longest page address is far shorter
CLIENT = "/livereload.js"  # livereload's client, served by its own handler
OVERLAY_CSS = "/__preview__/overlay.css"  # no page can have this path (slugs have no _)
LIVERELOAD_KNOWN = ("2", "7")  # the python-livereload whose Server.application we replace
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
        self._lock = threading.Lock()  # the folder and problems change together; close waits
        self._closed = False

    def rebuild(self) -> bool:
        """Build; on success write the pages that changed. Never raises. May run on a worker
        thread while the server reads the folder: each file is replaced whole, and the
        problems change only when the pages have."""
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
        ok = not result.problems.errors and bool(result.files)
        with self._lock:
            if self._closed:
                return False
            try:
                changed = self._sync(result.files) if ok else 0
            except OSError as e:  # a full or read-only temporary folder
                self.problems = [Problem("healthsite", 1, 1, Level.ERROR, "io",
                                         f"cannot write the preview into {self.dir}: {e}")]
                return False
            if ok and not self.indexed and result.config is not None and result.config.search:
                self.indexed = index_site(self.dir, result.config.language, ProblemList())
            self.problems = result.problems.sorted()
            self.builds += 1
        if not ok:
            log.info("build failed with %d error(s)", result.problems.errors)
            return False
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
                part = target.with_name(f".{target.name}.part")
                part.write_bytes(data)
                os.replace(part, target)  # a request never reads half a page
                changed += 1
        for rel in set(self.files) - set(files):
            (self.dir / rel).unlink(missing_ok=True)
        self.files = dict(files)
        return changed

    def close(self) -> None:
        """Remove the folder (waiting for a rebuild that is writing into it, not for one
        that is still building: that one then writes nothing)."""
        with self._lock:
            self._closed = True
            shutil.rmtree(self.dir, ignore_errors=True)


class Builder:
    """Runs rebuilds on a worker thread, one at a time. Asked while one runs, it runs exactly
    one more after it (the save may have come too late for the running one). `done` is
    called on the worker thread after each rebuild."""

    def __init__(self, preview: Preview, done: Callable[[], None]) -> None:
        self.preview, self.done = preview, done
        self._lock = threading.Lock()
        self._worker: threading.Thread | None = None
        self._again = False

    def request(self) -> None:
        with self._lock:
            if self._worker is not None:
                self._again = True
                return
            self._worker = threading.Thread(target=self._run, name="healthsite-rebuild",
                                            daemon=True)
            self._worker.start()

    def busy(self) -> bool:
        with self._lock:
            return self._worker is not None

    def _run(self) -> None:
        again = True
        while again:
            try:
                self.preview.rebuild()  # (never raises)
                self.done()
            except Exception:  # noqa: BLE001 (the worker must not die and leave it busy)
                log.exception("the preview's rebuild worker")
            with self._lock:
                again, self._again = self._again, False
                if not again:
                    self._worker = None


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
    """Polls the sources, debounces bursts of saves, has them rebuilt and, when a rebuild
    ends, asks for a reload on the server's loop."""

    def __init__(self, preview: Preview, reload: Callable[[], None]) -> None:
        self.preview, self.reload = preview, reload
        self.builder = Builder(preview, self._built)
        self.seen = snapshot(preview.root)
        self.pending_since: float | None = None
        self.loop: ioloop.IOLoop | None = None
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
            self.builder.request()

    def _built(self) -> None:  # on the worker thread; the reload is the loop's work
        if self.loop is not None:
            with suppress(RuntimeError):  # the loop has closed: the server is stopping
                self.loop.add_callback(self.reload)  # also after a failed build: the overlay

    # the part of livereload's Watcher interface that its handler calls
    def start(self, callback: Callable[[], None]) -> bool:
        self.loop = ioloop.IOLoop.current()
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
    try:
        target = (base / clean.lstrip("/")).resolve()
        root = base.resolve()
        if target != root and not target.is_relative_to(root):
            return None
        if target.is_dir():
            target = target / "index.html"
        return target if target.is_file() else None
    except OSError:  # a name too long for the file system, and the like: no such page
        return None


@dataclass(frozen=True)
class Hosts:
    """The addresses the preview answers to (in `Host:`, and in a websocket's `Origin:`):
    the loopback names on its port, plus the one it was told to listen on, if another."""

    port: int
    names: frozenset[str]

    @classmethod
    def bound_to(cls, host: str, port: int) -> Hosts:
        bare = host.strip("[]").lower()
        names = set(LOOPBACK)
        if bare in ANY_ADDRESS:  # every interface: the machine's own names too
            names |= {socket.gethostname().lower(), socket.getfqdn().lower()}
        else:
            names.add(bare)
        return cls(port, frozenset(names))

    def allows_host(self, value: str | None) -> bool:
        if not value or any(c in value for c in "@/\\?#% \t"):
            return False
        try:
            parts = urlsplit("//" + value)
            port = parts.port or 80
        except ValueError:
            return False
        return port == self.port and (parts.hostname or "") in self.names

    def allows_origin(self, origin: str) -> bool:
        try:
            parts = urlsplit(origin)
        except ValueError:
            return False
        return (parts.scheme == "http" and not (parts.path or parts.query or parts.fragment)
                and self.allows_host(parts.netloc))

    def refusal(self) -> str:  # (what a rebound page may read: no names from the machine)
        return (f"This preview answers only to its own addresses, such as "
                f"http://127.0.0.1:{self.port}/; the request named another host.\n")


def overlay(problems: Iterable[Problem]) -> bytes:
    """The error overlay shown on every page while the latest build has errors (styled by
    OVERLAY_CSS: the page's CSP allows no inline style)."""
    items = "".join(
        f"<li><code>{html.escape(p.path)}:{p.line}:{p.col}</code> "
        f"<strong>{p.level.value}[{html.escape(p.code)}]</strong> {html.escape(p.message)}"
        + (f"<br><em>{html.escape(p.hint)}</em>" if p.hint else "") + "</li>"
        for p in problems)
    return ('<div id="healthsite-overlay" role="alert"><h2>The site did not build</h2>'
            "<p>Fix these problems and save; this page reloads by itself.</p>"
            f"<ol>{items}</ol></div>").encode()


OVERLAY_STYLE = (
    b"#healthsite-overlay{position:fixed;inset:0;z-index:99999;overflow:auto;"
    b"background:rgba(20,20,20,.94);color:#fff;font:16px/1.5 system-ui,sans-serif;"
    b"padding:2rem}#healthsite-overlay h2{color:#ff8a80;margin-top:0}"
    b"#healthsite-overlay ol{padding-left:1.5rem}#healthsite-overlay code{color:inherit}\n")


def make_app(preview: Preview, hosts: Hosts) -> Callable[..., Iterable[bytes]]:
    """A WSGI app serving the preview folder, with the overlay while a build is broken."""
    plain = "text/plain; charset=utf-8"

    def respond(environ: dict[str, Any]) -> tuple[str, str, bytes]:
        host = environ.get("HTTP_HOST")
        path = environ.get("PATH_INFO", "/")
        if not hosts.allows_host(host):
            return "421 Misdirected Request", plain, hosts.refusal().encode()
        if len(path) + len(environ.get("QUERY_STRING", "")) > MAX_URL:
            return "414 URI Too Long", plain, b"That address is too long.\n"
        if environ.get("REQUEST_METHOD", "GET") not in ("GET", "HEAD"):
            return "405 Method Not Allowed", plain, b"Only GET and HEAD.\n"
        if path == OVERLAY_CSS:
            return "200 OK", "text/css; charset=utf-8", OVERLAY_STYLE
        target = resolve(preview.dir, path)
        body = _read(target) if target is not None else None
        if target is None or body is None:  # (or removed by a rebuild since it was found)
            status, ctype = "404 Not Found", "text/html; charset=utf-8"
            body = _read(preview.dir / "404.html") or \
                b"<html><head></head><body><h1>Not found</h1></body></html>"
        else:
            status = "200 OK"
            ctype = mimetypes.guess_type(target.name)[0] or "application/octet-stream"
            if ctype.startswith("text/") or ctype.endswith(("javascript", "json", "xml")):
                ctype += "; charset=utf-8"
        if ctype.startswith("text/html"):
            errors = [p for p in preview.problems if p.level.value == "error"]
            body = _preview_html(body, errors, str(host), hosts.port)
        return status, ctype, body

    def app(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        status, ctype, body = respond(environ)
        start_response(status, [("Content-Type", ctype), ("Content-Length", str(len(body))),
                                ("Cache-Control", "no-store"),
                                ("X-Content-Type-Options", "nosniff")])
        return [b"" if environ.get("REQUEST_METHOD") == "HEAD" else body]

    return app


def _read(path: Path) -> bytes | None:
    try:
        return path.read_bytes()
    except OSError:
        return None


_CSP = re.compile(rb'<meta\s+http-equiv="?content-security-policy"?\s+content="([^"]*)"', re.I)


def _preview_html(body: bytes, errors: list[Problem], host: str, port: int) -> bytes:
    """A page as the preview serves it: its Content-Security-Policy kept, with only what the
    reload client needs added (see with_reload); the client as a same-origin script; and the
    overlay, with its stylesheet, while the build has errors."""
    found = _CSP.search(body)
    if found:
        policy = with_reload(html.unescape(found.group(1).decode()), host)
        escaped = html.escape(policy, quote=False).replace('"', "&quot;").encode()
        body = body[:found.start(1)] + escaped + body[found.end(1):]
    head = f'<script src="{CLIENT}?port={port}"></script>'.encode()
    if errors:
        head += f'<link rel="stylesheet" href="{OVERLAY_CSS}">'.encode()
    at = body.find(b"</head>")
    body = body[:at] + head + body[at:] if at != -1 else head + body
    if errors:
        at = body.rfind(b"</body>")
        body = body[:at] + overlay(errors) + body[at:] if at != -1 else body + overlay(errors)
    return body


def with_reload(policy: str, host: str) -> str:
    """`policy` plus what livereload's client needs: its script from this origin and its
    websocket to this host and port ('self' covers that in CSP 3 browsers; ws://host is for
    older ones, and CSP has no syntax for an IPv6 address). Nothing else is relaxed."""
    directives = [d.split() for d in policy.split(";") if d.strip()]
    names = [d[0].lower() for d in directives]
    default = directives[names.index("default-src")][1:] if "default-src" in names else None
    socket_source = [] if host.startswith("[") else [f"ws://{host}"]
    for name, needed in (("script-src", ["'self'"]), ("connect-src", ["'self'", *socket_source])):
        if name in names:
            sources = directives[names.index(name)]
        elif default is not None:
            sources = [name, *default]
            directives.append(sources)
        else:
            continue  # nothing restricts it
        sources[1:] = [s for s in sources[1:] if s.lower() != "'none'"]
        sources += [s for s in needed if s not in sources]
    return "; ".join(" ".join(d) for d in directives)


class ReloadSocket(LiveReloadHandler):
    """livereload's websocket, for the preview's own pages only; frames that are not one of
    its JSON commands are ignored (its own handler logs a traceback for each)."""

    def initialize(self, hosts: Hosts) -> None:
        self.hosts = hosts

    def prepare(self) -> None:
        _refuse_strangers(self, self.hosts)

    def check_origin(self, origin: str) -> bool:
        return self.hosts.allows_origin(origin)

    def on_message(self, message: str | bytes) -> None:
        try:
            data = json.loads(message)
        except (ValueError, RecursionError):  # (UnicodeDecodeError is a ValueError)
            data = None
        if not isinstance(data, dict) or not isinstance(data.get("command"), str):
            log.debug("ignored a websocket frame that is not a livereload command")
            return
        super().on_message(message)


class ReloadClient(LiveReloadJSHandler):
    """livereload's client script, for the preview's own pages only."""

    def initialize(self, hosts: Hosts) -> None:
        self.hosts = hosts

    def prepare(self) -> None:
        _refuse_strangers(self, self.hosts)


def _refuse_strangers(handler: web.RequestHandler, hosts: Hosts) -> None:
    """Answer 421 to a request for another host, 403 to one from another site's page."""
    origin = handler.request.headers.get("Origin")
    if not hosts.allows_host(handler.request.headers.get("Host")):
        handler.set_status(421)
        message = hosts.refusal()
    elif origin is not None and not hosts.allows_origin(origin):
        handler.set_status(403)
        message = "This is only for the preview's own pages.\n"
    else:
        return
    handler.set_header("Content-Type", "text/plain; charset=utf-8")
    handler.finish(message)


class PreviewServer(Server):
    """livereload's Server with its routes replaced (its `application`, as of 2.7): the
    websocket and the client script check Host and Origin, there is no /forcereload (any
    site could reload the editor's browser), and the pages come from our WSGI app as it made
    them (it adds the client as a script file; livereload's own is an inline script)."""

    def __init__(self, app: Callable[..., Iterable[bytes]], watcher: Watcher,
                 hosts: Hosts) -> None:
        super().__init__(app=app, watcher=watcher)
        self.hosts = hosts

    def application(self, port: int, host: str, liveport: int | None = None,
                    debug: bool | None = None, live_css: bool = True) -> None:
        LiveReloadHandler.watcher = self.watcher
        LiveReloadHandler.live_css = live_css
        ours = {"hosts": self.hosts}
        web.Application([
            (r"/livereload", ReloadSocket, ours),
            (re.escape(CLIENT), ReloadClient, ours),
            (r".*", web.FallbackHandler, {"fallback": WSGIContainer(self.app)}),
        ]).listen(port, address=host)


def livereload_server(app: Callable[..., Iterable[bytes]], watcher: Watcher, hosts: Hosts,
                      version: str | None = None) -> Any:
    """PreviewServer when python-livereload is the version it was written against; its
    stock Server otherwise (pages still check Host and keep their CSP), with a warning."""
    version = version or importlib.metadata.version("livereload")
    if tuple(version.split(".")[:2]) == LIVERELOAD_KNOWN:
        return PreviewServer(app, watcher, hosts)
    print(f"warning: python-livereload {version} is not the {'.'.join(LIVERELOAD_KNOWN)} "
          "this preview was written for: using its stock server, whose websocket accepts "
          "any site and whose /forcereload any site can call", file=sys.stderr)
    return Server(app=app, watcher=watcher)


def cannot_listen(host: str, port: int) -> str:
    """Why the preview could not listen on `host` and `port` (an unknown host, an address
    this machine does not have, a port in use), or an empty string. Checked before the
    first build, so a mistake costs a line, not a build and a traceback."""
    try:
        family, kind, proto, _, address = socket.getaddrinfo(
            host, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE)[0]
        with socket.socket(family, kind, proto) as probe:
            probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            probe.bind(address)
    except (OSError, UnicodeError) as e:
        return getattr(e, "strerror", None) or str(e)
    return ""


def _stop(signum: int, frame: FrameType | None) -> None:
    raise KeyboardInterrupt  # as Ctrl+C: livereload stops its loop, serve() cleans up


def serve(root: Path, host: str = "127.0.0.1", port: int = 8000, drafts: bool = False) -> int:
    """Run the preview server until interrupted (Ctrl+C, SIGTERM or SIGHUP); the temporary
    folder goes with it."""
    why = cannot_listen(host, port)
    if why:
        print(f"healthsite serve: cannot listen on {host} port {port}: {why}", file=sys.stderr)
        return 1
    hosts = Hosts.bound_to(host, port)
    if host not in LOOPBACK:
        print(f"warning: serving on {host} makes the preview reachable from other machines; "
              f"it answers to {', '.join(sorted(hosts.names))} on port {port}",
              file=sys.stderr)
    stops = [s for s in (signal.SIGTERM, getattr(signal, "SIGHUP", None)) if s is not None]
    previous = {s: signal.signal(s, _stop) for s in stops}
    preview: Preview | None = None
    try:
        preview = Preview(root, drafts)
        preview.rebuild()
        for p in preview.problems:
            print(p.format())
        watcher = Watcher(preview, lambda: LiveReloadHandler.reload_waiters("*"))
        server = livereload_server(make_app(preview, hosts), watcher, hosts)
        print(f"Previewing {root} at http://{host}:{port}/ (Ctrl+C to stop)", flush=True)
        server.serve(host=host, port=port, debug=False, restart_delay=0)
    except KeyboardInterrupt:
        pass
    except OSError as e:  # the port taken in the meantime
        print(f"healthsite serve: cannot listen on {host} port {port}: {e.strerror or e}",
              file=sys.stderr)
        return 1
    finally:
        for s in (*stops, signal.SIGINT):  # a second Ctrl+C must not stop the cleaning up
            handler = signal.signal(s, signal.SIG_IGN)
            previous.setdefault(s, handler)
        if preview is not None:
            preview.close()
        for s, handler in previous.items():
            signal.signal(s, handler)
    return 0
