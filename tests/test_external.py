"""`healthsite check --external` (healthsite/check/external.py): sources' urls asked for on a
local server (127.0.0.1, never the internet), the warnings at each url's place, the cache."""

from __future__ import annotations

import json
import socket
import threading
import time
from collections import Counter
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

import healthsite
from healthsite.check import external
from healthsite.check.external import (
    Citation,
    Result,
    cache_path,
    check_external,
    check_url,
    citations_in,
    collect,
    read_cache,
)
from healthsite.errors import Level, Problem, ProblemList

NOW = 1_800_000_000.0
DAY = 86_400.0
SLOW = 0.3  # the timeout the tests use for the slow page (which answers after 5 s)

# path: (status for HEAD, status for GET, Location)
PAGES: dict[str, tuple[int, int, str]] = {
    "/ok": (200, 200, ""),
    "/other": (200, 200, ""),
    "/missing": (404, 404, ""),
    "/broken": (500, 500, ""),
    "/moved": (301, 301, "/ok"),
    "/moved308": (308, 308, "http://{host}/other"),
    "/found": (302, 302, "/ok"),
    "/temp307": (307, 307, "/ok"),
    "/moved-then-temp": (301, 301, "/found"),
    "/moved-dead": (301, 301, "/missing"),
    "/no-head": (405, 200, ""),
    "/drops-head": (200, 200, ""),  # (HEAD gets no answer at all: see Site)
    "/forbidden-head": (403, 200, ""),
    "/loop": (301, 301, "/loop2"),
    "/loop2": (301, 301, "/loop"),
    "/to-ftp": (301, 301, "ftp://example.org/x"),
}


class Server(ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 64  # (at 5, eight requests at once wait a second for a retry)


class Site:
    """A local server: the pages above, a slow one, one that drops HEAD and one whose body
    never ends; it counts the requests each path gets, by method."""

    def __init__(self) -> None:
        self.requests: Counter[tuple[str, str]] = Counter()
        self.agents: set[str] = set()
        self.release = threading.Event()
        self.lock = threading.Lock()
        site = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, format: str, *args: object) -> None:
                pass

            def do_HEAD(self) -> None:
                self.answer("HEAD")

            def do_GET(self) -> None:
                self.answer("GET")

            def answer(self, method: str) -> None:
                with site.lock:
                    site.requests[(method, self.path)] += 1
                    site.agents.add(self.headers.get("User-Agent", ""))
                if self.path == "/slow":
                    site.release.wait(5)
                elif self.path == "/drops-head" and method == "HEAD":
                    self.close_connection = True
                    return  # nothing sent: the client sees the connection closed
                elif self.path == "/endless":
                    return self.endless(method)
                head, get, location = PAGES.get(self.path, (404, 404, ""))
                self.send_response(head if method == "HEAD" else get)
                if location:
                    self.send_header("Location", location.format(host=site.host))
                self.send_header("Content-Length", "0")
                self.end_headers()

            def endless(self, method: str) -> None:
                self.send_response(405 if method == "HEAD" else 200)
                self.send_header("Content-Length", str(1 << 30))
                self.end_headers()
                if method == "GET":
                    try:  # until the client closes the connection
                        for _ in range(1 << 14):
                            self.wfile.write(b"x" * 65536)
                    except OSError:
                        pass

        self.server = Server(("127.0.0.1", 0), Handler)
        self.host = f"127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever,
                                       args=(0.05,), daemon=True)
        self.thread.start()

    def url(self, path: str) -> str:
        return f"http://{self.host}{path}"

    def count(self, path: str, method: str | None = None) -> int:
        return sum(n for (m, p), n in self.requests.items()
                   if p == path and method in (None, m))

    def close(self) -> None:
        self.release.set()
        self.server.shutdown()
        self.server.server_close()
        self.thread.join()


@pytest.fixture(scope="module")
def server() -> Iterator[Site]:
    site = Site()
    yield site
    site.close()


@pytest.fixture
def web(server: Site, monkeypatch: pytest.MonkeyPatch) -> Site:
    """The server with its counts cleared; no proxy between it and the tests."""
    monkeypatch.setenv("no_proxy", "*")
    for name in ("http_proxy", "HTTP_PROXY", "https_proxy", "HTTPS_PROXY", "all_proxy",
                 "ALL_PROXY"):
        monkeypatch.delenv(name, raising=False)
    server.requests.clear()
    return server


def closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
    return port


def article(*urls: str, title: str = "A") -> str:
    """An article whose sources are in block style: item i's url is on line 9 + 3i, col 10."""
    items = "".join(f"  - title: Source {i}\n    publisher: P\n    url: {url}\n"
                    for i, url in enumerate(urls))
    return (f"---\ntitle: {title}\nsummary: A summary.\ntopics: [rls]\nreviewed: 2026-01-10\n"
            f"sources:\n{items}---\n\nText.\n")


def line(i: int) -> int:
    return 9 + 3 * i


def make_site(root: Path, files: dict[str, str]) -> Path:
    for rel, text in files.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    return root


def run(root: Path, *, timeout: float = 2.0, now: float = NOW,
        use_cache: bool = True) -> list[Problem]:
    problems = ProblemList()
    check_external(root, problems, timeout=timeout, now=now, use_cache=use_cache)
    return problems.sorted()


def where(problems: list[Problem]) -> list[tuple[str, int, int, str]]:
    return [(p.path, p.line, p.col, p.code) for p in problems]


# --- the warnings, at each url's place --------------------------------------------------


def test_each_kind_of_answer(web: Site, tmp_path: Path) -> None:
    paths = ["/ok", "/missing", "/broken", "/moved", "/moved308", "/found", "/temp307",
             "/no-head", "/forbidden-head", "/moved-then-temp", "/moved-dead", "/drops-head",
             "/endless", "/loop", "/to-ftp"]
    make_site(tmp_path, {"content/a.md": article(*map(web.url, paths))})
    found = {paths[(p.line - 9) // 3]: p for p in run(tmp_path)}
    assert {k: p.code for k, p in found.items()} == {
        "/missing": "source-dead", "/broken": "source-dead", "/moved": "source-redirected",
        "/moved308": "source-redirected", "/moved-then-temp": "source-redirected",
        "/moved-dead": "source-dead", "/loop": "source-dead", "/to-ftp": "source-dead"}
    assert all(p.level is Level.WARNING and p.col == 10 and p.path == "content/a.md"
               for p in found.values())
    assert "HTTP 404" in found["/missing"].message
    assert "HTTP 500" in found["/broken"].message
    assert "HTTP 404 after a redirect to " + web.url("/missing") in found["/moved-dead"].message
    assert "redirect loop" in found["/loop"].message
    assert "not a web address" in found["/to-ftp"].message
    # a permanent redirect names its target, in the message and the hint
    assert f"moved permanently to {web.url('/ok')}" in found["/moved"].message
    assert found["/moved"].hint == f"update the url to {web.url('/ok')}"
    assert f"moved permanently to {web.url('/other')}" in found["/moved308"].message
    # (a permanent redirect to a temporary one: the url to give is the first's target)
    assert f"moved permanently to {web.url('/found')}" in found["/moved-then-temp"].message
    # HEAD first, GET only when HEAD is refused
    assert web.requests[("HEAD", "/ok")] >= 1 and web.requests[("GET", "/ok")] == 0
    for path in ("/no-head", "/forbidden-head", "/drops-head", "/endless"):
        assert web.requests[("HEAD", path)] == 1 and web.requests[("GET", path)] == 1, path
    assert web.agents == {f"healthsite/{healthsite.__version__} "
                          "(checking the sources an article cites)"}


def test_places_in_several_files_and_one_request_per_url(web: Site, tmp_path: Path) -> None:
    ok, missing = web.url("/ok"), web.url("/missing")
    make_site(tmp_path, {
        "content/a.md": article(ok, missing, missing),
        "content/sub/b.md": article(web.url("/moved"), missing, title="B"),
        # flow style: the url's column is where its value starts (at the quote)
        "content/c.md": article().replace(
            "sources:\n", f'sources:\n  - {{title: T, publisher: P, url: "{missing}"}}\n'),
    })
    assert where(run(tmp_path)) == [
        ("content/a.md", line(1), 10, "source-dead"),
        ("content/a.md", line(2), 10, "source-dead"),
        ("content/c.md", 7, 35, "source-dead"),
        ("content/sub/b.md", line(0), 10, "source-redirected"),
        ("content/sub/b.md", line(1), 10, "source-dead"),
    ]
    assert web.count("/missing") == 1  # cited four times, asked for once
    assert web.count("/ok") == 2  # once itself, once as /moved's target
    assert web.count("/moved") == 1


def test_timeout_and_refused(web: Site, tmp_path: Path) -> None:
    refused = f"http://127.0.0.1:{closed_port()}/x"
    make_site(tmp_path, {"content/a.md": article(web.url("/slow"), refused)})
    start = time.monotonic()
    problems = run(tmp_path, timeout=SLOW)
    assert time.monotonic() - start < 3
    assert where(problems) == [("content/a.md", line(0), 10, "source-dead"),
                               ("content/a.md", line(1), 10, "source-dead")]
    assert "timed out after 0.3 s" in problems[0].message
    assert "connection refused" in problems[1].message


def test_what_is_not_asked_for(web: Site, tmp_path: Path,
                               monkeypatch: pytest.MonkeyPatch) -> None:
    asked: list[str] = []
    real = external.check_url

    def spy(url: str, **kw: float | None) -> Result:
        asked.append(url)
        return real(url, **kw)  # type: ignore[arg-type]

    monkeypatch.setattr(external, "check_url", spy)
    make_site(tmp_path, {
        "content/a.md": article("ftp://127.0.0.1/x", f"file://{tmp_path}/content/a.md",
                                "mailto:someone@example.org", "HTTP://127.0.0.1/x",
                                "javascript:alert(1)", web.url("/ok")),
        "content/no-front-matter.md": "Just text.\n",
        "content/bad-yaml.md": "---\ntitle: [unclosed\n---\n",
        "content/unclosed.md": "---\ntitle: A\n",
        "content/odd.md": "---\nsources: [1, {url: 5}, {url: null}, [x]]\n---\n",
        "content/list.md": "---\n- a\n---\n",
        "content/.hidden.md": article(web.url("/missing")),
        "content/notes.txt": article(web.url("/missing")),
        "elsewhere/x.md": article(web.url("/missing")),
    })
    assert run(tmp_path) == []
    assert asked == [web.url("/ok")]
    # and check_url itself never asks for another scheme
    result = check_url(f"file://{tmp_path}/content/a.md")
    assert result.dead and "not a web address" in result.error


def test_collect_names_files_as_the_engine_does(tmp_path: Path) -> None:
    make_site(tmp_path, {"content/caf\u0065\u0301.md": article("https://example.org/a"),
                         "content/z/y.md": article("https://example.org/b")})
    assert collect(tmp_path) == [
        Citation("https://example.org/a", "content/caf\u00e9.md", line(0), 10, 1),
        Citation("https://example.org/b", "content/z/y.md", line(0), 10, 1)]
    assert citations_in(article("http://x.example/", "https://y.example/"), "content/q.md") \
        == [Citation("http://x.example/", "content/q.md", 9, 10, 1),
            Citation("https://y.example/", "content/q.md", 12, 10, 2)]


def test_no_sources_no_requests_no_cache(tmp_path: Path) -> None:
    make_site(tmp_path, {"content/a.md": article()})
    assert run(tmp_path) == []
    assert not (tmp_path / ".cache").exists()
    assert run(tmp_path.joinpath("missing")) == []


# --- the cache ---------------------------------------------------------------------------


def test_cache_saves_requests_until_it_expires(web: Site, tmp_path: Path) -> None:
    make_site(tmp_path, {"content/a.md": article(web.url("/ok"), web.url("/missing"))})
    first = run(tmp_path)
    assert where(first) == [("content/a.md", line(1), 10, "source-dead")]
    assert web.count("/ok") == web.count("/missing") == 1
    kept = json.loads(cache_path(tmp_path).read_text())
    assert kept["results"][web.url("/ok")] == {"checked": NOW, "status": 200,
                                               "final": web.url("/ok"), "moved_to": "",
                                               "error": ""}
    assert not [p for p in (tmp_path / ".cache").iterdir() if p.name != "external.json"]

    assert run(tmp_path, now=NOW + 0.9 * DAY) == first  # both fresh: nothing asked
    assert web.count("/ok") == web.count("/missing") == 1
    assert run(tmp_path, now=NOW + 1.5 * DAY) == first  # the failure is asked again
    assert (web.count("/ok"), web.count("/missing")) == (1, 2)
    assert run(tmp_path, now=NOW + 8 * DAY) == first  # and the good one after a week
    assert (web.count("/ok"), web.count("/missing")) == (2, 3)
    assert run(tmp_path, now=NOW + 8 * DAY, use_cache=False) == first  # not read
    assert (web.count("/ok"), web.count("/missing")) == (3, 4)
    assert read_cache(cache_path(tmp_path))[web.url("/ok")].checked == NOW + 8 * DAY
    # a result from the future (the clock was put back) is not trusted
    assert run(tmp_path, now=NOW) == first
    assert (web.count("/ok"), web.count("/missing")) == (4, 5)


def test_without_the_cache_nothing_is_written(web: Site, tmp_path: Path) -> None:
    make_site(tmp_path, {"content/a.md": article(web.url("/ok"))})
    assert run(tmp_path, use_cache=False) == []
    assert not (tmp_path / ".cache").exists()


@pytest.mark.parametrize("damage", [
    b"{not json", b"\xff\xfe\x00", b"[]", b'{"format": 1, "results": []}',
    b'{"format": 99, "results": {}}', b"[" * 100_000,
])
def test_a_damaged_cache_is_ignored(web: Site, tmp_path: Path, damage: bytes) -> None:
    make_site(tmp_path, {"content/a.md": article(web.url("/missing"))})
    cache_path(tmp_path).parent.mkdir()
    cache_path(tmp_path).write_bytes(damage)
    assert where(run(tmp_path)) == [("content/a.md", line(0), 10, "source-dead")]
    assert web.count("/missing") == 1
    assert set(read_cache(cache_path(tmp_path))) == {web.url("/missing")}  # rewritten


def test_damaged_entries_are_asked_again(web: Site, tmp_path: Path) -> None:
    ok, other, found = web.url("/ok"), web.url("/other"), web.url("/found")
    good = {"checked": NOW, "status": 200, "final": ok, "moved_to": "", "error": ""}
    cache_path(tmp_path).parent.mkdir(parents=True)
    cache_path(tmp_path).write_text(json.dumps({"format": 1, "results": {
        ok: good, other: {**good, "checked": "yesterday"}, found: [1]}}))
    make_site(tmp_path, {"content/a.md": article(ok, other, found)})
    assert run(tmp_path) == []
    assert (web.count("/ok"), web.count("/other"), web.count("/found")) == (1, 1, 1)


def test_an_unwritable_cache_only_costs_requests(web: Site, tmp_path: Path) -> None:
    make_site(tmp_path, {"content/a.md": article(web.url("/missing")),
                         ".cache": "a file where the folder should be"})
    assert where(run(tmp_path)) == [("content/a.md", line(0), 10, "source-dead")]


# --- check_url on its own ----------------------------------------------------------------


@pytest.mark.parametrize("url, error", [
    ("http://", "malformed URL"),
    ("http://[::1", "malformed URL"),
    ("http://127.0.0.1:99999/", "malformed URL"),
    ("https://127.0.0.1:{closed}/", "connection refused"),
])
def test_failures_are_results(web: Site, url: str, error: str) -> None:
    result = check_url(url.format(closed=closed_port()), timeout=2, now=NOW)
    assert result.dead and result.error.startswith(error), result
    assert result.checked == NOW


def test_urls_are_sent_as_ascii(web: Site) -> None:
    result = check_url(web.url("/caf\u00e9 au lait?q=\u00e9t\u00e9"), timeout=2)
    assert result.status == 404 and result.error == "HTTP 404"
    assert web.requests[("HEAD", "/caf%C3%A9%20au%20lait?q=%C3%A9t%C3%A9")] == 1


def test_too_many_redirects(web: Site, monkeypatch: pytest.MonkeyPatch) -> None:
    assert check_url(web.url("/moved"), timeout=2, now=NOW) == Result(
        web.url("/moved"), NOW, 200, web.url("/ok"), web.url("/ok"), "")
    monkeypatch.setattr(external, "MAX_REDIRECTS", 1)
    result = check_url(web.url("/moved-then-temp"), timeout=2)
    assert result.error == "too many redirects (more than 1)"


def test_host_not_found(monkeypatch: pytest.MonkeyPatch) -> None:
    def no_dns(*args: object, **kw: object) -> object:
        raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")

    monkeypatch.setattr(socket, "getaddrinfo", no_dns)  # (no DNS query leaves the machine)
    result = check_url("https://sources.example/x", timeout=2)
    assert result.error == "the host name was not found"


# --- the command line: check --external ---------------------------------------------------


def test_check_external_on_the_command_line(web: Site, tmp_path: Path,
                                            capsys: pytest.CaptureFixture[str]) -> None:
    """`check --external` builds nothing, checks the site and the urls; a source that is
    gone is a warning at its line (so --strict fails), with the site's other problems."""
    from conftest import good_files

    from healthsite.cli import main

    files = good_files()
    files["content/iron.md"] = files["content/iron.md"].replace(
        "sources:\n", f"sources:\n  - {{title: Gone, publisher: P, url: \"{web.url('/missing')}\"}}"
        "\n", 1)
    root = make_site(tmp_path / "site", files)
    assert main(["check", "--external", "--root", str(root)]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[0].startswith("content/iron.md:7:38: warning[source-dead]: ") and \
        "HTTP 404" in out[0], out
    assert main(["check", "--external", "--strict", "--root", str(root)]) == 1
    capsys.readouterr()
    assert main(["check", "--external", "--timeout", "0", "--root", str(root)]) == 2
    assert "is not a number of seconds" in capsys.readouterr().err
    assert not (root / "_site").exists()
