"""Search that finds (issue 22, point 4): every result reachable, articles before topic and
other pages, no citation marks or interface text in the index and its excerpts, and "did
you mean" from the site's own words, per language edition. Unit tests of the vocabulary,
then the repository's site in Debian's Chromium at desktop and phone widths."""

from __future__ import annotations

import json
import re
import time
from html import unescape
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
from browser import ARTIFACTS, open_page, serve

from healthsite.publish.search import EXCLUDED
from healthsite.publish.vocabulary import file_name, ordered, page_words, write_vocabulary

REPO = Path(__file__).resolve().parent.parent
WIDTHS = [390, 1280]
PAGE = """<!doctype html><html lang="{lang}"><head><title>x</title>
<script>var notWords = 1;</script></head><body>
<nav>Skip navigation menu</nav>
<article data-pagefind-body><h1>Ferritin levels</h1>
<p>Low ferritin causes cramps<sup class="cite"><a href="#s">[2]</a><b>citemark</b></sup>.
<p>Unclosed paragraph with iron<br>and more
<p id="review-dates" data-pagefind-ignore>Page last reviewed: today</p>
<span hidden data-pagefind-index-attrs="data-search-terms"
 data-search-terms="anaemia, tiredness"></span>
</article>
<footer>Footer words</footer></body></html>"""


# --- the vocabulary (publish/vocabulary.py) ---

def test_page_words_are_what_pagefind_indexes() -> None:
    language, words = page_words(PAGE.format(lang="en-GB"))
    assert language == "en-GB"
    assert {"ferritin", "levels", "low", "causes", "cramps", "unclosed", "iron", "more",
            "anaemia", "tiredness"} <= set(words)
    assert words["ferritin"] == 2
    # outside the body, ignored, scripts, numbers and words under three letters: left out
    assert not {"skip", "navigation", "footer", "words", "page", "reviewed", "today",
                "notwords", "var", "citemark"} & set(words)
    assert not any(re.search(r"[\d_]", w) for w in words)


def test_a_page_without_an_indexed_body_has_no_words() -> None:
    assert page_words("<html lang='en'><body><p>Hello there</p></body></html>")[1] == {}


def test_each_edition_has_its_own_vocabulary(tmp_path: Path) -> None:
    (tmp_path / "a").mkdir()
    (tmp_path / "es" / "a").mkdir(parents=True)
    (tmp_path / "pagefind").mkdir()
    (tmp_path / "a" / "index.html").write_text(PAGE.format(lang="en-GB"), encoding="utf-8")
    (tmp_path / "es" / "a" / "index.html").write_text(
        PAGE.format(lang="es-ES").replace("Ferritin levels", "Ferritina baja"),
        encoding="utf-8")
    (tmp_path / "pagefind" / "x.html").write_text(PAGE.format(lang="fr"), encoding="utf-8")
    written = write_vocabulary(tmp_path, tmp_path / "pagefind")
    assert [p.name for p in written] == [file_name("en-GB"), file_name("es-ES")]
    english = json.loads(written[0].read_text(encoding="utf-8"))
    spanish = json.loads(written[1].read_text(encoding="utf-8"))
    assert english[0] == "ferritin" and "ferritina" not in english
    assert "ferritina" in spanish and "baja" in spanish


def test_the_vocabulary_is_in_a_set_order() -> None:
    from collections import Counter
    assert ordered(Counter({"b": 2, "a": 2, "c": 5})) == ["c", "a", "b"]


def test_the_built_site_has_each_editions_vocabulary(site: Path) -> None:
    english = json.loads((site / "pagefind" / file_name("en-GB")).read_text(encoding="utf-8"))
    spanish = json.loads((site / "pagefind" / file_name("es-ES")).read_text(encoding="utf-8"))
    assert "ferritin" in english and "thrombosis" in english
    assert "coágulo" in spanish and "coágulo" not in english
    # an article's interface text (review dates, the Sources heading) is not its words
    html = (site / "deep-vein-thrombosis" / "index.html").read_text(encoding="utf-8")
    words = page_words(html)[1]
    assert "thrombosis" in words and "sources" not in words and "due" not in words


def test_citation_marks_are_kept_out_of_the_index() -> None:
    html = (REPO / "content" / "deep-vein-thrombosis.md").read_text(encoding="utf-8")
    assert "[^1]" in html and "sup.cite" in EXCLUDED  # (markup.py's citation marks)


# --- in the browser ---

@pytest.fixture(scope="module")
def site(built_repo_site: Path) -> Path:
    return built_repo_site


def search(browser: Any, url: str, width: int, query: str) -> tuple[Any, list[str]]:
    """Open the search page at `url`, search for `query` and wait for its status; return
    the page and every console error or failed request."""
    page, trouble = open_page(browser, url, width)
    page.fill("#search-q", query)
    page.press("#search-q", "Enter")
    until(page, "/[”»]/.test(document.getElementById('search-status').textContent)")
    page.wait_for_load_state("networkidle")
    return page, trouble


def until(page: Any, condition: str, seconds: float = 10) -> None:
    """Wait for a JavaScript condition (polled with evaluate: the pages' CSP forbids the
    eval that wait_for_function's string predicates use)."""
    deadline = time.monotonic() + seconds
    while not page.evaluate(condition):
        assert time.monotonic() < deadline, f"timed out waiting for {condition}"
        page.wait_for_timeout(50)


def hrefs(page: Any) -> list[str]:
    return [urlsplit(h).path for h in
            page.locator("#search-results li > a").evaluate_all("as => as.map(a => a.href)")]


def all_results(page: Any) -> list[str]:
    """Press "Show more results" until it goes; return every result's path."""
    more = page.locator(".search-more")
    for _ in range(20):
        if not more.is_visible():
            break
        before = len(hrefs(page))
        more.click()
        until(page, f"document.querySelectorAll('#search-results li').length > {before}")
    return hrefs(page)


def count_in(status: str) -> int:
    """The number of results a status line gives (the last number before 'results')."""
    return int(re.findall(r"(\d+) result", status)[-1])


@pytest.mark.parametrize("width", WIDTHS)
def test_every_result_for_blood_clot_is_reachable(browser: Any, base_url: str,
                                                  width: int) -> None:
    page, trouble = search(browser, base_url + "/search/", width, "blood clot")
    status = page.locator("#search-status").inner_text()
    total = count_in(status)
    assert total > 12, status  # (so that there is more than one page of results)
    assert len(hrefs(page)) == 12 and status.startswith("Showing 12 of")
    assert page.locator(".search-more").is_visible()
    page.locator(".search-more").focus()
    page.keyboard.press("Enter")  # (a real button: the keyboard works)
    until(page, "document.querySelectorAll('#search-results li').length > 12")
    focused = page.evaluate("document.activeElement.getAttribute('href')")
    assert focused == hrefs(page)[12] and focused  # (focus on the first new result)
    found = all_results(page)
    assert len(found) == total == len(set(found)), found
    assert page.locator(".search-more").is_hidden()
    assert page.locator("#search-status").inner_text() == f"{total} results for “blood clot”"
    overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"search-all-{width}.png"), full_page=True)
    page.close()
    assert trouble == [] and overflow <= 0


@pytest.mark.parametrize("width", WIDTHS)
def test_articles_come_before_topic_and_other_pages(browser: Any, base_url: str,
                                                   site: Path, width: int) -> None:
    page, trouble = search(browser, base_url + "/search/", width, "blood clot")
    found = all_results(page)
    page.close()
    # (only health articles carry the filter kind:article: see search.js)
    articles = ['data-pagefind-filter="kind:article"' in (site / h.strip("/") / "index.html")
                .read_text(encoding="utf-8") for h in found]
    assert True in articles and False in articles, found
    assert any(h.startswith("/topics/") for h in found), found
    assert articles == sorted(articles, reverse=True), found  # (articles, then the others)
    assert trouble == []


def source_titles(site: Path) -> set[str]:
    """The titles of the sources the site's articles list, less any that the pages also
    say outside their lists (an article's title can be a source's: "Deep vein thrombosis
    (DVT)")."""
    titles: set[str] = set()
    said = []
    for page in site.rglob("index.html"):
        html = page.read_text("utf-8")
        listed = re.search(r'<section class="sources".*?</section>', html, re.S)
        for item in re.findall(r"<li[^>]*>(.*?)</li>", listed.group(0) if listed else "", re.S):
            titles.add(unescape(re.sub(r"<[^>]+>", "", item).split(". ")[0].strip()))
        main = re.search(r"<main.*?</main>", html, re.S)  # (not the head's JSON-LD)
        shown = main.group(0) if main else ""
        said.append(unescape(re.sub(r"<[^>]+>", " ", shown.replace(listed.group(0), "")
                                    if listed else shown)))
    text = re.sub(r"\s+", " ", " ".join(said))
    return {t for t in titles if t not in text}


@pytest.mark.parametrize("width", WIDTHS)
def test_no_excerpt_has_citation_marks_interface_text_or_sources(
        browser: Any, base_url: str, site: Path, width: int) -> None:
    """Nor the list of sources: searched, its titles matched most searches ("syndrome",
    "review", "guideline") and filled their excerpts."""
    titles = source_titles(site)
    assert len(titles) > 50
    for query in ("blood clot", "cramps", "iron", "reviewed", "syndrome", "guideline"):
        page, trouble = search(browser, base_url + "/search/", width, query)
        all_results(page)
        excerpts = page.locator("#search-results li > p").all_inner_texts()
        page.close()
        assert trouble == []
        assert not [e for e in excerpts if re.search(r"\[\d+\]", e)], (query, excerpts)
        assert not [e for e in excerpts if "Next review due" in e or "Page last reviewed"
                    in e], (query, excerpts)
        assert not [(e, t) for e in excerpts for t in titles if t in e], query
        if query != "reviewed":
            assert excerpts, query


def test_the_index_loads_when_a_reader_comes_to_the_box(browser: Any, site: Path) -> None:
    """Nothing of Pagefind is fetched with the page; coming to the search box starts loading
    it, and typing loads the index's part for the words typed, before any search is asked:
    the search then waits for little. (Pagefind fetches from a web worker, whose requests
    the page's events miss: the server counts them.)"""
    fetched: list[str] = []
    with serve(site, fetched) as base:
        page, trouble = open_page(browser, base + "/search/", 1280)

        def fetching(ending: str, more_than: int = 0) -> int:
            """Wait until more than `more_than` requests for files ending so have been
            made; return how many."""
            deadline = time.monotonic() + 10
            while (n := len([p for p in fetched if p.endswith(ending)])) <= more_than:
                assert time.monotonic() < deadline, (ending, fetched)
                page.wait_for_timeout(50)
            return n

        page.wait_for_timeout(300)
        assert not [p for p in fetched if "/pagefind/" in p]
        page.focus("#search-q")
        fetching("/pagefind/pagefind-entry.json")
        page.wait_for_load_state("networkidle")
        page.wait_for_timeout(300)
        chunks = len([p for p in fetched if p.endswith(".pf_index")])
        page.keyboard.type("ferritin")
        fetching(".pf_index", chunks)
        assert page.inner_text("#search-status") == ""  # (no search was asked)
        page.close()
    assert trouble == []


@pytest.mark.parametrize("width", WIDTHS)
def test_a_misspelling_offers_the_sites_word(browser: Any, base_url: str, width: int) -> None:
    page, trouble = search(browser, base_url + "/search/", width, "ferritn")
    offer = page.locator(".search-suggestion")
    offer.wait_for(state="visible", timeout=10_000)
    assert offer.inner_text() == "Did you mean ferritin?"
    link = offer.locator("a")
    assert link.inner_text() == "ferritin"
    assert "q=ferritin" in (link.get_attribute("href") or "")
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"search-did-you-mean-{width}.png"), full_page=True)
    link.click()
    page.wait_for_selector("#search-results li a", timeout=10_000)
    assert page.input_value("#search-q") == "ferritin"
    assert "q=ferritin" in page.url
    assert offer.is_hidden()
    assert any("iron" in t.lower() for t in
               page.locator("#search-results li > a").all_inner_texts())
    overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
    page.close()
    assert trouble == [] and overflow <= 0


def test_a_well_spelt_search_offers_nothing(browser: Any, base_url: str) -> None:
    page, trouble = search(browser, base_url + "/search/", 1280, "ferritin")
    page.wait_for_timeout(300)
    assert page.locator(".search-suggestion").is_hidden()
    page.close()
    assert trouble == []


@pytest.mark.parametrize("width", WIDTHS)
def test_the_spanish_edition_suggests_its_own_words(browser: Any, base_url: str,
                                                    width: int) -> None:
    page, trouble = search(browser, base_url + "/es/search/", width, "coagluo")
    offer = page.locator(".search-suggestion")
    offer.wait_for(state="visible", timeout=10_000)
    assert offer.inner_text().startswith("¿Quería decir ")
    spelling = offer.locator("a").inner_text()
    assert spelling == "coágulo", spelling
    offer.locator("a").click()
    page.wait_for_selector("#search-results li a", timeout=10_000)
    found = all_results(page)
    assert found and all(h.startswith("/es/") for h in found), found
    assert "resultado" in page.locator("#search-status").inner_text()
    page.close()
    assert trouble == []
