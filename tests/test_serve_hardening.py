"""The preview server under attack and under load (issue 16: items 7, 10, 12, 14 and 21): only
its own addresses, its websocket for its own pages, the pages' Content-Security-Policy kept,
a slow rebuild on a worker thread, and no folder left behind when it is stopped."""

from __future__ import annotations

import asyncio
import http.client
import importlib.metadata
import inspect
import os
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from contextlib import suppress
from pathlib import Path
from typing import Any

import pytest
from browser import chromium, free_port, preview_server
from conftest import REPO, good_files
from livereload import Server
from tornado.httpclient import HTTPClientError, HTTPRequest
from tornado.websocket import websocket_connect

from healthsite.pipeline import build_site
from healthsite.serve import (
    SETTLE_S,
    Builder,
    Hosts,
    Preview,
    PreviewServer,
    Watcher,
    livereload_server,
    make_app,
    with_reload,
)

MakeSite = Callable[..., Path]
PUBLISHED_CSP = ("default-src 'self'; script-src 'self' 'wasm-unsafe-eval'; style-src 'self'; "
                 "img-src 'self' data:; font-src 'self'; connect-src 'self'; "
                 "object-src 'none'; base-uri 'self'; form-action 'self'")
# an article that Python-Markdown takes about a minute to render (its issue #798)
SLOW = ("---\ntitle: Slow\nsummary: A body that is slow to render.\ntopics: [iron]\n"
        "reviewed: 2026-01-01\nsources:\n  - {title: A, publisher: NHS, year: 2024}\n"
        "  - {title: B, publisher: NICE, year: 2024}\n---\n\n" + "[" * 30_000 + "\n")


def get(port: int, path: str, host: str | None = None, timeout: float = 5,
        method: str = "GET") -> tuple[int, dict[str, str], bytes]:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        conn.putrequest(method, path, skip_host=True, skip_accept_encoding=True)
        conn.putheader("Host", host if host is not None else f"127.0.0.1:{port}")
        conn.endheaders()
        response = conn.getresponse()
        return response.status, dict(response.getheaders()), response.read()
    finally:
        conn.close()


def websocket(port: int, frames: list[str | bytes], origin: str | None = "default",
              host: str | None = None, listen: float = 1.0,
              meanwhile: Callable[[], object] | None = None) -> list[str] | int:
    """Open livereload's websocket, send `frames`, run `meanwhile` (in a thread), and return
    the messages received within `listen` seconds, or the HTTP status of a refusal."""
    headers = {"Origin": f"http://127.0.0.1:{port}" if origin == "default" else origin,
               "Host": host if host is not None else f"127.0.0.1:{port}"}

    async def session() -> list[str] | int:
        request = HTTPRequest(f"ws://127.0.0.1:{port}/livereload",
                              headers={k: v for k, v in headers.items() if v is not None})
        try:
            conn = await websocket_connect(request)
        except HTTPClientError as e:
            return e.code
        for frame in frames:
            await conn.write_message(frame, binary=isinstance(frame, bytes))
        if meanwhile is not None:
            await asyncio.to_thread(meanwhile)
        received: list[str] = []
        try:
            while (message := await asyncio.wait_for(conn.read_message(), listen)) is not None:
                received.append(message if isinstance(message, str) else message.decode())
        except TimeoutError:
            pass
        conn.close()
        with suppress(TimeoutError):  # wait for the server's close frame
            while await asyncio.wait_for(conn.read_message(), 2) is not None:
                pass
        return received

    return asyncio.run(session())


HELLO = '{"command": "hello", "protocols": ["http://livereload.com/protocols/official-7"]}'


def edit(path: Path, old: str, new: str) -> None:
    path.write_text(path.read_text(encoding="utf-8").replace(old, new), encoding="utf-8")


# item 7: no request or frame gives a traceback ----------------------------------------------

def test_a_very_long_address_is_a_clean_4xx(make_site: MakeSite) -> None:
    with preview_server(make_site(good_files())) as s:
        status, headers, body = get(s.port, "/" + "a" * 8000)
        assert status == 414 and headers["Content-Type"].startswith("text/plain")
        assert b"Traceback" not in body and len(body) < 200
        assert get(s.port, "/iron/?q=" + "x" * 8000)[0] == 414
        assert get(s.port, "/" + "a" * 300 + "/")[0] == 404  # a file name too long
        assert get(s.port, "/iron/" + "b" * 1500)[0] == 404
        assert get(s.port, "/iron/")[0] == 200
        assert "Traceback" not in s.output() and " 500 " not in s.output()


def test_head_and_other_methods_get_clean_answers(make_site: MakeSite) -> None:
    with preview_server(make_site(good_files())) as s:
        host = f"127.0.0.1:{s.port}"
        full = get(s.port, "/iron/")[2]
        status, headers, body = get(s.port, "/iron/", host, method="HEAD")
        assert (status, body, headers["Content-Length"]) == (200, b"", str(len(full)))
        assert get(s.port, "/nowhere/", host, method="HEAD")[0] == 404
        assert get(s.port, "/iron/", "evil.example", method="HEAD")[0] == 421
        assert get(s.port, "/" + "a" * 8000, host, method="HEAD")[0] == 414
        assert get(s.port, "/iron/", host, method="POST")[0] == 405
        assert get(s.port, "/iron/", host, method="DELETE")[0] == 405
        assert get(s.port, "/iron/")[0] == 200
        assert "Traceback" not in s.output()


def test_websocket_frames_that_are_not_commands_are_ignored_quietly(
        make_site: MakeSite) -> None:
    with preview_server(make_site(good_files())) as s:
        bad: list[str | bytes] = ["not json", "[1, 2]", '"hello"', "7", "{}",
                                  '{"command": 5}', "{" * 5000, "[" * 100_000,
                                  b"\xff\xfe\x00binary", '{"command": "info"}']
        replies = websocket(s.port, [*bad, HELLO])
        assert isinstance(replies, list) and len(replies) == 1  # the connection survived
        assert '"command": "hello"' in replies[0]
        out = s.output()
        assert "Traceback" not in out and "Error" not in out, out


# item 14: only its own addresses -------------------------------------------------------------

@pytest.mark.parametrize("host", ["evil.example", "evil.example:{port}", "127.0.0.1:1",
                                  "localhost.evil.example:{port}", "localhost.:{port}",
                                  "127.0.0.1:{port}@evil.example", "", "127.0.0.2:{port}"])
def test_other_hosts_are_refused(make_site: MakeSite, host: str) -> None:
    malformed = "@" in host  # (Tornado itself answers 400 to that)
    with preview_server(make_site(good_files())) as s:
        for path in ("/iron/", "/livereload.js", "/", "/static/"):
            status, headers, body = get(s.port, path, host=host.format(port=s.port))
            assert status == 421 or (malformed and status == 400), (path, status)
            assert malformed or headers["Content-Type"].startswith("text/plain")
            assert b"Iron" not in body and b"livereload" not in body.lower()
            assert malformed or b"answers only to its own addresses" in body
        assert websocket(s.port, [HELLO], origin=None, host=host.format(port=s.port)) in \
            ((400, 421) if malformed else (421,))


def test_its_own_addresses_are_served(make_site: MakeSite) -> None:
    with preview_server(make_site(good_files())) as s:
        for host in (f"127.0.0.1:{s.port}", f"localhost:{s.port}", f"LocalHost:{s.port}",
                     f"[::1]:{s.port}"):
            assert get(s.port, "/iron/", host=host)[0] == 200, host
            assert get(s.port, "/livereload.js", host=host)[0] == 200, host
            origin = "http://" + host
            replies = websocket(s.port, [HELLO], origin=origin, host=host)
            assert isinstance(replies, list) and len(replies) == 1, host


@pytest.mark.parametrize("origin", ["http://evil.example", "http://evil.example:{port}",
                                    "http://127.0.0.1:1", "https://127.0.0.1:{port}",
                                    "null", "http://127.0.0.1:{port}/path",
                                    "http://localhost.evil.example:{port}"])
def test_websocket_refuses_other_sites_pages(make_site: MakeSite, origin: str) -> None:
    with preview_server(make_site(good_files())) as s:
        assert websocket(s.port, [HELLO], origin=origin.format(port=s.port)) == 403
        # DNS rebinding: the other site's name in both Host and Origin
        assert websocket(s.port, [HELLO], origin=f"http://evil.example:{s.port}",
                         host=f"evil.example:{s.port}") == 421
        assert "Traceback" not in s.output()


def test_no_site_can_reload_the_editors_browser(make_site: MakeSite) -> None:
    root = make_site(good_files())
    with preview_server(root) as s:
        statuses: list[int] = []

        def force_then_save() -> None:
            statuses.append(get(s.port, "/forcereload?path=*")[0])
            time.sleep(1)
            edit(root / "content" / "iron.md", "Low iron can matter", "Saved")

        info = f'{{"command": "info", "url": "http://127.0.0.1:{s.port}/iron/"}}'
        replies = websocket(s.port, [HELLO, info], meanwhile=force_then_save, listen=3)
        assert statuses == [404]
        assert isinstance(replies, list)
        # only the save reloads it
        assert [r for r in replies if '"command": "reload"' in r] == [
            '{"command": "reload", "path": "*", "liveCSS": true, "liveImg": true}'], replies


def test_hosts_allowed_for_a_binding() -> None:
    loopback = Hosts.bound_to("127.0.0.1", 8000)
    assert all(loopback.allows_host(h) for h in
               ("127.0.0.1:8000", "localhost:8000", "[::1]:8000", "LOCALHOST:8000"))
    assert not any(loopback.allows_host(h) for h in
                   (None, "", "127.0.0.1", "127.0.0.1:8001", "evil.example:8000",
                    "192.168.1.5:8000", "127.0.0.1:8000@evil", "localhost.:8000",
                    "127.0.0.1:80000", "127.0.0.1:x", "[::1", "%31%32%37.0.0.1:8000"))
    assert Hosts.bound_to("127.0.0.1", 80).allows_host("localhost")  # port 80 is implied
    lan = Hosts.bound_to("192.168.1.5", 8000)
    assert lan.allows_host("192.168.1.5:8000") and lan.allows_host("127.0.0.1:8000")
    assert not lan.allows_host("192.168.1.6:8000")
    everywhere = Hosts.bound_to("0.0.0.0", 8000)
    assert everywhere.allows_host(f"{socket.gethostname()}:8000")
    assert not everywhere.allows_host("0.0.0.0:8000") and not everywhere.allows_host("x:8000")
    assert loopback.allows_origin("http://localhost:8000")
    assert not any(loopback.allows_origin(o) for o in
                   ("null", "https://localhost:8000", "http://localhost:8000/x",
                    "http://evil.example:8000", "http://[::1"))


def wsgi(app: Any, path: str, host: str | None, method: str = "GET") -> tuple[str, bytes]:
    got: dict[str, str] = {}
    environ = {"PATH_INFO": path, "REQUEST_METHOD": method, "QUERY_STRING": ""}
    if host is not None:
        environ["HTTP_HOST"] = host
    body = b"".join(app(environ, lambda status, headers: got.update(status=status)))
    return got["status"], body


def test_the_page_app_checks_host_length_and_method(make_site: MakeSite) -> None:
    preview = Preview(make_site(good_files()))
    try:
        assert preview.rebuild()
        app = make_app(preview, Hosts.bound_to("127.0.0.1", 8000))
        assert wsgi(app, "/iron/", "127.0.0.1:8000")[0] == "200 OK"
        assert wsgi(app, "/iron/", None)[0].startswith("421")
        assert wsgi(app, "/iron/", "evil.example:8000")[0].startswith("421")
        assert wsgi(app, "/" + "a" * 8000, "127.0.0.1:8000")[0].startswith("414")
        assert wsgi(app, "/" + "a" * 1000, "127.0.0.1:8000")[0].startswith("404")
        assert wsgi(app, "/iron/", "127.0.0.1:8000", "POST")[0].startswith("405")
    finally:
        preview.close()


def test_livereload_is_the_version_whose_server_we_replace(
        capsys: pytest.CaptureFixture[str]) -> None:
    """PreviewServer replaces Server.application of python-livereload 2.7 (pinned <2.8 in
    pyproject.toml); any other version gets its stock server, with a warning."""
    assert importlib.metadata.version("livereload").startswith("2.7.")
    assert list(inspect.signature(Server.application).parameters) == \
        ["self", "port", "host", "liveport", "debug", "live_css"]
    hosts = Hosts.bound_to("127.0.0.1", 8000)
    watcher: Any = object()
    assert isinstance(livereload_server(lambda e, s: [], watcher, hosts), PreviewServer)
    assert isinstance(livereload_server(lambda e, s: [], watcher, hosts, "2.7.9"), PreviewServer)
    assert capsys.readouterr().err == ""
    stock = livereload_server(lambda e, s: [], watcher, hosts, "2.8.0")
    assert type(stock) is Server
    assert "warning: python-livereload 2.8.0 is not the 2.7" in capsys.readouterr().err


# item 12: the pages' CSP stays in force in the preview -----------------------------------

def test_the_reload_client_is_the_only_thing_the_policy_gains() -> None:
    got = with_reload(PUBLISHED_CSP, "127.0.0.1:8000")
    assert got == PUBLISHED_CSP.replace("connect-src 'self'",
                                        "connect-src 'self' ws://127.0.0.1:8000")
    assert with_reload("default-src 'none'; img-src 'self'", "localhost:9000") == (
        "default-src 'none'; img-src 'self'; script-src 'self'; "
        "connect-src 'self' ws://localhost:9000")
    assert with_reload("script-src 'none'", "[::1]:8000") == "script-src 'self'"
    assert with_reload("img-src 'self'", "127.0.0.1:8000") == "img-src 'self'"


HANDLER = ('<img src="data:," alt="" '
           "onerror=\"document.documentElement.dataset.ran = 'yes'\">")


def test_preview_keeps_the_csp_so_handlers_do_not_run_and_saves_still_reload(
        make_site: MakeSite) -> None:
    root = make_site(good_files())
    # a handler that got into a page (as attribute lists once let one in)
    edit(root / "templates" / "base.html", "<body>\n", "<body>\n" + HANDLER + "\n")
    with preview_server(root) as s, chromium() as browser:
        page = browser.new_page()
        console: list[str] = []
        page.on("console", lambda m: console.append(m.text))
        page.goto(s.url + "/iron/")
        page.wait_for_function("document.querySelector('script[src*=livereload]') !== null")
        page.wait_for_timeout(800)  # the image fails; livereload.js connects its websocket
        assert page.evaluate("document.documentElement.dataset.ran") is None
        assert any("inline event handler" in m for m in console), console
        policy = page.evaluate("document.querySelector("
                               "'meta[http-equiv=Content-Security-Policy]').content")
        assert policy == PUBLISHED_CSP.replace(
            "connect-src 'self'", f"connect-src 'self' ws://127.0.0.1:{s.port}")
        edit(root / "content" / "iron.md", "Low iron can matter", "Iron stores matter a lot")
        page.wait_for_selector("text=Iron stores matter a lot", timeout=5000)
        assert page.evaluate("document.documentElement.dataset.ran") is None
        # the overlay is styled from a file too
        edit(root / "content" / "iron.md", "title: Iron", "title: Iron: broken")
        page.locator("#healthsite-overlay").wait_for(timeout=5000)
        assert page.evaluate("getComputedStyle(document.getElementById("
                             "'healthsite-overlay')).position") == "fixed"
        refused = [m for m in console if "Content Security Policy" in m
                   and "inline event handler" not in m]
        assert refused == []
    assert "Traceback" not in s.output()


# item 10: a slow rebuild does not stop the server ------------------------------------------

def test_the_preview_answers_while_a_slow_article_rebuilds(make_site: MakeSite) -> None:
    root = make_site(good_files())
    # the render budget (limits.RENDER_SECONDS) only bounds how long the test waits
    with preview_server(root, env={"HEALTHSITE_RENDER_SECONDS": "6"}) as s:
        (root / "content" / "slow.md").write_text(SLOW, encoding="utf-8")
        time.sleep(1.0)  # seen, settled, and rebuilding
        until = time.monotonic() + 3
        while time.monotonic() < until:
            status, _, body = get(s.port, "/iron/", timeout=1.5)
            assert status == 200 and b"healthsite-overlay" not in body  # (still rebuilding)
            time.sleep(0.2)
        for _ in range(300):  # then the rebuild ends, and its problems are shown
            body = get(s.port, "/iron/")[2]
            if b"healthsite-overlay" in body:
                break
            time.sleep(0.1)
        assert b"too-complex" in body
        assert "Traceback" not in s.output()


def test_a_save_during_a_rebuild_gets_one_more_and_reloads_wait_for_each(
        make_site: MakeSite, monkeypatch: pytest.MonkeyPatch) -> None:
    root = make_site(good_files())
    preview = Preview(root)
    events: list[str] = []
    started = threading.Event()

    def slow_build(*args: Any, **kwargs: Any) -> Any:
        events.append("start")
        started.set()
        time.sleep(1.5)
        result = build_site(*args, **kwargs)
        events.append("end")
        return result

    try:
        assert preview.rebuild()
        monkeypatch.setattr("healthsite.serve.preview.build_site", slow_build)
        builder = Builder(preview, lambda: events.append("reload"))
        edit(root / "content" / "iron.md", "Low iron can matter", "First save")
        builder.request()
        assert started.wait(5)
        edit(root / "content" / "iron.md", "First save", "Second save")
        builder.request()
        builder.request()
        assert builder.busy()
        page = (preview.dir / "iron" / "index.html").read_text()
        assert "Low iron can matter" in page  # the old page is served until the end
        for _ in range(100):
            if not builder.busy():
                break
            time.sleep(0.1)
        assert events == ["start", "end", "reload", "start", "end", "reload"]
        assert "Second save" in (preview.dir / "iron" / "index.html").read_text()
    finally:
        preview.close()


def test_a_save_during_the_first_build_is_not_missed(make_site: MakeSite,
                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    """The first build is the watcher's: it starts once the sources are watched."""
    root = make_site(good_files())
    preview = Preview(root)
    started = threading.Event()

    def slow_build(*args: Any, **kwargs: Any) -> Any:
        result = build_site(*args, **kwargs)
        started.set()  # (it has read the article)
        time.sleep(1.5)
        return result

    monkeypatch.setattr("healthsite.serve.preview.build_site", slow_build)
    watcher = Watcher(preview, lambda: None)
    try:
        watcher.begin()
        assert started.wait(10)
        edit(root / "content" / "iron.md", "Low iron can matter", "Saved during it")
        for _ in range(200):
            if preview.builds == 2 and watcher.builder.wait(0):
                break
            time.sleep(0.05)
        assert preview.builds == 2
        assert "Saved during it" in (preview.dir / "iron" / "index.html").read_text()
    finally:
        watcher.close()
        preview.close()


def test_a_preview_folder_that_cannot_be_written_is_a_problem_not_a_crash(
        make_site: MakeSite) -> None:
    root = make_site(good_files())
    preview = Preview(root)
    try:
        assert preview.rebuild()
        shutil.rmtree(preview.dir / "iron")
        (preview.dir / "iron").write_text("in the way")  # as a full disk would refuse it
        edit(root / "content" / "iron.md", "Low iron can matter", "Saved")
        assert not preview.rebuild()
        assert [p.code for p in preview.problems] == ["io"]
        assert "cannot write the preview" in preview.problems[0].message
    finally:
        preview.close()
    assert not preview.dir.exists()


def test_the_watcher_hands_rebuilds_to_the_worker(make_site: MakeSite,
                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    root = make_site(good_files())
    preview = Preview(root)
    watcher = Watcher(preview, lambda: None)
    try:
        asked: list[str] = []
        monkeypatch.setattr(watcher.builder, "request", lambda: asked.append("rebuild"))
        watcher.begin()  # (on threads of its own: begin returns at once)
        assert watcher.wait_ready(10)
        asked.clear()  # (the one it asks for once in place)
        edit(root / "content" / "iron.md", "Low iron can matter", "Saved")
        for _ in range(100):
            if asked:
                break
            time.sleep(0.05)
        time.sleep(SETTLE_S + 0.3)
        assert asked == ["rebuild"]
    finally:
        watcher.close()
        preview.close()


# item 21: stopping it leaves nothing behind ---------------------------------------------------

@pytest.mark.parametrize("how", ["SIGTERM", "SIGINT", "SIGHUP", "SIGTERM while rebuilding",
                                 "SIGINT SIGINT"])
def test_stopping_the_preview_removes_its_folder(make_site: MakeSite, how: str) -> None:
    root = make_site(good_files())
    with preview_server(root, env={"HEALTHSITE_RENDER_SECONDS": "30"}) as s:
        assert get(s.port, "/iron/")[0] == 200
        folders = list(s.tmp.glob("healthsite-preview-*"))
        assert len(folders) == 1 and (folders[0] / "iron" / "index.html").is_file()
        if how.endswith("while rebuilding"):
            (root / "content" / "slow.md").write_text(SLOW, encoding="utf-8")
            time.sleep(1.0)
        for name in how.split():
            if name.startswith("SIG"):
                s.proc.send_signal(getattr(signal, name))
        assert s.proc.wait(timeout=10) == 0
        assert not folders[0].exists()
        assert list(s.tmp.iterdir()) == []
        assert "Traceback" not in s.output()


def test_stopping_it_during_its_first_build_removes_its_folder(make_site: MakeSite) -> None:
    root = make_site({**good_files(), "content/slow.md": SLOW})
    tmp = root.parent / "tmp"
    tmp.mkdir()
    proc = subprocess.Popen([sys.executable, str(REPO / "build.py"), "serve", "--root",
                             str(root), "--port", str(free_port())], stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, text=True,
                            env={**os.environ, "TMPDIR": str(tmp),
                                 "HEALTHSITE_RENDER_SECONDS": "30"})
    for _ in range(100):
        if list(tmp.glob("healthsite-preview-*")):
            break
        time.sleep(0.1)
    time.sleep(1)  # rendering the slow article
    proc.send_signal(signal.SIGTERM)
    out, _ = proc.communicate(timeout=10)
    assert proc.returncode == 0
    assert list(tmp.iterdir()) == []
    assert "Traceback" not in out
