"""The editor's loop: live preview in Debian's Chromium, the error overlay, incremental
rebuilds, safe paths, and `new`."""

from __future__ import annotations

import gc
import http.client
import shutil
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from browser import chromium, free_port, preview_server
from conftest import REPO, good_files, run_cli

from healthsite.pipeline import Options, build_site
from healthsite.serve import Preview, resolve

MakeSite = Callable[..., Path]


@pytest.fixture
def server(make_site: MakeSite) -> Iterator[tuple[str, Path, subprocess.Popen[str]]]:
    root = make_site(good_files())
    with preview_server(root) as served:
        yield served.url, root, served.proc


def edit(path: Path, old: str, new: str) -> None:
    path.write_text(path.read_text(encoding="utf-8").replace(old, new), encoding="utf-8")


def test_saves_reload_the_browser(server: tuple[str, Path, subprocess.Popen[str]]) -> None:
    url, root, proc = server
    article = root / "content" / "iron.md"
    with chromium() as browser:
        page = browser.new_page()
        page.goto(url + "/iron/")
        page.wait_for_function("document.querySelector('script[src*=livereload]') !== null")
        page.wait_for_timeout(500)  # let livereload.js connect its websocket
        edit(article, "Low iron can matter", "Iron stores matter a lot")
        page.wait_for_selector("text=Iron stores matter a lot", timeout=3000)
        edit(article, "Iron stores matter a lot", "First quick save")
        time.sleep(0.5)
        edit(article, "First quick save", "Second quick save")
        page.wait_for_selector("text=Second quick save", timeout=3000)
        page.wait_for_timeout(1000)
        assert page.locator("text=Second quick save").count() == 1
        assert page.locator("text=First quick save").count() == 0
    assert proc.poll() is None


def test_broken_yaml_shows_an_overlay_until_fixed(
        server: tuple[str, Path, subprocess.Popen[str]]) -> None:
    url, root, proc = server
    article = root / "content" / "iron.md"
    with chromium() as browser:
        page = browser.new_page()
        page.goto(url + "/iron/")
        page.wait_for_timeout(500)
        edit(article, "title: Iron", "title: Iron: broken")
        overlay = page.locator("#healthsite-overlay")
        overlay.wait_for(timeout=3000)
        assert "content/iron.md:2:12" in overlay.inner_text()
        assert "a ': ' inside an unquoted value" in overlay.inner_text()
        page.goto(url + "/clots/")  # every page shows it
        assert page.locator("#healthsite-overlay").count() == 1
        edit(article, "title: Iron: broken", "title: Iron")
        page.wait_for_selector("#healthsite-overlay", state="detached", timeout=3000)
    assert proc.poll() is None


def raw_get(url: str, path: str) -> tuple[int, bytes]:
    host, port = url.removeprefix("http://").split(":")
    conn = http.client.HTTPConnection(host, int(port), timeout=5)
    try:
        conn.putrequest("GET", path, skip_accept_encoding=True)
        conn.endheaders()
        response = conn.getresponse()
        return response.status, response.read()
    finally:
        conn.close()


def test_requests_never_leave_the_preview_folder(
        server: tuple[str, Path, subprocess.Popen[str]]) -> None:
    url, root, _ = server
    (root.parent / "secret.txt").write_text("TOP SECRET")
    for path in ("/../secret.txt", "/%2e%2e/secret.txt", "/..%2fsecret.txt",
                 "/%2e%2e%2f%2e%2e%2fsecret.txt", "//etc/passwd", "/etc/passwd",
                 "/iron/%00.html", "/static/..%5c..%5csecret.txt", "/content/iron.md",
                 "/site.yaml"):
        status, body = raw_get(url, path)
        assert status == 404, path
        assert b"TOP SECRET" not in body and b"root:" not in body
    assert raw_get(url, "/iron/")[0] == 200


def test_resolve_stays_inside(tmp_path: Path) -> None:
    (tmp_path / "site" / "a").mkdir(parents=True)
    (tmp_path / "site" / "a" / "index.html").write_text("x")
    (tmp_path / "outside.html").write_text("x")
    base = tmp_path / "site"
    assert resolve(base, "/a/") == (base / "a" / "index.html").resolve()
    for bad in ("/../outside.html", "/a/../../outside.html", "/%2e%2e/outside.html",
                f"/{tmp_path}/outside.html", "/a/\0"):
        assert resolve(base, bad) is None, bad
    (base / "link").symlink_to(tmp_path)
    assert resolve(base, "/link/outside.html") is None


def test_editing_one_article_rebuilds_under_10_percent(tmp_path: Path) -> None:
    sys.path.insert(0, str(REPO / "bench"))
    from synth import generate

    root = generate(tmp_path / "site", 1000)
    preview = Preview(root)
    try:
        assert preview.rebuild()
        total = len([k for k in preview.files if k.endswith(".html")])
        edit(root / "content" / "a00500.md", "for more.", "for more detail.")
        assert preview.rebuild()
        assert preview.state.render_cache.misses == 1
        assert preview.state.pages.rendered < total / 10
        # a build freezes what it made; the long-lived preview hands it back to the
        # cycle collector, so its cyclic garbage does not pile up rebuild after rebuild
        assert gc.get_freeze_count() == 0
        full = build_site(Options(root=root, write=False)).files
        served = {p.relative_to(preview.dir).as_posix(): p.read_bytes()
                  for p in preview.dir.rglob("*") if p.is_file()
                  and "pagefind" not in p.relative_to(preview.dir).parts}
        assert served == full
    finally:
        preview.close()


def test_new_article_is_rejected_until_filled(make_site: MakeSite, today: None,
                                              capsys: pytest.CaptureFixture[str]) -> None:
    root = make_site(good_files())
    code, _ = run_cli(["new", "Iron: tests & results", "--topics", "iron", "--root",
                       str(root)], capsys)
    assert code == 0
    path = root / "content" / "iron-tests-and-results.md"
    code, lines = run_cli(["check", "--root", str(root)], capsys)
    assert code == 1
    assert any("error[fm-type]: 'summary' must not be empty" in ln for ln in lines)
    assert any("error[min-sources]" in ln for ln in lines)
    text = path.read_text()
    text = text.replace('summary: ""', "summary: What the iron tests show.").replace(
        "sources: []", "sources:\n  - {title: A, publisher: NHS, year: 2024}\n"
                       "  - {title: B, publisher: NICE, year: 2023}")
    text += "\nSee [iron](iron.md) and [clots](clots.md).\n"
    path.write_text(text)
    code, lines = run_cli(["check", "--strict", "--root", str(root)], capsys)
    assert code == 0, lines
    assert run_cli(["new", "Iron: tests & results", "--root", str(root)], capsys)[0] == 1
    assert run_cli(["new", "X", "--topics", "irn", "--root", str(root)], capsys)[0] == 2


def test_serve_warns_on_non_loopback_host(make_site: MakeSite) -> None:
    root = make_site(good_files())
    port = free_port()
    proc = subprocess.Popen([sys.executable, str(REPO / "build.py"), "serve", "--root",
                             str(root), "--port", str(port), "--host", "127.0.0.2"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        time.sleep(3)
    finally:
        proc.terminate()
        _, err = proc.communicate(timeout=10)
    assert "warning: serving on 127.0.0.2" in err
    shutil.rmtree(root / "_site", ignore_errors=True)


def test_drafts_show_a_banner_in_preview_and_are_never_published(make_site: MakeSite,
                                                                  today: None) -> None:
    files = good_files()
    files["content/wip.md"] = files["content/iron.md"].replace(
        "title: Iron", "title: Work in progress").replace("---\n\n", "draft: true\n---\n\n")
    root = make_site(files)
    preview = Preview(root, drafts=True)
    try:
        assert preview.rebuild()
        page = (preview.dir / "wip" / "index.html").read_text()
        assert '<p class="draft-banner" role="status">Draft: this page is not published.</p>' \
            in page
    finally:
        preview.close()
    built = build_site(Options(root=root))
    assert "wip/index.html" not in built.files
    assert not (root / "_site" / "wip").exists()
    assert "/wip/" not in built.files["sitemap.xml"].decode()
