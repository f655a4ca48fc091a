"""The preview shows every problem (issue 21), proven in a real Chromium against the real
preview server on 127.0.0.1: a warning appears in the panel of its page after a save and
clears after the fix, the panel is accessible and covers nothing, the terminal prints each
rebuild's problems, and the search index follows the edits."""

from __future__ import annotations

import re
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from browser import WCAG, axe_violations, chromium, preview_server
from conftest import good_files

MakeSite = Callable[..., Path]
PINNED = {"SOURCE_DATE_EPOCH": "1780272000"}  # 2026-06-01: no review is due in the test site
SHORT = "summary: A short summary of iron."
LONG = "summary: " + "Iron stores and what they mean for restless legs. " * 4  # over 160


def edit(path: Path, old: str, new: str) -> None:
    text = path.read_text(encoding="utf-8")
    assert old in text
    path.write_text(text.replace(old, new), encoding="utf-8")


@pytest.fixture
def site(make_site: MakeSite) -> Path:
    return make_site(good_files())


def connected(page: Any, url: str) -> None:
    """Open `url` and wait for livereload's client to be connected."""
    page.goto(url, wait_until="networkidle")
    page.wait_for_function("document.querySelector('script[src*=livereload]') !== null")
    page.wait_for_timeout(500)  # (its websocket connects)


def panel_of(page: Any) -> Any:
    return page.locator("#healthsite-problems")


def expect(locator: Any) -> Any:
    """Playwright's `expect` (imported once a browser has started: `chromium` skips the
    tests, or fails them in CI, without Playwright)."""
    from playwright.sync_api import expect as playwrights

    return playwrights(locator)


def violations(page: Any) -> list[str]:
    """The current axe-core's (npm) WCAG 2.x A/AA violations on the page, readably."""
    return [f"{v['id']}: {v['help']} {[n['target'] for n in v['nodes']][:3]}"
            for v in axe_violations(page, WCAG)]


def test_a_warning_shows_in_the_panel_after_a_save_and_clears_after_the_fix(
        site: Path) -> None:
    article = site / "content" / "iron.md"
    with preview_server(site, env=PINNED) as served, chromium() as browser:
        page = browser.new_page(viewport={"width": 1280, "height": 900})
        connected(page, served.url + "/iron/")
        panel = panel_of(page)
        assert panel.locator("summary").inner_text() == "Preview: no problems"
        assert panel.locator("details").get_attribute("open") is None
        edit(article, SHORT, LONG)
        page.wait_for_selector("#healthsite-problems details[open]", timeout=5000)
        assert panel.locator("summary").inner_text() == "Preview: 1 warning (1 on this page)"
        listed = panel.locator("li").all_inner_texts()
        assert len(listed) == 1 and listed[0].startswith(
            "content/iron.md:3:10 warning[summary-length] the summary has "), listed
        assert page.locator("#healthsite-overlay").count() == 0  # (a warning never blocks)
        # another page: the site's count, closed, the warning listed with a link to its page
        page.goto(served.url + "/clots/", wait_until="networkidle")
        assert panel.locator("summary").inner_text() == "Preview: 1 warning"
        assert panel.locator("details").get_attribute("open") is None
        panel.locator("summary").click()
        panel.locator("a", has_text="content/iron.md:3:10").click()
        page.wait_for_url(served.url + "/iron/")
        connected(page, served.url + "/iron/")
        edit(article, LONG, SHORT)  # the fix
        expect(panel.locator("summary")).to_have_text("Preview: no problems", timeout=5000)
        assert panel.locator("details").get_attribute("open") is None
        assert panel.locator("li").count() == 0
    out = served.output()
    assert "warning[summary-length]" in out and "0 errors, 1 warning\n" in out
    assert "waiters" not in out and "Traceback" not in out


def test_the_panel_is_accessible_and_covers_nothing_on_a_phone(site: Path) -> None:
    edit(site / "content" / "iron.md", SHORT, LONG)
    with preview_server(site, env=PINNED) as served, chromium() as browser:
        # (bypass_csp: axe-core goes in as a script the site's policy would refuse)
        page = browser.new_page(viewport={"width": 360, "height": 740}, bypass_csp=True)
        for scheme in ("light", "dark"):
            page.emulate_media(color_scheme=scheme)
            for path in ("/iron/", "/clots/"):
                page.goto(served.url + path, wait_until="networkidle")
                panel_of(page).locator("details").evaluate("d => d.open = true")
                assert violations(page) == [], (scheme, path)
        page.goto(served.url + "/iron/", wait_until="networkidle")
        panel = panel_of(page)
        # in the page's flow, before the content: it moves nothing once shown, covers nothing
        assert panel.evaluate("e => getComputedStyle(e).position") == "static"
        box, main = panel.bounding_box(), page.locator("main").bounding_box()
        assert box is not None and main is not None and box["y"] + box["height"] <= main["y"]
        assert page.evaluate("document.documentElement.scrollWidth - innerWidth") <= 0
        # keyboard: its button comes first, and Enter opens and closes it
        page.keyboard.press("Tab")
        assert page.evaluate("document.activeElement.tagName") == "SUMMARY"
        assert page.evaluate("document.activeElement.closest('#healthsite-problems') "
                             "!== null")
        page.keyboard.press("Enter")
        assert panel.locator("details").get_attribute("open") is None
        page.keyboard.press("Enter")
        assert panel.locator("details").get_attribute("open") == ""
        # closed, it is one line high
        page.keyboard.press("Enter")
        closed = panel.bounding_box()
        assert closed is not None and closed["height"] < 60


def search_titles(page: Any, url: str, term: str) -> list[str]:
    """The titles the search page finds for `term` ([] for none)."""
    page.goto(url + "/search/", wait_until="networkidle")
    page.fill("#search-q", term)
    page.press("#search-q", "Enter")
    try:  # (the status says how many were found once the search has run)
        expect(page.locator("#search-status")).to_have_text(
            re.compile(r"\d|\bno\b", re.I), timeout=10_000)
    except AssertionError:  # no index yet
        return []
    return list(page.locator("#search-results li a").all_inner_texts())


def until_found(page: Any, url: str, term: str, timeout: float = 30) -> list[str]:
    """The titles found for `term` once the index has it (looking again each second)."""
    end = time.monotonic() + timeout
    while True:
        found = search_titles(page, url, term)
        if found or time.monotonic() > end:
            return found
        time.sleep(1)


def test_the_search_index_follows_the_edits(site: Path) -> None:
    with preview_server(site, env=PINNED) as served, chromium() as browser:
        page = browser.new_page()
        assert "Iron" in until_found(page, served.url, "ferritin")  # (the first index)
        assert search_titles(page, served.url, "zebrafish") == []
        edit(site / "content" / "clots.md", "---\n\n", "---\n\nZebrafish are not clots.\n\n")
        assert until_found(page, served.url, "zebrafish") == ["Clots"]
    assert "Traceback" not in served.output()


@pytest.fixture(autouse=True)
def _no_preview_left(site: Path) -> Iterator[None]:
    """Each preview server removes its folders, search indexes included, when stopped."""
    yield
    for tmp in site.parent.glob("tmp-*"):
        assert list(tmp.iterdir()) == [], tmp
