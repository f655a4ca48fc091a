"""The pages stage (healthsite.pages): a pure plan of page specs, the renderer with no cache,
and the incremental layer's route (healthsite.incremental.pages) agreeing with it."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

import pytest
from conftest import REPO

from healthsite.errors import ProblemList
from healthsite.incremental.pages import PageCache, PageMemo, render
from healthsite.link.graph import TopicGraph, edition_graph
from healthsite.link.related import ReadingNext
from healthsite.load.config import SiteConfig
from healthsite.pages import (
    Bodies,
    PageSpec,
    Plan,
    plan_pages,
    render_plan,
    render_site,
)
from healthsite.pages.templating import TEMPLATES, Templates, load_templates, static_files
from healthsite.pipeline import Options, build_site, surroundings
from healthsite.render.markup import Rendered, Surroundings

Stages = tuple[SiteConfig, TopicGraph, ReadingNext, Mapping[str, Surroundings], Templates]


@pytest.fixture(scope="module")
def stages() -> Stages:
    """What the stages before the pages made of the repository's own site."""
    result = build_site(Options(root=REPO, write=False, cache=False))
    assert result.config and result.graph and result.reading_next
    tpl = load_templates(REPO, ProblemList())
    assert tpl is not None
    return (result.config, result.graph, result.reading_next,
            surroundings(result.config, ProblemList()), tpl)


def _plan(stages: Stages, bodies: Bodies | None = None) -> Plan:
    config, graph, nxt, glossary, _ = stages
    return plan_pages(config, graph, nxt, glossary, static_files(config.root), bodies)


def _never(slug: str) -> Rendered:
    raise AssertionError(f"{slug}'s body was asked for while planning")


def test_planning_renders_nothing_and_is_repeatable(stages: Stages) -> None:
    config, graph, *_ = stages
    bodies = Bodies.of(graph)
    plan = _plan(stages, Bodies(_never, bodies.key))  # no view is made while planning
    again = _plan(stages)
    paths = [s.path for s in plan.specs]
    # each edition's topics and own pages (7 each), and the sitemap and robots.txt
    topics = sum(len(edition_graph(graph, e.key, not e.default).topics)
                 for e in config.all_editions)
    assert len(paths) == len(set(paths)) == \
        topics + len(graph.articles) + 7 * len(config.all_editions) + 2
    assert {s.template for s in plan.specs} <= set(TEMPLATES)
    assert [(s.path, s.template, s.what, s.inputs(), s.covered, s.own) for s in plan.specs] \
        == [(s.path, s.template, s.what, s.inputs(), s.covered, s.own) for s in again.specs]
    assert plan.shared == again.shared and plan.files == again.files
    # every article page declares its own inputs (source and body) for the shortcut
    assert all(s.own for s in plan.specs if s.template == "article.html")


def test_the_renderer_makes_what_the_build_makes(stages: Stages) -> None:
    config, graph, nxt, glossary, tpl = stages
    built = build_site(Options(root=REPO, write=False, cache=False))
    problems = ProblemList()
    assert render_site(config, graph, nxt, glossary, tpl, problems) == built.files
    assert not problems.items()


def test_the_cached_route_agrees_with_the_renderer_and_reuses_pages(stages: Stages) -> None:
    plan, tpl = _plan(stages), stages[4]
    reference = render_plan(plan, tpl, ProblemList())
    memo = PageMemo()
    assert render(plan, tpl, ProblemList(), PageCache(memo)) == reference
    assert memo.rendered == len(plan.specs)
    assert render(plan, tpl, ProblemList(), PageCache(memo)) == reference
    assert memo.rendered == 0  # every page from memory (as in the preview)
    # one page's declared inputs changed: only it is rendered again
    changed = plan.specs[0]._replace(inputs=lambda: "something else")
    assert render(Plan(plan.site, plan.files, plan.shared, (changed, *plan.specs[1:])), tpl,
                  ProblemList(), PageCache(memo)) == reference
    assert memo.fresh == {changed.path}
    # a page gone from the plan is gone from the memo
    render(Plan(plan.site, plan.files, plan.shared, plan.specs[1:]), tpl, ProblemList(),
           PageCache(memo))
    assert changed.path not in memo.pages


def _spec(path: str, inputs: list[str], own: str = "", covered: bool = True) -> PageSpec:
    """A page made from `robots.txt`, whose key is asked for through `inputs`."""

    def declared() -> str:
        inputs.append(path)
        return "the same"

    return PageSpec(path, "robots.txt", path, lambda: {"site": {"base_url": "/"}}, declared,
                    covered, own)


def test_the_shortcut_keeps_covered_pages_without_keying_them(stages: Stages,
                                                             tmp_path: Path) -> None:
    """Knowing pages only as specs: with the graph digest (`links`) and the shared parts as
    they were and the previous output intact, a covered page whose `own` inputs are the same
    is kept unread and unkeyed; the others are keyed (and kept, when their key is the
    same)."""
    tpl, keyed = stages[4], list[str]()
    plan = Plan({}, {}, "shared", (_spec("a.txt", keyed, "a"), _spec("b.txt", keyed, "b"),
                                   _spec("c.txt", keyed, covered=False)))
    memo = PageMemo()
    first = render(plan, tpl, ProblemList(), PageCache(memo, links="L"))
    assert sorted(first) == ["a.txt", "b.txt", "c.txt"] and sorted(keyed) == sorted(first)
    for path, data in first.items():
        (tmp_path / path).write_bytes(data)
    memo.previous = tmp_path  # as the memo saved with that output says after `load`
    keyed.clear()
    edited = plan.specs[1]._replace(own="b, edited")
    again = Plan({}, {}, "shared", (plan.specs[0], edited, plan.specs[2]))
    assert render(again, tpl, ProblemList(), PageCache(memo, "L", trusted=True)) == {}
    assert keyed == ["b.txt", "c.txt"] and memo.kept == {"a.txt", "b.txt", "c.txt"}
    # another graph digest: every page is keyed again
    keyed.clear()
    assert render(again, tpl, ProblemList(), PageCache(memo, "M", trusted=True)) == {}
    assert keyed == ["a.txt", "b.txt", "c.txt"] and memo.rendered == 0


def test_dates_are_written_in_the_sites_language() -> None:
    """Issue 20, point 3 (dates): Babel writes the review dates as the site's language
    does; a language it does not know gets English."""
    import datetime as dt

    from healthsite.pages.templating import long_date

    day = dt.date(2026, 12, 6)
    assert long_date(day, "en-GB") == "6 December 2026"
    assert long_date(day, "en-US") == "December 6, 2026"
    assert long_date(day, "es") == "6 de diciembre de 2026"
    assert long_date(day, "cy") == "6 Rhagfyr 2026"
    assert long_date(day, "not-a-language") == "December 6, 2026"
