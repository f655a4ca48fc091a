"""The topic map: every title written in full inside its box, fewer crossing lines than
the plain layout (on this repository's site and a synthetic one), the same bytes from the
same graph, links relative to the page, and, in Chromium at 390 and 1280 px, a page that
never scrolls sideways: the list alone on a phone, the picture scaled to fit on a desktop."""

from __future__ import annotations

import dataclasses
import random
import re
from html import unescape
from pathlib import Path
from typing import Any

import pytest
from test_markup import make_article

from healthsite.errors import ProblemList
from healthsite.link.graph import TopicGraph, build_graph, edition_graph
from healthsite.load.config import SiteConfig, Topic, Weights
from healthsite.pages import topicmap
from healthsite.pipeline import Options, build_site
from healthsite.render.markup import Link, Rendered

REPO = Path(__file__).resolve().parent.parent
WORDS = ("restless legs iron ferritin dopamine pregnancy kidney thrombosis compression "
         "stockings anticoagulant medicines augmentation neuropathy").split()


@pytest.fixture(scope="module")
def repo_graph() -> TopicGraph:
    """This repository's own site's graph (both editions)."""
    result = build_site(Options(root=REPO, write=False, cache=False))
    assert result.graph is not None
    return result.graph


def synthetic(n: int = 40, topics: int = 12, seed: int = 5) -> TopicGraph:
    """A graph of `n` articles with long titles in `topics` topics, 4 links each."""
    rng = random.Random(seed)
    tree = tuple(Topic(f"t{i}", f"Topic {' '.join(rng.sample(WORDS, 3))}", "d",
                       None if i < 3 else f"t{i % 3}", (), ()) for i in range(topics))
    config = SiteConfig(
        root=Path("."), title="t", description="d", base_url="https://e.org/", language="en",
        publisher="p", output_dir="_site", services={}, review_interval_months=12,  # type: ignore[arg-type]
        min_sources=0, reading_next_count=5, weights=Weights(1.0, 0.3, 1.5, 1.0),
        target_grade=9, alarm_terms=(), topics=tree, levels={},  # type: ignore[arg-type]
        raw_html="sanitize", footer=(), search=False)
    articles, rendered = [], {}
    for i in range(n):
        a = make_article("x", f"content/a{i:03d}.md", sources=0)
        title = " ".join(rng.sample(WORDS, rng.randint(2, 9))).capitalize()
        a = dataclasses.replace(a, meta=dataclasses.replace(
            a.meta, title=title, topics=(f"t{rng.randrange(topics)}",)))
        articles.append(a)
        links = tuple(Link(f"content/a{rng.randrange(n):03d}.md", "", 1, 1, "x")
                      for _ in range(4))
        rendered[a.slug] = Rendered("", (), links, frozenset(), frozenset(), "", frozenset(), ())
    return build_graph(config, articles, set(), rendered, ProblemList())


def count(graph: TopicGraph, untangle: bool = True) -> int:
    return topicmap.crossings([s for _, _, s in topicmap.layout(graph, untangle).segments])


def texts(svg: str) -> list[list[str]]:
    """Each text element's lines."""
    return [[unescape(t) for t in re.findall(r"<tspan[^>]*>([^<]*)</tspan>", text)]
            for text in re.findall(r"<text[^>]*>(.*?)</text>", svg)]


def test_crossings_counts_lines_that_cross_not_lines_that_meet() -> None:
    assert topicmap.crossings([((0, 0), (10, 10)), ((0, 10), (10, 0))]) == 1
    assert topicmap.crossings([((0, 0), (10, 10)), ((0, 0), (10, 0))]) == 0  # (one end)
    assert topicmap.crossings([((0, 0), (10, 0)), ((0, 5), (10, 5))]) == 0


@pytest.mark.parametrize("key", ["", "es"])
def test_fewer_crossings_on_the_repository_site(repo_graph: TopicGraph, key: str) -> None:
    graph = edition_graph(repo_graph, key)
    before, after = count(graph, untangle=False), count(graph)
    print(f"repository site {key or 'en'}: {before} crossings before, {after} after")
    assert after <= before
    if key == "":  # (measured when written: 687 before, 389 after)
        assert after < before * 0.7


def test_fewer_crossings_on_a_synthetic_site() -> None:
    graph = synthetic()
    before, after = count(graph, untangle=False), count(graph)
    print(f"synthetic site: {before} crossings before, {after} after")
    assert after < before * 0.8


@pytest.mark.parametrize("make", ["repo", "synthetic"])
def test_every_title_is_written_in_full_inside_its_box(repo_graph: TopicGraph,
                                                       make: str) -> None:
    graph = edition_graph(repo_graph, "") if make == "repo" else synthetic()
    svg = topicmap.draw(graph)
    assert "…" not in svg
    written = {" ".join(lines) for lines in texts(svg)}
    shown = {s for m in topicmap.layout(graph).members.values() for s in m[:topicmap.MAX_ROWS]}
    assert {graph.articles[s].title for s in shown} <= written
    assert {graph.topics[t].title for t in topicmap.layout(graph).topics} <= written
    room = topicmap.BOX_W - topicmap.TEXT_X - 10
    for lines in texts(svg):
        assert all(topicmap.text_width(line) <= room for line in lines if " " in line)


def test_the_same_graph_gives_the_same_bytes_and_words_go_through_gettext(
        repo_graph: TopicGraph) -> None:
    graph = edition_graph(repo_graph, "")
    assert topicmap.draw(graph) == topicmap.draw(graph)
    assert topicmap.draw(synthetic()) == topicmap.draw(synthetic())
    marked = topicmap.draw(graph, lambda text: f"[{text}]")
    assert f"[{topicmap.TITLE}]" in marked and "[+ " not in marked  # (no box has 13+)
    assert re.search(r"<desc[^>]*>\[\d+ articles grouped in \d+ topic boxes\.", marked)


def test_a_translations_links_stay_in_its_edition(repo_graph: TopicGraph) -> None:
    svg = topicmap.draw(edition_graph(repo_graph, "es"))
    hrefs = re.findall(r'href="([^"]*)"', svg)
    assert hrefs and all(h.startswith("../") and not h.startswith("../es/") for h in hrefs)
    assert '<a href="../deep-vein-thrombosis/">' in svg


# In Chromium: the page at a phone's and a desktop's width.

FITS = """() => {
  const out = [];
  for (const text of document.querySelectorAll('svg.topic-map text')) {
    const rect = text.closest('g.topic-box').querySelector('rect').getBBox();
    const box = text.getBBox();
    if (box.x + box.width > rect.x + rect.width || box.y + box.height > rect.y + rect.height)
      out.push(text.textContent);
  }
  return out;
}"""


@pytest.mark.parametrize("path", ["/topic-map/", "/es/topic-map/"])
@pytest.mark.parametrize("width", [390, 1280])
def test_the_map_reads_at_a_phones_and_a_desktops_width(browser: Any, base_url: str,
                                                        path: str, width: int) -> None:
    from browser import WCAG, axe_violations

    # (bypass_csp: axe-core goes in as a script the site's policy would refuse)
    page = browser.new_page(viewport={"width": width, "height": 900}, bypass_csp=True)
    page.goto(base_url + path, wait_until="networkidle")
    assert page.evaluate("document.documentElement.scrollWidth <= innerWidth")
    svg, links = page.locator("svg.topic-map"), page.locator(".topic-tree a")
    assert links.count() > 5 and all(links.nth(i).is_visible() for i in range(links.count()))
    if width == 390:  # the list alone, and words that say so
        assert not svg.is_visible() and page.locator(".map-small").is_visible()
    else:  # the picture, scaled into the window, each title inside its box
        box = svg.bounding_box()
        assert svg.is_visible() and box["x"] >= 0 and box["x"] + box["width"] <= width
        assert page.evaluate(FITS) == []
        assert not page.locator(".map-small").is_visible()
    found = axe_violations(page, WCAG)  # (the current axe-core, from npm)
    page.close()
    assert [v["id"] for v in found] == []


def test_a_full_box_says_how_many_more_inside_it() -> None:
    graph = synthetic(n=40, topics=2)
    svg = topicmap.draw(graph, lambda text: f"[{text}]")
    for box in re.findall(r'<g class="topic-box">.*?</g>', svg):
        top, height = map(float, re.search(r'<rect x="\d+" y="(\d+)" width="\d+" '
                                           r'height="(\d+)"', box).groups())  # type: ignore[union-attr]
        ys = [float(y) for y in re.findall(r'<text[^>]* y="(\d+)"', box)]
        assert all(top < y < top + height for y in ys)
        assert re.search(r'<text class="more"[^>]*><tspan[^>]*>\[\+ \d+ more\]</tspan>', box)


def test_crossings_are_counted_as_every_pair_compared_would_count_them() -> None:
    """The count compares only segments whose spans overlap: on random segments (shared
    ends, lines that touch, upright and flat ones among them) it is the count of every pair
    compared with the plain test."""
    def crosses(s: topicmap.Segment, t: topicmap.Segment) -> bool:
        def side(p: tuple[float, float], q: tuple[float, float], r: tuple[float, float]
                 ) -> float:
            return (q[0] - p[0]) * (r[1] - p[1]) - (q[1] - p[1]) * (r[0] - p[0])
        (a, b), (c, d) = s, t
        return side(a, b, c) * side(a, b, d) < 0 and side(c, d, a) * side(c, d, b) < 0

    rng = random.Random(7)
    for trial in range(900):
        # a third anywhere on a grid (many spans: compared pair by pair), the rest between
        # a few upright lines as the map's are (counted by families), a middle one too
        xs = list(range(13)) if trial % 3 == 0 else [0, 5, 6, 11, 12, 8.5][:3 + trial % 4]

        def point() -> tuple[float, float]:
            return float(rng.choice(xs)), rng.randint(0, 24) / 2  # noqa: B023 (used at once)
        segments = [(point(), point()) for _ in range(rng.randint(0, 50))]
        expected = sum(crosses(p, q) for i, p in enumerate(segments)
                       for q in segments[i + 1:])
        assert topicmap.crossings(segments) == expected
        assert topicmap._pairwise(segments) == expected


def test_a_maps_crossings_are_counted_by_families_as_pair_by_pair() -> None:
    for n, topics, seed in [(300, 20, 2), (500, 9, 3), (1000, 60, 1)]:
        segments = [s for _, _, s in topicmap.layout(synthetic(n=n, topics=topics,
                                                               seed=seed)).segments]
        assert len({(min(p[0], q[0]), max(p[0], q[0])) for p, q in segments}) \
            <= topicmap.FAMILIES  # (so not compared pair by pair)
        assert topicmap.crossings(segments) == topicmap._pairwise(segments) > 0


def every_sweep(graph: TopicGraph) -> topicmap.Plan:
    """The map's plan as `layout` made it before it stopped sweeping early: every sweep
    tried, each counted, the best kept."""
    groups = topicmap._groups(graph)
    topics = [t for t in topicmap.tree_order(graph) if t in groups]
    members = {t: sorted(groups[t]) for t in topics}
    pairs = topicmap._pairs(graph, {s for m in members.values()
                                    for s in m[:topicmap.MAX_ROWS]})
    best = topicmap._place(graph, topics, members, pairs, True)
    if len(pairs) ** 2 * len(topics) <= topicmap.SWAP_WORK:
        best = topicmap._swap_boxes(graph, best, pairs)
    for _ in range(topicmap.SWEEPS):
        members = topicmap._barycentre(members, best.nodes, pairs)
        tried = topicmap._place(graph, best.topics, members, pairs, True)
        if topicmap._count(tried) < topicmap._count(best):
            best = tried
    return best


@pytest.mark.parametrize("n,topics,seed", [(40, 12, 5), (120, 6, 1), (300, 20, 2),
                                           (500, 9, 3), (60, 3, 4)])
def test_stopping_early_draws_the_map_every_sweep_would(n: int, topics: int,
                                                        seed: int) -> None:
    """`layout` stops sweeping once a sweep repeats the best arrangement or the last one
    tried: the plan is the one every sweep tried and counted gives."""
    graph = synthetic(n=n, topics=topics, seed=seed)
    assert topicmap.layout(graph) == every_sweep(graph)


def test_stopping_early_draws_this_sites_map_every_sweep_would(repo_graph: TopicGraph
                                                               ) -> None:
    for key in ("", "es"):
        graph = edition_graph(repo_graph, key)
        assert topicmap.layout(graph) == every_sweep(graph)
