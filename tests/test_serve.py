"""The editor's loop: live preview in Debian's Chromium, the error overlay, incremental
rebuilds, watching the sources through inotify (and polling when it cannot), safe paths,
and `new`."""

from __future__ import annotations

import gc
import http.client
import logging
import os
import re
import shutil
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import watchfiles.main
from browser import chromium, free_port, preview_server
from conftest import REPO, good_files, run_cli

from healthsite.errors import Level, Problem
from healthsite.pipeline import Options, build_site
from healthsite.serve import SETTLE_S, Hosts, Preview, Watcher, make_app, resolve
from healthsite.serve.panel import LISTED, panel
from healthsite.serve.problems import (
    EVERY_PAGE,
    Counts,
    Rebuilt,
    Report,
    page_of,
    terminal_lines,
)

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
        # the pages whose inputs did not change are kept from the last build's files, not
        # keyed again (Options.keeps_files)
        assert len(preview.state.pages.kept) > total * 0.9
        # the long-lived preview leaves the cycle collector alone (nothing frozen), so its
        # cyclic garbage does not pile up rebuild after rebuild
        assert gc.get_freeze_count() == 0
        _serves_what_a_build_makes(preview, root)
        # a build with an error is not taken: the next one keeps nothing from it
        broken = root / "content" / "a00501.md"
        text = broken.read_text()
        broken.write_text("---\ntitle: [unclosed\n" + text)
        edit(root / "content" / "a00502.md", "for more.", "for more detail.")
        assert not preview.rebuild()
        broken.write_text(text)
        assert preview.rebuild()
        assert not preview.state.pages.kept  # (every page made or read from the memo)
        _serves_what_a_build_makes(preview, root)
        edit(root / "content" / "a00503.md", "for more.", "for more detail.")
        assert preview.rebuild()
        assert len(preview.state.pages.kept) > total * 0.9
        _serves_what_a_build_makes(preview, root)
    finally:
        preview.close()


def _serves_what_a_build_makes(preview: Preview, root: Path) -> None:
    """The preview's folder holds what a build of the site makes, file for file."""
    full = build_site(Options(root=root, write=False)).files
    assert preview.search.wait(120)  # (its run's folders come and go meanwhile)
    served = {p.relative_to(preview.dir).as_posix(): p.read_bytes()
              for p in preview.dir.rglob("*") if p.is_file()
              and not p.relative_to(preview.dir).parts[0].startswith(".search-")}
    assert served == full


def test_new_article_is_a_draft_and_rejected_until_filled(
        make_site: MakeSite, today: None, capsys: pytest.CaptureFixture[str]) -> None:
    root = make_site(good_files())
    code, _ = run_cli(["new", "Iron: tests & results", "--topics", "iron", "--root",
                       str(root)], capsys)
    assert code == 0
    path = root / "content" / "iron-tests-and-results.md"
    # a draft (issue 21): its problems are notices, which never block the rest
    code, lines = run_cli(["check", "--strict", "--root", str(root)], capsys)
    assert code == 0, lines
    assert any("notice[fm-type]: 'summary' must not be empty" in ln for ln in lines)
    text = "".join(ln for ln in path.read_text().splitlines(keepends=True)
                   if not ln.startswith("draft: true"))
    path.write_text(text)  # to be published: then rejected until filled
    code, lines = run_cli(["check", "--root", str(root)], capsys)
    assert code == 1
    assert any("error[fm-type]: 'summary' must not be empty" in ln for ln in lines)
    assert any("error[min-sources]" in ln for ln in lines)
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
        assert ('<p class="draft-banner" role="status" data-pagefind-ignore>Draft: this page '
                'is not published.</p>') in page
    finally:
        preview.close()
    built = build_site(Options(root=root))
    assert "wip/index.html" not in built.files
    assert not (root / "_site" / "wip").exists()
    assert "/wip/" not in built.files["sitemap.xml"].decode()


# Watching: watchfiles (inotify), a burst of saves settled into one rebuild -------------------

def until(done: Callable[[], object], timeout: float = 10) -> bool:
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if done():
            return True
        time.sleep(0.05)
    return bool(done())


def inotify_instances() -> int:
    """How many inotify instances this process holds (file descriptors on anon_inode:inotify)."""
    count = 0
    for fd in os.listdir("/proc/self/fd"):
        try:
            count += os.readlink(f"/proc/self/fd/{fd}") == "anon_inode:inotify"
        except OSError:  # (the descriptor listdir itself used, closed since)
            pass
    return count


class Watching:
    """A built Preview with its Watcher running, for the watching tests."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.preview = Preview(root)
        self.watcher = Watcher(self.preview, lambda: None)
        self.watcher.begin()
        # once in place, the watch has the site built (as serve() waits for it)
        assert self.watcher.wait_ready(10) and self.watcher.builder.wait(30)
        assert self.preview.builds == 1 and not self.preview.problems

    def page(self, slug: str) -> str:
        return (self.preview.dir / slug / "index.html").read_text(encoding="utf-8")

    def settled(self) -> int:
        """The number of rebuilds once a change has been seen, settled and rebuilt."""
        time.sleep(SETTLE_S + 0.5)
        assert until(lambda: not self.watcher.builder.busy())
        return self.preview.builds


@pytest.fixture
def watching(make_site: MakeSite) -> Iterator[Watching]:
    w = Watching(make_site(good_files()))
    try:
        yield w
    finally:
        w.watcher.close()
        w.preview.close()


def test_a_save_is_seen_through_inotify_not_by_polling(make_site: MakeSite) -> None:
    before = inotify_instances()
    w = Watching(make_site(good_files()))
    try:
        assert not w.watcher.polling
        # the site's folder and its input folders, each watched by one inotify instance
        assert inotify_instances() == before + 2
        builds = w.preview.builds
        edit(w.root / "content" / "iron.md", "Low iron can matter", "Saved in place")
        assert until(lambda: "Saved in place" in w.page("iron"))
        assert w.settled() == builds + 1
    finally:
        w.watcher.close()
        w.preview.close()
    assert until(lambda: inotify_instances() == before)  # closed with the watcher


def test_a_burst_of_saves_is_one_rebuild(watching: Watching) -> None:
    builds = watching.preview.builds
    iron, clots = (watching.root / "content" / f"{name}.md" for name in ("iron", "clots"))
    original = clots.read_text(encoding="utf-8")
    for n in range(20):  # "save all" in an editor, a git checkout
        edit(iron, "Low iron can matter" if n == 0 else f"Save {n - 1}.", f"Save {n}.")
        clots.write_text(original + f"\nClots save {n}.\n", encoding="utf-8")
    assert until(lambda: "Save 19." in watching.page("iron"))
    assert watching.settled() - builds in (1, 2)  # two if the burst straddled a batch
    assert "Clots save 19." in watching.page("clots")


def test_an_atomic_rename_save_is_seen_and_the_watch_survives_it(watching: Watching) -> None:
    """Editors save by writing a temporary file and renaming it over the old one."""
    for n in range(2):
        article = watching.root / "content" / "iron.md"
        scratch = article.with_name(".iron.md.tmp")
        scratch.write_text(article.read_text(encoding="utf-8").replace(
            "Low iron can matter" if n == 0 else "Renamed 0", f"Renamed {n}"), encoding="utf-8")
        os.replace(scratch, article)
        assert until(lambda: f"Renamed {n}" in watching.page("iron")), n  # noqa: B023
        site = watching.root / "site.yaml"  # (watched from the site's folder, not by itself)
        scratch = site.with_name("site.yaml.new")
        scratch.write_text(site.read_text(encoding="utf-8").replace(
            "Test Health Site" if n == 0 else "Renamed site 0", f"Renamed site {n}"),
            encoding="utf-8")
        os.replace(scratch, site)
        assert until(lambda: f"Renamed site {n}" in watching.page("iron")), n  # noqa: B023


def test_a_change_through_a_symlinked_folder_is_seen(make_site: MakeSite) -> None:
    root = make_site(good_files())
    (root / "content").rename(root / "articles")
    (root / "content").symlink_to("articles")  # a link inside the site is read as before
    w = Watching(root)
    try:
        edit(root / "articles" / "iron.md", "Low iron can matter", "Saved in the folder")
        assert until(lambda: "Saved in the folder" in w.page("iron"))
        edit(root / "content" / "iron.md", "Saved in the folder", "Saved through the link")
        assert until(lambda: "Saved through the link" in w.page("iron"))
    finally:
        w.watcher.close()
        w.preview.close()


def test_an_input_folder_removed_and_made_again_is_watched_again(watching: Watching) -> None:
    static = watching.root / "static"
    css = next(static.glob("*.css"))
    css.write_text(css.read_text(encoding="utf-8") + "\n.the-sites-own { color: red }\n")
    assert until(lambda: any(b".the-sites-own" in data for rel, data in
                             watching.preview.files.items() if rel.endswith(".css")))
    kept = watching.root.parent / "static-kept"
    shutil.copytree(static, kept)
    shutil.rmtree(static)  # the theme's stylesheet is used instead (seen: rebuilt)
    assert until(lambda: not any(b".the-sites-own" in data for rel, data in
                                 watching.preview.files.items() if rel.endswith(".css")))
    shutil.copytree(kept, static)
    assert until(lambda: any(b".the-sites-own" in data for rel, data in
                             watching.preview.files.items() if rel.endswith(".css")), 15)
    assert not watching.preview.problems
    # the new folder is watched: a change in it is rebuilt
    css.write_text(css.read_text(encoding="utf-8") + "\n.watched-again { color: red }\n")
    assert until(lambda: any(b".watched-again" in data for rel, data in
                             watching.preview.files.items() if rel.endswith(".css")))
    assert watching.watcher.wait_ready(1) and not watching.watcher.polling


def test_editors_scratch_files_and_the_cache_do_not_rebuild(watching: Watching) -> None:
    builds = watching.preview.builds
    content = watching.root / "content"
    for name in (".iron.md.swp", "4913", "iron.md~", ".#iron.md", "#iron.md#",
                 ".hidden/draft.md"):
        (content / name).parent.mkdir(exist_ok=True)
        (content / name).write_text("scratch")
    (watching.root / ".cache").mkdir(exist_ok=True)
    (watching.root / ".cache" / "anything").write_text("x")
    (watching.root / "_site").mkdir()
    (watching.root / "notes.txt").write_text("not an input")
    assert watching.settled() == builds


def test_it_falls_back_to_polling_when_watchfiles_cannot_watch(
        make_site: MakeSite, monkeypatch: pytest.MonkeyPatch,
        caplog: pytest.LogCaptureFixture) -> None:
    def exhausted(paths: list[str], *args: Any) -> Any:  # as watchfiles says it
        raise OSError(f"OS file watch limit reached. about {paths!r}")

    monkeypatch.setattr(watchfiles.main, "RustNotify", exhausted)
    before = inotify_instances()
    with caplog.at_level(logging.WARNING, logger="healthsite.serve"):
        w = Watching(make_site(good_files()))
    try:
        assert w.watcher.polling and inotify_instances() == before
        warnings = [r.getMessage() for r in caplog.records if r.name == "healthsite.serve"]
        assert len(warnings) == 1, warnings  # said once, for both watches
        assert warnings[0].startswith("cannot watch the sources through inotify (OS file "
                                      "watch limit reached")
        assert "looking at every file every 0.3 s instead" in warnings[0]
        builds = w.preview.builds
        edit(w.root / "content" / "iron.md", "Low iron can matter", "Seen by polling")
        assert until(lambda: "Seen by polling" in w.page("iron"))
        assert w.settled() == builds + 1
    finally:
        w.watcher.close()
        w.preview.close()


def test_the_preview_of_a_new_site_with_the_theme_only(tmp_path: Path) -> None:
    """`healthsite init`'s site, which has no templates/ or static/ of its own, previews
    with the packaged theme, and an edit (a template of its own made) is rebuilt."""
    from healthsite.start import init_site

    root = tmp_path / "site"
    init_site(root, "Preview")
    w = Watching(root)
    try:
        assert "Blood clots in the leg (DVT)" in w.page("blood-clots-in-the-leg")
        assert any(rel.startswith("static/style.") for rel in w.preview.files)
        (root / "templates" / "partials").mkdir(parents=True)
        (root / "templates" / "partials" / "home-intro.html").write_text(
            "<p class=\"own-intro\">Our own words</p>\n")
        assert until(lambda: "own-intro" in (w.preview.dir / "index.html").read_text())
    finally:
        w.watcher.close()
        w.preview.close()


# Every problem in the preview (issue 21): the panel, the terminal, the search index ---------

def built_articles(root: Path) -> Any:
    """The articles of the site at `root` as the preview's build knows them."""
    preview = Preview(root)
    try:
        assert preview.rebuild()
        return preview.report.articles
    finally:
        preview.close()


def problem(path: str, level: Level, code: str, message: str = "something",
            hint: str = "") -> Problem:
    return Problem(path, 3, 10, level, code, message, hint)


def test_a_problem_concerns_its_articles_page_or_every_page(make_site: MakeSite,
                                                            today: None) -> None:
    report = Report(articles=built_articles(make_site(good_files())))
    pages = report.pages
    assert pages["content/iron.md"] == "iron/index.html"
    assert page_of("content/iron.md", pages) == "iron/index.html"
    assert report.url("content/iron.md") == "/iron/"
    for everywhere in ("site.yaml", "templates/base.html", "templates/partials/x.html",
                       "static/style.css", "content/cards/iron-tablets.yaml",
                       "content/glossary.yaml", "healthsite"):
        assert page_of(everywhere, pages) == EVERY_PAGE, everywhere
    # a file that is not an article (a draft whose front matter cannot be read): the page
    # `serve --drafts` makes for it, named after the file, unless an article has that address
    taken = set(pages.values())
    assert page_of("content/unreadable.md", pages, taken) == "unreadable/index.html"
    assert page_of("content/es/unreadable.md", pages, taken) == "unreadable/index.html"
    assert page_of("content/old/iron.md", pages, taken) is None
    assert report.url("content/unreadable.md") is None and report.url("site.yaml") is None


def test_report_lists_each_pages_problems_and_counts_the_sites(make_site: MakeSite,
                                                               today: None) -> None:
    iron = problem("content/iron.md", Level.WARNING, "summary-length")
    clots = problem("content/clots.md", Level.NOTICE, "review-due")
    site = problem("site.yaml", Level.WARNING, "unknown-key")
    lost = problem("content/lost.md", Level.ERROR, "fm-yaml")
    report = Report((clots, iron, lost, site), built_articles(make_site(good_files())))
    assert report.on("iron/index.html") == [iron, site]
    assert report.on("lost/index.html") == [lost, site]
    assert report.on("clots/index.html") == [clots, site]
    assert report.on("index.html") == report.on(None) == [site]
    assert report.counts == Counts(errors=1, warnings=2, notices=1)
    assert report.errors == [lost]
    assert report.counts.line() == "1 error, 2 warnings, 1 notice"
    assert Counts(0, 1, 0).line() == "0 errors, 1 warning"  # (as the command line counts)
    assert Counts(0, 1, 0).short() == "1 warning" and Counts().short() == "no problems"


def test_the_panel_counts_the_sites_problems_and_opens_on_a_page_they_concern(
        make_site: MakeSite, today: None) -> None:
    iron = problem("content/iron.md", Level.WARNING, "summary-length",
                   "the summary has <script>alert(1)</script> 205 characters",
                   "keep it under 160")
    clots = problem("content/clots.md", Level.NOTICE, "review-due")
    report = Report((clots, iron), built_articles(make_site(good_files())))
    on_iron = panel(report, "iron/index.html").decode()
    assert on_iron.startswith('<aside id="healthsite-problems" class="hs-warning" '
                              'aria-label="Problems found by the preview"><details open>'
                              "<summary>Preview: 1 warning, 1 notice (1 on this page)"
                              "</summary>")
    this_page, elsewhere = on_iron.split('<p class="hs-title">')[1:]
    assert this_page.startswith("This page</p>")
    assert ("<li><code>content/iron.md:3:10</code> <strong>warning[summary-length]</strong>"
            " the summary has &lt;script&gt;alert(1)&lt;/script&gt; 205 characters<br>"
            "<em>keep it under 160</em></li>") in this_page  # (no link to the page itself)
    assert elsewhere.startswith("Elsewhere in the site</p>")
    assert '<a href="/clots/"><code>content/clots.md:3:10</code></a> ' \
           "<strong>notice[review-due]</strong>" in elsewhere
    assert "<script>" not in on_iron
    # a page no problem concerns: closed, the site's count, the whole list
    on_home = panel(report, "index.html").decode()
    assert "<details><summary>Preview: 1 warning, 1 notice</summary>" in on_home
    assert '<p class="hs-title">In the site</p>' in on_home and "summary-length" in on_home
    quiet = panel(Report(), None).decode()
    assert 'class="hs-ok"' in quiet and "<summary>Preview: no problems</summary>" in quiet


def test_the_panel_lists_at_most_a_hundred_problems_a_list() -> None:
    many = tuple(problem("site.yaml", Level.WARNING, f"w{n:03}") for n in range(130))
    shown = panel(Report(many), None).decode()
    assert shown.count("<li>") == LISTED == 100
    assert "And 30 more: the terminal that runs the preview lists them all." in shown
    assert "Preview: 130 warnings (130 on this page)" in shown


def test_terminal_lines_are_the_command_lines_then_a_summary() -> None:
    iron = problem("content/iron.md", Level.WARNING, "summary-length", "too long", "cut it")
    draft = problem("content/wip.md", Level.NOTICE, "fm-type", "'summary' must not be empty")
    at = time.mktime((2026, 6, 1, 12, 3, 4, 0, 0, -1))
    summary = {"pages": 13, "articles": 3, "site_pages": 0, "topics": 4, "grade": 8.14}
    report = Report((iron, draft), rebuilt=Rebuilt(True, 0.4123, summary, 2, at))
    assert terminal_lines(report) == [
        "content/iron.md:3:10: warning[summary-length]: too long (cut it)",
        "content/wip.md:3:10: notice[fm-type]: 'summary' must not be empty",
        "0 errors, 1 warning, 1 notice",
        "12:03:04 Rebuilt 13 pages (3 articles, 0 site pages, 4 topics), average reading "
        "grade 8.1 in 0.41 s: 2 files changed"]
    broken = problem("content/iron.md", Level.ERROR, "fm-yaml", "bad")
    failed = Report((broken,), rebuilt=Rebuilt(False, 0.05, {}, 0, at))
    assert terminal_lines(failed)[1:] == [
        "1 error, 0 warnings",
        "12:03:04 Not rebuilt: 1 error in 0.05 s (the preview shows them over every page "
        "until they are fixed)"]
    assert terminal_lines(Report(rebuilt=Rebuilt(True, 0.1, {}, 1, at))) == [
        "12:03:04 Rebuilt in 0.10 s: 1 file changed"]


def wsgi_get(app: Any, path: str) -> tuple[str, bytes]:
    got: dict[str, str] = {}
    environ = {"PATH_INFO": path, "REQUEST_METHOD": "GET", "QUERY_STRING": "",
               "HTTP_HOST": "127.0.0.1:8000"}
    body = b"".join(app(environ, lambda status, headers: got.update(status=status)))
    return got["status"], body


def test_pages_are_served_with_the_panel_that_no_build_writes(make_site: MakeSite,
                                                              today: None) -> None:
    root = make_site(good_files())
    edit(root / "content" / "iron.md", "summary: A short summary of iron.",
         "summary: " + "Iron " * 40)
    preview = Preview(root)
    try:
        assert preview.rebuild()
        app = make_app(preview, Hosts.bound_to("127.0.0.1", 8000))
        status, body = wsgi_get(app, "/iron/")
        assert status == "200 OK"
        head, rest = body.decode().split("</head>")
        assert head.endswith('<link rel="stylesheet" href="/__preview__/preview.css">')
        assert rest.startswith('\n<body><aside id="healthsite-problems" class="hs-warning"')
        assert "<details open><summary>Preview: 1 warning (1 on this page)" in rest
        assert "healthsite-overlay" not in rest  # (only errors block the page)
        assert wsgi_get(app, "/iron/index.html")[1] == body
        assert "<details><summary>Preview: 1 warning</summary>" in \
            wsgi_get(app, "/clots/")[1].decode()
        status, missing = wsgi_get(app, "/nowhere/")
        assert status.startswith("404") and b"Preview: 1 warning</summary>" in missing
        status, style = wsgi_get(app, "/__preview__/preview.css")
        assert status == "200 OK" and b"#healthsite-problems{" in style
        # the folder the preview serves from, and a publishing build, have no panel
        assert b"healthsite-problems" not in (preview.dir / "iron" / "index.html").read_bytes()
    finally:
        preview.close()
    built = build_site(Options(root=root))
    assert not any(b"healthsite-problems" in data or b"__preview__" in data
                   for data in built.files.values())
    assert not any(b"healthsite-problems" in p.read_bytes()
                   for p in (root / "_site").rglob("*.html"))


def test_the_search_index_is_made_again_in_the_background(make_site: MakeSite,
                                                          today: None) -> None:
    root = make_site(good_files())
    preview = Preview(root)
    try:
        assert preview.rebuild()
        assert preview.search.wait(60) and preview.search.runs == 1
        first = preview.search.folders[0]
        assert (first / "pagefind.js").is_file() and first.parent == preview.dir
        app = make_app(preview, Hosts.bound_to("127.0.0.1", 8000))
        status, entry = wsgi_get(app, "/pagefind/pagefind-entry.json")
        assert status == "200 OK" and b'"page_count":' in entry
        for outside in ("/pagefind/../../../etc/passwd", "/pagefind/%2e%2e/%2e%2e/etc/passwd"):
            assert wsgi_get(app, outside)[0].startswith("404")
        # a rebuild that changed no page makes no index
        assert preview.rebuild() and preview.search.wait(60) and preview.search.runs == 1
        # one that did: the rebuild ends at once, the index follows
        edit(root / "content" / "clots.md", "---\n\n", "---\n\nZebrafish words.\n\n")
        assert preview.rebuild()
        assert preview.search.busy()  # (the rebuild did not wait for Pagefind)
        assert preview.search.wait(60) and preview.search.runs == 2
        second = preview.search.folders[0]
        assert preview.search.folders == (second, first)  # (pages loaded before still work)
        assert wsgi_get(app, "/pagefind/pagefind-entry.json")[1] != entry
        # a burst of requests: at most a run each (a run that indexes one shard again now
        # often ends before the next rebuild, so how a burst during a run is folded into
        # one more run is no longer seen here: not tested elsewhere, see the issue-23 note)
        for n in range(5):
            edit(root / "content" / "clots.md", "Zebrafish words" if n == 0 else
                 f"Burst {n - 1}.", f"Burst {n}.")
            assert preview.rebuild()
        assert preview.search.wait(60) and 3 <= preview.search.runs <= 7
        assert sorted(p.name for p in preview.dir.glob(".search-*")) == sorted(
            p.name for p in preview.search.folders)  # (only the two newest are kept)
        assert len(preview.search.folders) == 2 and first not in preview.search.folders
    finally:
        preview.close()
    assert not preview.dir.exists()


def test_the_terminal_shows_each_rebuilds_problems_not_livereloads_lines(
        make_site: MakeSite) -> None:
    root = make_site(good_files())
    with preview_server(root, env={"SOURCE_DATE_EPOCH": "1780272000"}) as served:
        assert raw_get(served.url, "/iron/")[0] == 200
        assert until(lambda: "Rebuilt 13 pages" in served.output())
        edit(root / "content" / "iron.md", "summary: A short summary of iron.",
             "summary: " + "Iron " * 40)
        assert until(lambda: "0 errors, 1 warning\n" in served.output())
        lines = served.output().splitlines()
        at = lines.index("0 errors, 1 warning") - 1
        assert re.fullmatch(r"content/iron\.md:3:10: warning\[summary-length\]: the summary "
                            r"has \d+ characters \(keep it under 160 so search results show "
                            r"it whole\)", lines[at]), lines[at]
        assert lines[at + 1] == "0 errors, 1 warning"
        assert re.fullmatch(r"\d\d:\d\d:\d\d Rebuilt 13 pages \(3 articles, 0 site pages, "
                            r"4 topics\), average reading grade [\d.]+ in [\d.]+ s: "
                            r"\d+ files? changed", lines[at + 2]), lines[at + 2]
    out = served.output()
    assert "waiters" not in out and "Browser Connected" not in out
    assert "Serving on" not in out and "Traceback" not in out
