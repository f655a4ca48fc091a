"""What the preview answers over HTTP: the WSGI app that serves the private folder, with the
Host check (`Hosts`: only the preview's own addresses, so a page on another site cannot read
drafts by DNS rebinding), safe path resolution, the error overlay and the problems panel
(panel.py), the search index from wherever it was made last (search.py), and each page's
Content-Security-Policy kept, with only the reload client's script and websocket added.
The websocket and the client script themselves are livereload's (see reload.py)."""

from __future__ import annotations

import html
import mimetypes
import posixpath
import re
import socket
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit

from .panel import STYLE, overlay, panel
from .preview import Preview
from .problems import Report
from .search import URL_PREFIX

LOOPBACK = {"127.0.0.1", "localhost", "::1"}
ANY_ADDRESS = {"", "0.0.0.0", "::"}
MAX_URL = 2048  # characters of path and query; the longest page address is far shorter
CLIENT = "/livereload.js"  # livereload's client, served by its own handler
STYLE_PATH = "/__preview__/preview.css"  # no page can have this path (slugs have no _)
PLAIN = "text/plain; charset=utf-8"


def resolve(base: Path, url_path: str) -> Path | None:
    """The file a URL path names inside `base`, or None: never a path outside it."""
    clean = _clean(url_path)
    if clean is None:
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


def _clean(url_path: str) -> str | None:
    """A URL's path unquoted and normalised (from /), or None when it has a NUL or a
    backslash or would climb out with `..`."""
    path = unquote(url_path.split("?", 1)[0].split("#", 1)[0])
    if "\0" in path or "\\" in path:
        return None
    clean = posixpath.normpath("/" + path.lstrip("/"))
    return None if ".." in clean.split("/") else clean


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


def make_app(preview: Preview, hosts: Hosts) -> Callable[..., Iterable[bytes]]:
    """A WSGI app serving the preview folder, with the problems panel on every page and the
    overlay while a build is broken."""

    def app(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        status, ctype, body = _respond(preview, hosts, environ)
        start_response(status, [("Content-Type", ctype), ("Content-Length", str(len(body))),
                                ("Cache-Control", "no-store"),
                                ("X-Content-Type-Options", "nosniff")])
        return [b"" if environ.get("REQUEST_METHOD") == "HEAD" else body]

    return app


def _respond(preview: Preview, hosts: Hosts, environ: dict[str, Any]) -> tuple[str, str, bytes]:
    """The status, content type and body that answer a request."""
    refused = _refused(hosts, environ)
    if refused is not None:
        return refused
    path = environ.get("PATH_INFO", "/")
    if path == STYLE_PATH:
        return "200 OK", "text/css; charset=utf-8", STYLE
    if path.startswith(URL_PREFIX):
        return _index_file(preview, path)
    status, ctype, body, page = _file(preview.dir, path)
    if ctype.startswith("text/html"):
        body = _preview_html(body, Shown(preview.report, page),
                             str(environ.get("HTTP_HOST")), hosts.port)
    return status, ctype, body


def _index_file(preview: Preview, path: str) -> tuple[str, str, bytes]:
    """A file of the search index, from the newest index that has it (see search.py)."""
    rest = path[len(URL_PREFIX) - 1:]
    for folder in preview.search.folders:
        target = resolve(folder, rest)
        body = _read(target) if target is not None else None
        if target is not None and body is not None:
            return "200 OK", _content_type(target.name), body
    return _file(preview.dir, path)[:3]  # (the 404 page)


def _refused(hosts: Hosts, environ: dict[str, Any]) -> tuple[str, str, bytes] | None:
    """The answer to a request the preview does not serve (for another host, with too long
    an address, or neither GET nor HEAD); None to one it serves."""
    if not hosts.allows_host(environ.get("HTTP_HOST")):
        return "421 Misdirected Request", PLAIN, hosts.refusal().encode()
    if len(environ.get("PATH_INFO", "/")) + len(environ.get("QUERY_STRING", "")) > MAX_URL:
        return "414 URI Too Long", PLAIN, b"That address is too long.\n"
    if environ.get("REQUEST_METHOD", "GET") not in ("GET", "HEAD"):
        return "405 Method Not Allowed", PLAIN, b"Only GET and HEAD.\n"
    return None


def _file(folder: Path, path: str) -> tuple[str, str, bytes, str | None]:
    """The status, content type and bytes of the file a URL path names in `folder`, or of
    the site's 404 page; and which file of the folder it is (`iron/index.html`; None for
    the 404 page)."""
    target = resolve(folder, path)
    body = _read(target) if target is not None else None
    if target is None or body is None:  # (or removed by a rebuild since it was found)
        missing = _read(folder / "404.html") or \
            b"<html><head></head><body><h1>Not found</h1></body></html>"
        return "404 Not Found", "text/html; charset=utf-8", missing, None
    page = target.relative_to(folder.resolve()).as_posix()
    return "200 OK", _content_type(target.name), body, page


def _content_type(name: str) -> str:
    """The Content-Type of a file by its name (with the charset for text)."""
    ctype = mimetypes.guess_type(name)[0] or "application/octet-stream"
    if ctype.startswith("text/") or ctype.endswith(("javascript", "json", "xml")):
        ctype += "; charset=utf-8"
    return ctype


def _read(path: Path) -> bytes | None:
    try:
        return path.read_bytes()
    except OSError:
        return None


_CSP = re.compile(rb'<meta\s+http-equiv="?content-security-policy"?\s+content="([^"]*)"', re.I)


@dataclass(frozen=True)
class Shown:
    """The latest build's problems, for the page (a file of the preview's folder,
    `iron/index.html`; None for the 404 page) they are shown on."""

    report: Report
    page: str | None


_BODY = re.compile(rb"<body\b[^>]*>", re.I)


def _preview_html(body: bytes, shown: Shown, host: str, port: int) -> bytes:
    """A page as the preview serves it: its Content-Security-Policy kept, with only what the
    reload client needs added (see with_reload); the client as a same-origin script, and the
    stylesheet of the panel and overlay; the problems panel first in its body; and the
    overlay at its end while the build has errors."""
    found = _CSP.search(body)
    if found:
        policy = with_reload(html.unescape(found.group(1).decode()), host)
        escaped = html.escape(policy, quote=False).replace('"', "&quot;").encode()
        body = body[:found.start(1)] + escaped + body[found.end(1):]
    head = (f'<script src="{CLIENT}?port={port}"></script>'
            f'<link rel="stylesheet" href="{STYLE_PATH}">').encode()
    at = body.find(b"</head>")
    body = body[:at] + head + body[at:] if at != -1 else head + body
    opened = _BODY.search(body, max(at, 0))
    at = opened.end() if opened else len(body)
    body = body[:at] + panel(shown.report, shown.page) + body[at:]
    errors = shown.report.errors
    if errors:
        at = body.rfind(b"</body>")
        body = body[:at] + overlay(errors) + body[at:] if at != -1 else body + overlay(errors)
    return body


def with_reload(policy: str, host: str) -> str:
    """`policy` plus what livereload's client needs: its script from this origin and its
    websocket to this host and port ('self' covers that in CSP 3 browsers; ws://host is for
    older ones, and CSP has no syntax for an IPv6 address). Nothing else is relaxed."""
    directives = [d.split() for d in policy.split(";") if d.strip()]
    socket_source = [] if host.startswith("[") else [f"ws://{host}"]
    for name, needed in (("script-src", ["'self'"]), ("connect-src", ["'self'", *socket_source])):
        sources = _directive(directives, name)
        if sources is not None:  # (None: nothing restricts it)
            _allow(sources, needed)
    return "; ".join(" ".join(d) for d in directives)


def _directive(directives: list[list[str]], name: str) -> list[str] | None:
    """The directive `name` of a policy (its name, then its sources); when only default-src
    restricts it, one added with default-src's sources; None when nothing does."""
    names = [d[0].lower() for d in directives]
    if name in names:
        return directives[names.index(name)]
    if "default-src" not in names:
        return None
    sources = [name, *directives[names.index("default-src")][1:]]
    directives.append(sources)
    return sources


def _allow(sources: list[str], needed: list[str]) -> None:
    """Add the `needed` sources to a directive (name first), dropping its 'none'."""
    sources[1:] = [s for s in sources[1:] if s.lower() != "'none'"]
    sources += [s for s in needed if s not in sources]
