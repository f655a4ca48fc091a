"""What readers get, proven in Debian's Chromium: every page type at phone and desktop widths,
no console errors, no failed or off-site requests, zero axe-core violations (WCAG 2.x A/AA),
a valid document by the Nu HTML Checker, working search, and JSON-LD on every article."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
from browser import ARTIFACTS, WCAG, axe_violations, open_page, require, serve, vnu_jar

PAGE_TYPES = {
    "home": "/",
    "article": "/deep-vein-thrombosis/",
    "topic": "/topics/iron/",
    "topic-index": "/topics/",
    "glossary": "/glossary/",
    "search": "/search/?q=clot",
    "topic-map": "/topic-map/",
    "404": "/404.html",
}


@pytest.fixture(scope="module")
def site(built_repo_site: Path) -> Path:
    return built_repo_site


@pytest.mark.parametrize("width", [360, 390, 1280])
@pytest.mark.parametrize("kind", list(PAGE_TYPES))
def test_page_types_load_cleanly(browser: Any, base_url: str, kind: str, width: int) -> None:
    page, trouble = open_page(browser, base_url + PAGE_TYPES[kind], width)
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"{kind}-{width}.png"), full_page=True)
    assert page.locator("main#content").count() == 1
    assert page.locator("h1").count() == 1
    overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
    page.close()
    assert trouble == []
    assert overflow <= 0, f"the page scrolls sideways at {width} px"


def axe_paths(site: Path) -> list[str]:
    """Every page the build wrote (both editions), and each edition's search page showing
    results."""
    paths = sorted(p.relative_to(site).as_posix() for p in site.rglob("*.html")
                   if "pagefind" not in p.parts)
    return [*paths, "search/?q=clot", "es/search/?q=co%C3%A1gulo"]


@pytest.mark.parametrize("width", [390, 1280])
def test_every_page_has_zero_axe_violations(browser: Any, base_url: str, site: Path,
                                            width: int) -> None:
    """The current axe-core from npm (tests/browser.axe_violations), on a phone and a
    desktop, in light and dark."""
    failures = []
    paths = axe_paths(site)
    assert len(paths) > 40
    assert sum(p.startswith("es/") for p in paths) >= 10  # (the Spanish edition's pages too)
    page = browser.new_page(viewport={"width": width, "height": 900}, bypass_csp=True)
    for rel in paths:
        page.goto(f"{base_url}/{rel}", wait_until="networkidle")
        if "?q=" in rel:
            page.wait_for_selector("#search-results li a", timeout=10_000)
        for scheme in ("light", "dark"):
            page.emulate_media(color_scheme=scheme)
            for v in axe_violations(page, WCAG):
                targets = [n["target"] for n in v["nodes"]][:3]
                failures.append(f"{rel} ({scheme}): {v['id']}: {v['help']} {targets}")
    page.close()
    assert failures == []


def test_search_finds_articles_by_lay_and_clinical_terms(browser: Any, base_url: str) -> None:
    page, trouble = open_page(browser, base_url + "/search/", 1280)
    for term, expected in (("blood clot", "Deep vein thrombosis"),
                           ("thrombosis", "Deep vein thrombosis"),
                           ("ferritin", "Iron")):
        page.fill("#search-q", term)
        page.press("#search-q", "Enter")
        page.wait_for_selector("#search-results li a", timeout=10_000)
        titles = page.locator("#search-results li a").all_inner_texts()
        assert any(expected.lower() in t.lower() for t in titles[:5]), (term, titles)
    assert page.locator(".search-fallback").is_hidden()
    page.close()
    assert trouble == []


def test_language_switcher_moves_between_a_page_and_its_translation(
        browser: Any, base_url: str) -> None:
    page, trouble = open_page(browser, base_url + "/restless-legs-syndrome/", 1280)
    assert page.locator("html").get_attribute("lang") == "en-GB"
    page.click(".language-switcher a[hreflang='es-ES']")
    page.wait_for_load_state("networkidle")
    assert urlsplit(page.url).path == "/es/restless-legs-syndrome/"
    assert page.locator("html").get_attribute("lang") == "es-ES"
    assert page.locator("h1").inner_text().startswith("Síndrome de piernas inquietas")
    assert page.locator(".language-switcher a").get_attribute("lang") == "en-GB"
    page.click(".language-switcher a[hreflang='en-GB']")
    page.wait_for_load_state("networkidle")
    assert urlsplit(page.url).path == "/restless-legs-syndrome/"
    assert page.locator("html").get_attribute("lang") == "en-GB"
    page.goto(base_url + "/iron-and-restless-legs/", wait_until="networkidle")
    assert page.locator(".language-switcher").count() == 0  # (not translated)
    page.close()
    assert trouble == []


def test_each_editions_search_finds_its_own_pages_only(browser: Any, base_url: str) -> None:
    for start, term, want, other in (
            ("/es/search/", "coágulo", "/es/", None),
            ("/es/search/", "DVT", "/es/", None),  # (an English term the Spanish pages have
            # among their topics' search words; the English pages have it too)
            ("/search/", "thrombosis", "/", "/es/")):
        page, trouble = open_page(browser, base_url + start, 1280)
        page.fill("#search-q", term)
        page.press("#search-q", "Enter")
        page.wait_for_selector("#search-results li a", timeout=10_000)
        hrefs = [urlsplit(h).path for h in
                 page.locator("#search-results li a").evaluate_all("as => as.map(a => a.href)")]
        assert hrefs and all(h.startswith(want) for h in hrefs), (start, term, hrefs)
        assert other is None or not any(h.startswith(other) for h in hrefs), (start, hrefs)
        status = page.locator("#search-status").inner_text()
        assert ("resultado" in status) == start.startswith("/es/"), status
        page.close()
        assert trouble == []


def test_search_page_falls_back_without_javascript(browser: Any, base_url: str) -> None:
    context = browser.new_context(java_script_enabled=False)
    page = context.new_page()
    page.goto(base_url + "/search/?q=clot")
    assert page.locator(".search-fallback").is_visible()
    assert page.locator(".search-fallback a[href$='/topics/']").count() == 1
    context.close()


def test_json_ld_on_every_article(site: Path) -> None:
    from bs4 import BeautifulSoup

    count = 0
    for page in sorted(site.glob("*/index.html")):
        soup = BeautifulSoup(page.read_text(encoding="utf-8"), "html.parser")
        if soup.find("article") is None:
            continue
        data = json.loads(soup.find("script", type="application/ld+json").string)
        if data["@type"] == "WebPage":
            continue  # about, contact…: site pages, not medical content
        count += 1
        assert data["@type"] == "MedicalWebPage"
        assert data["lastReviewed"] and data["about"]["name"]
        assert data["medicalAudience"]["audienceType"] == "Patient"
        assert data["citation"] and data["reviewedBy"]["@type"] == "Organization"
    assert count >= 20


def test_nu_html_checker_reports_no_errors(site: Path) -> None:
    jar = vnu_jar()
    require(jar is not None, "the Nu HTML Checker (npm package vnu-jar) with java")
    assert jar is not None
    html = subprocess.run(["java", "-jar", str(jar), "--errors-only", "--skip-non-html",
                           str(site)], capture_output=True, text=True, timeout=600)
    assert html.returncode == 0, html.stderr[-3000:]
    css = subprocess.run(["java", "-jar", str(jar), "--errors-only", "--css",
                          *map(str, sorted((site / "static").glob("*.css")))],
                         capture_output=True, text=True, timeout=600)
    assert css.returncode == 0, css.stderr[-3000:]


def test_a_picture_next_to_an_article_shows_on_a_site_with_a_base_path(
        browser: Any, tmp_path: Path) -> None:
    """`healthsite init`'s site published under /guide/ (a GitHub Pages project site), with
    a wide photo next to an article: it loads (from its srcset), keeps its width and height
    ratio, and is no wider than a 390-pixel phone screen."""
    from PIL import Image

    from healthsite.pipeline import Options, build_site
    from healthsite.start import init_site

    root = tmp_path / "site"
    init_site(root, "Guide")
    config = root / "site.yaml"
    config.write_text(config.read_text().replace("https://health-guide.example.org/",
                                                 "https://org.github.io/guide/"))
    Image.new("RGB", (1600, 800), (0, 94, 184)).save(root / "content" / "veins.jpg")
    article = root / "content" / "blood-clots-in-the-leg.md"
    article.write_text(article.read_text().replace(
        "## Signs of a DVT\n", "## Signs of a DVT\n\n![A drawing of the veins of a leg]"
        "(veins.jpg)\n\n", 1))
    served = tmp_path / "served"
    result = build_site(Options(root=root, out=served / "guide"))
    assert not result.problems.errors, [p.format() for p in result.problems.sorted()]
    with serve(served) as url:
        page, trouble = open_page(browser, f"{url}/guide/blood-clots-in-the-leg/", 390)
        img = page.locator("img[alt='A drawing of the veins of a leg']")
        img.scroll_into_view_if_needed()
        page.wait_for_function("document.querySelector('main img').complete")
        shown = img.evaluate("i => ({natural: i.naturalWidth, width: i.width, height: i.height,"
                             " src: i.currentSrc, w: i.getAttribute('width'),"
                             " h: i.getAttribute('height'), doc: document.documentElement"
                             ".scrollWidth})")
        page.close()
    assert not trouble, trouble
    assert shown["natural"] > 0 and "/guide/images/veins." in shown["src"], shown
    assert (shown["w"], shown["h"]) == ("1600", "800")
    assert 0 < shown["width"] <= 390 and shown["doc"] <= 390, shown
    assert abs(shown["width"] / shown["height"] - 2) < 0.02, shown


def test_an_old_address_lands_on_the_new_page(browser: Any, tmp_path: Path) -> None:
    """An alias's redirect page, published under /guide/, takes the reader to the page."""
    from healthsite.pipeline import Options, build_site
    from healthsite.start import init_site

    root = tmp_path / "site"
    init_site(root, "Guide")
    config = root / "site.yaml"
    config.write_text(config.read_text().replace("https://health-guide.example.org/",
                                                 "https://org.github.io/guide/"))
    article = root / "content" / "blood-clots-in-the-leg.md"
    article.write_text(article.read_text().replace("---\n", "---\naliases: [/dvt/]\n", 1))
    served = tmp_path / "served"
    result = build_site(Options(root=root, out=served / "guide"))
    assert not result.problems.errors, [p.format() for p in result.problems.sorted()]
    with serve(served) as url:
        page = browser.new_page()
        page.goto(f"{url}/guide/dvt/")
        page.wait_for_url(f"{url}/guide/blood-clots-in-the-leg/")
        assert page.locator("h1").inner_text() == "Blood clots in the leg (DVT)"
        page.close()
