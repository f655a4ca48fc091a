"""Checks on demand (`healthsite check --external`): whether the web addresses that articles
cite under `sources:` still work.

This module owns the whole check, and nothing of the build: finding every `sources:` item's
`url` in content/**/*.md with the line and column of the value (by the engine's own
front-matter splitting and YAML reader), requesting each distinct URL once (HEAD, then GET
when HEAD is refused; concurrently, with a timeout; redirects followed and recorded), the
cache of results in the site's `.cache/external.json`, and the warnings: `source-dead` (an
HTTP error, no answer, a timeout) and `source-redirected` (a permanent redirect), each at the
url's place in each file that cites it. Only the standard library touches the network, and
nothing here raises for a URL that fails: every failure is a result.
"""

from __future__ import annotations

import contextlib
import functools
import http.client
import json
import math
import os
import socket
import ssl
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import quote, urljoin, urlsplit, urlunsplit

from .. import __version__
from ..errors import Level, ProblemList, shown
from ..files import outside, read_regular, undecodable
from ..load.content import CONTENT_DIR, content_files, decode_text, nfc
from ..load.frontmatter import split
from ..load.yamlio import Located, YamlError, parse

CACHE_DIR = ".cache"  # (the build's, see incremental/cache.py; its sweep removes TMP_PREFIX)
CACHE_FILE = "external.json"
TMP_PREFIX = ".tmp-"
FORMAT = 1  # of the cache file: another format is ignored
DAY = 86_400.0
GOOD_FOR = 7 * DAY  # a URL that answered is asked again after this
BAD_FOR = 1 * DAY  # a URL that failed is asked again after this
TIMEOUT = 10.0
WORKERS = 8
MAX_REDIRECTS = 10
USER_AGENT = f"healthsite/{__version__} (checking the sources an article cites)"
WEB = ("https://", "http://")  # (as the front-matter check accepts a url)
HEAD_REFUSED = frozenset({403, 405, 501})  # then asked again with GET
REDIRECTS = frozenset({301, 302, 303, 307, 308})
PERMANENT = frozenset({301, 308})
_SAFE = "/%:@!$&'()*+,;=?~-._"  # what stays as it is when a URL is made ASCII


@dataclass(frozen=True)
class Citation:
    """A `sources:` item's url, where it is: the file (as problems name it), the line and
    column of the value, and the item's number (from 1)."""

    url: str
    path: str
    line: int
    col: int
    item: int


@dataclass(frozen=True)
class Result:
    """What asking for a URL found (and what the cache keeps of it)."""

    url: str
    checked: float  # when (seconds since the epoch)
    status: int | None = None  # the last HTTP status (None: no answer)
    final: str = ""  # the URL the redirects led to (the url itself when none)
    moved_to: str = ""  # where the url's permanent redirects lead ("" when it did not move)
    error: str = ""  # why it is dead ("HTTP 404", "connection refused"), "" when it works

    @property
    def dead(self) -> bool:
        return bool(self.error)


# --- collecting ---------------------------------------------------------------------------


def collect(root: Path) -> list[Citation]:
    """Every web `url` of a `sources:` item in the content files the engine loads (in
    their order). A file the engine cannot read or parse gives none: the build reports it."""
    found: list[Citation] = []
    content = os.path.realpath(root / CONTENT_DIR)
    for rel in content_files(root):
        path = os.path.join(root, rel)
        if undecodable(rel) or (os.path.islink(path) and outside(path, content)):
            continue  # (not loaded by the engine either)
        loc = _front_matter(path, nfc(rel))
        if loc is not None:
            found += citations(loc, nfc(rel))
    return found


def citations_in(text: str, path: str) -> list[Citation]:
    """The web urls a content file's text cites (none when its front matter is unusable)."""
    loc = _parsed(text, path)
    return [] if loc is None else citations(loc, path)


def citations(loc: Located, path: str) -> list[Citation]:
    """The web urls of the `sources:` items of a parsed front matter, with their places."""
    sources = loc.value.get("sources") if isinstance(loc.value, dict) else None
    if not isinstance(sources, list):
        return []
    found: list[Citation] = []
    for i, item in enumerate(sources):
        url = item.get("url") if isinstance(item, dict) else None
        if isinstance(url, str) and url.startswith(WEB):
            line, col = loc.at("sources", i, "url")
            found.append(Citation(url, path, line, col, i + 1))
    return found


def _front_matter(path: str, name: str) -> Located | None:
    try:
        data = read_regular(path)
    except OSError:
        return None
    text = decode_text(data, name, ProblemList())
    return None if text is None else _parsed(text, name)


def _parsed(text: str, name: str) -> Located | None:
    part = split(text, name, ProblemList())
    if part is None:
        return None
    try:
        return parse(part.yaml_text, line_offset=part.yaml_line - 1)
    except YamlError:
        return None


# --- checking -----------------------------------------------------------------------------


class _AsItIs(urllib.request.HTTPErrorProcessor):
    """Every answer handed back as it came: errors are not raised, redirects not followed
    (they are followed by `_follow`, which records each)."""

    def http_response(self, request: urllib.request.Request, response: Any) -> Any:
        return response

    https_response = http_response


def check_all(urls: Sequence[str], *, timeout: float = TIMEOUT, workers: int = WORKERS,
              now: float | None = None) -> dict[str, Result]:
    """Each URL asked for once, `workers` at a time; never raises."""
    if not urls:
        return {}
    with ThreadPoolExecutor(max_workers=max(1, min(workers, len(urls))),
                            thread_name_prefix="healthsite-external") as pool:
        found = pool.map(lambda url: check_url(url, timeout=timeout, now=now), urls)
        return dict(zip(urls, found, strict=True))


def check_url(url: str, *, timeout: float = TIMEOUT, now: float | None = None) -> Result:
    """Ask for one URL (http or https only), following its redirects; every failure is a
    result whose `error` says what went wrong, never an exception."""
    checked = time.time() if now is None else now
    if not url.startswith(WEB):
        return Result(url, checked, error="not a web address (http:// or https://)")
    try:
        return _follow(url, timeout, checked)
    except Exception as e:  # (whatever a server or a URL can do: the check goes on)
        return Result(url, checked, error=_reason(e, timeout))


@dataclass
class _Trail:
    """The redirects followed from a URL so far."""

    url: str
    seen: set[str] = field(default_factory=set)
    moved_to: str = ""  # the end of the redirects that were all permanent, from the start
    permanent: bool = True

    def step(self, status: int, target: str) -> str:
        """Record a redirect to `target`; why it cannot be followed, or ""."""
        if not target.startswith(WEB):
            return f"redirected to {shown(target, 100)}, which is not a web address"
        if target in self.seen:
            return "a redirect loop"
        self.seen.add(target)
        self.permanent = self.permanent and status in PERMANENT
        if self.permanent:
            self.moved_to = target
        return ""


@functools.cache
def _opener() -> urllib.request.OpenerDirector:
    """One opener for every request (nothing in it is kept between requests), with one TLS
    context (the system's certificates read once, not for each connection)."""
    return urllib.request.build_opener(
        _AsItIs, urllib.request.HTTPSHandler(context=ssl.create_default_context()))


def _follow(url: str, timeout: float, checked: float) -> Result:
    opener = _opener()
    trail = _Trail(url, {url})
    current = url
    for _ in range(MAX_REDIRECTS + 1):
        status, location = _probe(opener, current, timeout)
        if status not in REDIRECTS or not location:
            return _answered(trail, current, status, checked)
        target = urljoin(current, location)
        why = trail.step(status, target)
        if why:
            return Result(url, checked, status, current, trail.moved_to, why)
        current = target
    return Result(url, checked, None, current, trail.moved_to,
                  f"too many redirects (more than {MAX_REDIRECTS})")


def _answered(trail: _Trail, final: str, status: int, checked: float) -> Result:
    if status < 400:
        return Result(trail.url, checked, status, final, trail.moved_to)
    after = f" after a redirect to {shown(final, 100)}" if final != trail.url else ""
    return Result(trail.url, checked, status, final, trail.moved_to, f"HTTP {status}{after}")


def _probe(opener: urllib.request.OpenerDirector, url: str, timeout: float) -> tuple[int, str]:
    """The status of a URL and its Location header: HEAD, then GET when HEAD is refused
    (by its status or by dropping the connection)."""
    try:
        status, location = _ask(opener, url, "HEAD", timeout)
    except OSError as e:  # (urllib's URLError is one, around the connection's error)
        if not isinstance(_cause(e), ConnectionResetError):
            raise
        status, location = 0, ""
    if status == 0 or status in HEAD_REFUSED:
        return _ask(opener, url, "GET", timeout)
    return status, location


def _ask(opener: urllib.request.OpenerDirector, url: str, method: str,
         timeout: float) -> tuple[int, str]:
    """One request; the answer's body is never read (closing it drops the connection)."""
    request = urllib.request.Request(_ascii(url), method=method,
                                     headers={"User-Agent": USER_AGENT, "Accept": "*/*"})
    with opener.open(request, timeout=timeout) as response:
        return int(response.status), str(response.headers.get("Location") or "")


def _ascii(url: str) -> str:
    """A URL as it is sent: an international host name in IDNA, other characters of the
    path and query percent-encoded (those already encoded left as they are)."""
    parts = urlsplit(url)
    if parts.port == 0 or not parts.hostname:  # (a port out of range raises ValueError)
        raise ValueError("no host or port given")
    netloc = parts.netloc if parts.netloc.isascii() else parts.netloc.encode("idna").decode()
    return urlunsplit((parts.scheme, netloc, quote(parts.path, safe=_SAFE),
                       quote(parts.query, safe=_SAFE), ""))


def _cause(e: BaseException) -> BaseException:
    """The error under urllib's URLError (which wraps one that happened while connecting)."""
    if isinstance(e, urllib.error.URLError) and isinstance(e.reason, BaseException):
        return e.reason
    return e


# why a URL failed, by the error's type (the first that matches)
_REASONS: tuple[tuple[type[BaseException], Callable[[Any, float], str]], ...] = (
    (TimeoutError, lambda e, t: f"timed out after {t:g} s"),
    (ConnectionRefusedError, lambda e, t: "connection refused"),
    (socket.gaierror, lambda e, t: "the host name was not found"),
    (ssl.SSLCertVerificationError,
     lambda e, t: f"its TLS certificate is not valid ({e.verify_message or e.reason})"),
    (ssl.SSLError, lambda e, t: f"the TLS connection failed ({e.reason or e})"),
    (http.client.RemoteDisconnected,
     lambda e, t: "the server closed the connection without answering"),
    (ConnectionResetError, lambda e, t: "the connection was reset"),
    (urllib.error.URLError, lambda e, t: f"malformed URL ({e.reason})"),
    (http.client.InvalidURL, lambda e, t: f"malformed URL ({e})"),
    (ValueError, lambda e, t: f"malformed URL ({e})"),
    (http.client.HTTPException, lambda e, t: f"not a valid HTTP answer ({type(e).__name__})"),
    (OSError, lambda e, t: f"no answer ({e.strerror or e})"),
)


def _reason(e: BaseException, timeout: float) -> str:
    """Why a request failed, in a few words."""
    cause = _cause(e)
    for kind, words in _REASONS:
        if isinstance(cause, kind):
            return shown(words(cause, timeout), 200)
    return f"could not be checked ({type(cause).__name__})"


# --- the cache ----------------------------------------------------------------------------


def cache_path(root: Path) -> Path:
    return root / CACHE_DIR / CACHE_FILE


def fresh(result: Result, now: float) -> bool:
    """Whether a kept result can be used instead of asking again."""
    age = now - result.checked
    return 0 <= age < (BAD_FOR if result.dead else GOOD_FOR)


def read_cache(path: Path) -> dict[str, Result]:
    """The results kept in the cache file, by URL; none when it is missing, unreadable or
    not what `write_cache` writes (entries that are not are left out)."""
    try:
        data = json.loads(path.read_bytes())
    except (OSError, ValueError, RecursionError):  # (undecodable text is a ValueError)
        return {}
    found = {url: _result(url, raw) for url, raw in _entries(data).items()}
    return {url: result for url, result in found.items() if result is not None}


def _entries(data: object) -> dict[str, Any]:
    if not isinstance(data, dict) or data.get("format") != FORMAT:
        return {}
    entries = data.get("results")
    return entries if isinstance(entries, dict) else {}


_KEPT: dict[str, type | tuple[type, ...]] = {
    "checked": (int, float), "status": (int, type(None)), "final": str, "moved_to": str,
    "error": str,
}


def _result(url: str, raw: object) -> Result | None:
    if not isinstance(raw, dict) or any(not isinstance(raw.get(k), t) or isinstance(
            raw.get(k), bool) for k, t in _KEPT.items()):
        return None
    if not math.isfinite(raw["checked"]):
        return None
    return Result(url, float(raw["checked"]), raw["status"], raw["final"], raw["moved_to"],
                  raw["error"])


def write_cache(path: Path, results: Iterable[Result]) -> None:
    """Keep results in the cache file, atomically; failing to write only costs requests."""
    body = json.dumps({"format": FORMAT, "results": {
        r.url: {k: v for k, v in asdict(r).items() if k != "url"} for r in results}},
        indent=1, sort_keys=True)
    tmp = None
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=TMP_PREFIX)
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(body + "\n")
        os.replace(tmp, path)
    except OSError:  # (a read-only or full disk)
        if tmp is not None:
            with contextlib.suppress(OSError):
                os.unlink(tmp)


# --- reporting ----------------------------------------------------------------------------


def report(cited: Iterable[Citation], results: dict[str, Result], problems: ProblemList) -> None:
    """A warning at each citation of a dead URL or of one that moved permanently."""
    for c in cited:
        result = results.get(c.url)
        if result is None:
            continue
        url = shown(c.url, 120)
        if result.dead:
            problems.add("source-dead", f"the url of 'sources' item {c.item} does not work: "
                         f"{result.error} ({url})", c.path, c.line, c.col,
                         hint="find the document's current address, or remove the url",
                         level=Level.WARNING)
        elif result.moved_to:
            moved = shown(result.moved_to, 120)
            problems.add("source-redirected", f"the url of 'sources' item {c.item} ({url}) "
                         f"has moved permanently to {moved}", c.path, c.line, c.col,
                         hint=f"update the url to {moved}", level=Level.WARNING)


def check_external(root: Path, problems: ProblemList, *, timeout: float = TIMEOUT,
                   workers: int = WORKERS, use_cache: bool = True,
                   now: float | None = None) -> None:
    """Check every source url the site's articles cite and warn about those that are dead
    or moved. Each distinct URL is asked for once (none that the cache in .cache/ holds a
    fresh result for, when `use_cache`: then the cache is neither read nor written without
    it); `now` is the time to judge the cache by (the clock's by default)."""
    when = time.time() if now is None else now
    cited = collect(root)
    urls = list(dict.fromkeys(c.url for c in cited))
    known = cached(cache_path(root), urls, when) if use_cache else {}
    asked = check_all(unknown(urls, known), timeout=timeout, workers=workers, now=when)
    if use_cache and asked:
        write_cache(cache_path(root), [*known.values(), *asked.values()])
    report(cited, {**known, **asked}, problems)


def cached(path: Path, urls: Iterable[str], now: float) -> dict[str, Result]:
    """The fresh results the cache file holds for `urls`."""
    kept = read_cache(path)
    return {url: kept[url] for url in urls if url in kept and fresh(kept[url], now)}


def unknown(urls: Iterable[str], known: dict[str, Result]) -> list[str]:
    return [url for url in urls if url not in known]
