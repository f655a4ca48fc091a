"""Whole builds: output layout, internal links, stable hooks, determinism, atomic writes."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import xml.etree.ElementTree as ET
from collections.abc import Callable
from pathlib import Path
from urllib.parse import unquote, urlsplit

import pytest
from bs4 import BeautifulSoup
from conftest import REPO, build, good_files

from healthsite.pipeline import Options, build_site
from healthsite.publish.output import MARKER, OutputError, check_out_dir, write_site

MakeSite = Callable[..., Path]


@pytest.fixture
def real_site(built_repo_site: Path) -> Path:
    return built_repo_site


def pages(out: Path) -> list[Path]:
    return sorted(out.rglob("*.html"))


def resolve(out: Path, page: Path, url: str) -> tuple[Path | None, str]:
    parts = urlsplit(url)
    if parts.scheme or parts.netloc:
        return None, ""
    path = unquote(parts.path)
    if not path:
        target = page
    elif path.startswith("/"):
        target = out / path.lstrip("/")
    else:
        target = (page.parent / path).resolve()
    if target.is_dir() or path.endswith("/"):
        target = target / "index.html"
    return target, parts.fragment


def test_every_internal_href_and_src_resolves(real_site: Path) -> None:
    ids: dict[Path, set[str]] = {}
    broken = []
    for page in pages(real_site):
        soup = BeautifulSoup(page.read_text(encoding="utf-8"), "html.parser")
        for tag in soup.find_all(href=True) + soup.find_all(src=True):
            url = tag.get("href") or tag.get("src")
            target, fragment = resolve(real_site, page, url)
            if target is None:
                continue
            if not target.is_file():
                broken.append(f"{page.relative_to(real_site)}: {url}")
                continue
            if fragment:
                if target not in ids:
                    doc = BeautifulSoup(target.read_text(encoding="utf-8"), "html.parser")
                    ids[target] = {t["id"] for t in doc.find_all(id=True)}
                if fragment not in ids[target]:
                    broken.append(f"{page.relative_to(real_site)}: {url} (no such id)")
    assert broken == []


def test_site_layout_and_machine_files(real_site: Path) -> None:
    for name in ("index.html", "404.html", "topics/index.html", "topics/iron/index.html",
                 "glossary/index.html", "sitemap.xml", "feed.xml", "robots.txt", MARKER):
        assert (real_site / name).is_file(), name
    css = list((real_site / "static").glob("style.*.css"))
    assert len(css) == 1 and len(css[0].name.split(".")[1]) == 10
    sitemap = ET.parse(real_site / "sitemap.xml").getroot()
    locs = [e.text for e in sitemap.iter("{http://www.sitemaps.org/schemas/sitemap/0.9}loc")]
    assert "https://restless-legs-guide.example.org/iron-and-restless-legs/" in locs
    feed = ET.parse(real_site / "feed.xml").getroot()
    entries = feed.findall("{http://www.w3.org/2005/Atom}entry")
    assert len(entries) >= 20
    assert "Sitemap: https://restless-legs-guide.example.org/sitemap.xml" in (
        real_site / "robots.txt").read_text()


def test_article_pages_carry_the_stable_hooks(real_site: Path) -> None:
    checked = 0
    for page in sorted(real_site.glob("*/index.html")):
        soup = BeautifulSoup(page.read_text(encoding="utf-8"), "html.parser")
        assert len(soup.find_all("h1")) == 1
        if soup.find("article") is None:
            continue  # a site-wide page: search, topic map, glossary, topics
        checked += 1
        dates = soup.find("p", id="review-dates")
        assert dates is not None and len(dates.find_all("time", datetime=True)) == 2, page
        data = json.loads(soup.find("script", type="application/ld+json").string)
        if data["@type"] != "MedicalWebPage":
            continue  # a site page (about, contact…)
        nxt = soup.find("section", id="reading-next")
        links = nxt.find_all("a")
        assert links and all(a.find_next_sibling(class_="reason") for a in links), page
        assert data["lastReviewed"] and data["about"]["@type"] == "MedicalCondition"
    assert checked >= 26


def test_backlinks_section_lists_linking_pages(real_site: Path) -> None:
    page = real_site / "deep-vein-thrombosis" / "index.html"
    soup = BeautifulSoup(page.read_text(encoding="utf-8"), "html.parser")
    titles = [a.get_text() for a in soup.find("section", id="backlinks").find_all("a")]
    assert "Circulation and vein problems" in titles
    # (Preventing DVT links here too, and is suggested to read next: listed there only)
    suggested = [a.get_text() for a in soup.find("section", id="reading-next").find_all("a")]
    assert "Preventing DVT" in suggested and "Preventing DVT" not in titles


def tree_bytes(out: Path) -> dict[str, bytes]:
    return {p.relative_to(out).as_posix(): p.read_bytes() for p in sorted(out.rglob("*"))
            if p.is_file()}


def test_two_builds_are_byte_identical_across_hash_seeds(tmp_path: Path) -> None:
    outs = []
    for seed in ("1", "4242"):
        out = tmp_path / f"out{seed}"
        env = {**os.environ, "PYTHONHASHSEED": seed, "SOURCE_DATE_EPOCH": "1800000000"}
        subprocess.run([sys.executable, "build.py", "build", "--no-cache", "--out", str(out)],
                       cwd=REPO,
                       env=env, check=True, capture_output=True)
        outs.append(tree_bytes(out))
    assert outs[0] == outs[1]
    assert len(outs[0]) > 40


def test_synthetic_site_is_byte_identical_across_hash_seeds(tmp_path: Path) -> None:
    sys.path.insert(0, str(REPO / "bench"))
    from synth import generate

    root = generate(tmp_path / "site", 300)  # many ties between equally scored suggestions
    outs = []
    for seed in ("0", "1", "2"):
        env = {**os.environ, "PYTHONHASHSEED": seed, "SOURCE_DATE_EPOCH": "1800000000"}
        subprocess.run([sys.executable, str(REPO / "build.py"), "build", "--root", str(root),
                        "--out", str(tmp_path / seed)], env=env, check=True, capture_output=True)
        outs.append(tree_bytes(tmp_path / seed))
    assert outs[0] == outs[1] == outs[2]


def test_failed_build_leaves_previous_output_untouched(make_site: MakeSite,
                                                      today: None) -> None:
    root = make_site(good_files())
    out = root / "_site"
    assert not build_site(Options(root=root)).problems.errors
    before = tree_bytes(out)
    (root / "content" / "iron.md").write_text("---\ntitle: [\n---\n")
    result = build_site(Options(root=root))
    assert result.problems.errors
    assert tree_bytes(out) == before


def test_build_failing_while_rendering_leaves_no_half_written_folder(make_site: MakeSite,
                                                                      today: None) -> None:
    root = make_site(good_files())
    out = root / "_site"
    assert not build_site(Options(root=root)).problems.errors
    before = tree_bytes(out)
    shutil.rmtree(root / ".cache")  # no record of the output: pages go to a new folder
    base = root / "templates" / "base.html"
    good = base.read_text()
    base.write_text(good.replace("</head>", '<script src="https://x.example/a.js"></script>'
                                             "</head>"))
    failed = build_site(Options(root=root))
    assert {p.code for p in failed.problems.items()} == {"external-resource"}
    assert failed.counts["pages_rendered"] == 16
    assert tree_bytes(out) == before
    assert sorted(p.name for p in root.iterdir() if p.name.startswith("._site")) == \
        ["._site.lock"]
    base.write_text(good)  # the lock was released: the next build publishes
    assert not build_site(Options(root=root)).problems.errors
    assert tree_bytes(out) == before


def test_output_refuses_dirs_it_does_not_own(make_site: MakeSite) -> None:
    root = make_site(good_files())
    for bad in (root, root.parent, root / "content", root / "templates" / "x"):
        with pytest.raises(OutputError):
            check_out_dir(root, bad)
    stranger = root / "mine"
    stranger.mkdir()
    (stranger / "notes.txt").write_text("keep me")
    with pytest.raises(OutputError, match="not made by healthsite"):
        write_site(root, stranger, {"index.html": b"x"})
    with pytest.raises(OutputError, match="leave the output directory"):
        write_site(root, root / "_site", {"../escape.html": b"x"})
    assert not (root / "escape.html").exists()


def test_glossary_and_topic_pages(make_site: MakeSite, today: None) -> None:
    result = build(make_site(good_files()))
    glossary = result.files["glossary/index.html"].decode()
    assert '<dt id="term-ferritin">Ferritin' in glossary
    topic = result.files["topics/iron/index.html"].decode()
    # the topic's search words are indexed for search, never shown as its names
    assert "Also known as" not in topic
    assert 'data-search-terms="low iron, ferritin"' in topic
    assert 'href="/iron/"' in topic


def test_search_can_be_switched_off(make_site: MakeSite, today: None) -> None:
    from conftest import SITE_YAML

    files = good_files()
    files["site.yaml"] = SITE_YAML + "search: false\n"
    root = make_site(files)
    result = build_site(Options(root=root))
    assert not result.problems.errors
    assert "search/index.html" not in result.files
    assert 'role="search"' not in result.files["iron/index.html"].decode()
    assert not (root / "_site" / "pagefind").exists()


def test_every_page_about_clots_carries_the_same_clot_cards(real_site: Path) -> None:
    """Issue 19: each article page that mentions a blood clot, DVT or PE shows the shared
    urgent and emergency clot cards, byte for byte the same on every page (the urgent one in
    its pregnancy version on the pregnancy pages), and the cards say what the NHS says."""
    import re

    found: dict[str, dict[str, list[str]]] = {"urgent": {}, "emergency": {}}
    about_clots = []
    for page in sorted(real_site.glob("*/index.html")):
        html = page.read_text(encoding="utf-8")
        main = html[html.index("<main"):html.index("</main>")]
        article = 'class="sources"' in html  # (an article lists its sources; site pages not)
        if not article or not re.search(r"(?i)\bblood clots?\b|\bclots?\b|deep vein thrombosis|"
                                        r"pulmonary embolism|\bDVT\b|\bPE\b", main):
            continue
        about_clots.append(page.parent.name)
        for kind in found:
            cards = [c for c in re.findall(
                rf'<div class="care-card care-card--{kind}">.*?</div></div>', main, re.S)
                if "a clot" in c or "lungs" in c]
            assert cards, (page.parent.name, kind)
            found[kind].setdefault(cards[0], []).append(page.parent.name)
    assert len(about_clots) >= 15, about_clots
    (emergency,) = found["emergency"]
    for sign in ("sudden or unexplained breathlessness", "coughing up blood",
                 "feeling faint, or collapsing", "Do not drive yourself"):
        assert sign in emergency
    urgent = {card: sorted(pages) for card, pages in found["urgent"].items()}
    assert len(urgent) == 2
    pregnancy = next(c for c in urgent if "midwife" in c)
    assert urgent[pregnancy] == ["blood-clots-in-pregnancy", "pregnancy-and-restless-legs"]
    standard = next(c for c in urgent if c != pregnancy)
    assert "<li>you have swelling in one leg or arm</li>" in standard
    assert "Do not rub or massage a leg that might have a clot." in standard


def test_reading_next_and_backlinks_never_repeat_and_speak_plainly(real_site: Path) -> None:
    """No article is in both boxes of a page (one suggested to read next, with its reason,
    is not listed again under 'Pages that link here'), and the reasons are plain words."""
    seen = 0
    for page in pages(real_site):
        soup = BeautifulSoup(page.read_text(encoding="utf-8"), "html.parser")
        boxes = [soup.find(id=i) for i in ("reading-next", "backlinks")]
        nxt, back = ({a["href"] for a in box.find_all("a")} if box else set() for box in boxes)
        assert not nxt & back, page
        for reason in (r.get_text() for r in soup.select("#reading-next .reason")):
            seen += 1
            assert not {"Mentioned on this page", "Links to this page", "Editor's pick",
                        ":"} & {reason, *reason.split()}, reason
    assert seen > 30


def test_also_known_as_shows_only_declared_names(real_site: Path) -> None:
    """'Also known as' lists the names an editor declared, never a topic's search words
    ('long journeys, flight socks' are words readers search with, not names of DVT)."""
    dvt = (real_site / "deep-vein-thrombosis" / "index.html").read_text(encoding="utf-8")
    names = BeautifulSoup(dvt, "html.parser").select("p.synonyms")
    assert [p.get_text() for p in names] == ["Also known as: DVT"]
    prevent = (real_site / "preventing-dvt" / "index.html").read_text(encoding="utf-8")
    assert "Also known as" not in prevent and 'data-search-terms="' in prevent
    assert "flight socks" in prevent.split('data-search-terms="')[1].split('"')[0]
