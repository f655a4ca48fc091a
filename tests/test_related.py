"""Reading next: editor's picks first, explainable scores, bounded cost."""

from __future__ import annotations

import dataclasses
import datetime as dt
import pickle
import random
from collections.abc import Callable
from pathlib import Path
from types import MappingProxyType

from conftest import article, build, good_files
from test_markup import make_article

from healthsite.errors import ProblemList
from healthsite.link import related
from healthsite.link.graph import TopicGraph, build_graph
from healthsite.link.related import compute
from healthsite.load.config import SiteConfig, Topic, Weights
from healthsite.render.markup import Link, Rendered

MakeSite = Callable[..., Path]


def test_picks_come_first_then_scored_suggestions_with_reasons(make_site: MakeSite,
                                                              today: None) -> None:
    files = good_files()
    files["content/iron-tests.md"] = article(
        "Iron tests", "[iron, causes]", "See [iron](iron.md) and [overview](overview.md).")
    result = build(make_site(files))
    assert result.reading_next is not None
    nxt = result.reading_next.by_article
    assert [(s.slug, s.reasons) for s in nxt["overview"]] == [
        ("iron", ("Recommended by our editors",)),
        ("clots", ("This page refers to it", "It refers back to this page")),
        ("iron-tests", ("On a related subject: restless legs", "It refers back to this page")),
    ]
    assert [(s.slug, s.reasons) for s in nxt["iron"]] == [
        ("clots", ("This page refers to it", "It refers back to this page")),  # 1.5 + 1.0
        ("overview", ("This page refers to it", "It refers back to this page")),  # 1.5 + 1.0
        ("iron-tests", ("Also about iron", "It refers back to this page"))]  # 1.10 + 0.33 + 1.0


def test_drafts_are_never_suggested_and_overdue_articles_come_last(make_site: MakeSite,
                                                                   today: None) -> None:
    files = good_files()
    files["content/old.md"] = article("Old", "[iron]", "[iron](iron.md)", reviewed="2024-01-01")
    files["content/wip.md"] = article("Wip", "[iron]", "[iron](iron.md)", extra="draft: true\n")
    result = build(make_site(files), drafts=True)
    assert result.reading_next is not None
    suggested = {s.slug for v in result.reading_next.by_article.values() for s in v}
    assert "wip" in suggested  # drafts are built (and suggested) only in preview with --drafts
    result = build(make_site(files))
    assert result.reading_next is not None
    assert "wip" not in {s.slug for v in result.reading_next.by_article.values() for s in v}
    for chosen in result.reading_next.by_article.values():  # (overdue: after those in date)
        slugs = [s.slug for s in chosen]
        assert "old" not in slugs or slugs.index("old") == len(slugs) - 1


def synthetic_graph(n: int, topics: int = 24, seed: int = 7) -> tuple[SiteConfig, TopicGraph]:
    """A graph of n synthetic articles with 2-4 topics and 5 links each."""
    rng = random.Random(seed)
    tree = [Topic(f"t{i}", f"T{i}", "d", None if i < 4 else f"t{i % 4}", (), ())
            for i in range(topics)]
    config = SiteConfig(
        root=Path("."), title="t", description="d", base_url="https://e.org/", language="en",
        publisher="p", output_dir="_site", services={}, review_interval_months=12,  # type: ignore[arg-type]
        min_sources=0, reading_next_count=5, weights=Weights(1.0, 0.3, 1.5, 1.0),
        target_grade=9, alarm_terms=(), topics=tuple(tree), levels={},  # type: ignore[arg-type]
        raw_html="sanitize", footer=(), search=False)
    articles, rendered = [], {}
    for i in range(n):
        a = make_article("x", f"content/a{i:05d}.md", sources=0)
        own = tuple(sorted({f"t{rng.randrange(4, topics)}" for _ in range(rng.randint(2, 4))}))
        a = a.__class__(a.path, a.slug, a.url, a.out_path,
                        a.meta.__class__(**{**a.meta.__dict__, "topics": own}), a.body, 1)
        articles.append(a)
        links = tuple(Link(f"content/a{rng.randrange(n):05d}.md", "", 1, 1, "x")
                      for _ in range(5))
        rendered[a.slug] = Rendered("", (), links, frozenset(), frozenset(), "", frozenset(), ())
    return config, build_graph(config, articles, set(), rendered, ProblemList())


def synthetic(n: int) -> tuple[int, int]:
    """Reading next over n synthetic articles; returns (pairs examined, suggestions)."""
    config, graph = synthetic_graph(n)
    nxt = compute(graph, config, dt.date(2026, 6, 1))
    return nxt.pairs_examined, sum(len(v) for v in nxt.by_article.values())


def test_bounded_walk_finds_the_same_top_k_as_scoring_all_pairs() -> None:
    config, graph = synthetic_graph(400, topics=12, seed=3)
    day = dt.date(2026, 6, 1)
    nxt = compute(graph, config, day)
    features = related.article_features(graph)
    pool = related.suggestible(graph, day)
    weights = related._weights(features, pool, config)
    for slug in graph.articles:
        outs, ins = set(graph.links_out.get(slug, ())), set(graph.links_in.get(slug, ()))
        everyone = [related._score(graph, o, features[slug] & features[o], weights, config,
                                   o in outs, o in ins) for o in sorted(pool - {slug})]
        everyone.sort(key=lambda s: (-s.score, s.slug))
        assert nxt.by_article[slug] == tuple(everyone[:5]), slug


def test_cost_grows_with_memberships_not_n_squared() -> None:
    sizes = [500, 1000, 2000, 4000]
    pairs = [synthetic(n)[0] for n in sizes]
    per_article = [p / n for p, n in zip(pairs, sizes, strict=True)]
    # each article examines at most (topic subsets x k) + its links, whatever n is
    assert max(per_article) <= 2 ** 8 * 5 + 10
    # doubling n doubles the work (within 25%); all pairs would quadruple it
    for a, b in zip(pairs, pairs[1:], strict=False):
        assert b / a < 2.5
    assert pairs[-1] < 4000 * 4000 / 20  # far below all pairs


def test_every_article_gets_suggestions_and_output_is_deterministic() -> None:
    first, count = synthetic(300)
    assert count == 300 * 5
    assert synthetic(300) == (first, count)


def test_ranking_prepared_before_the_graph_is_used_only_where_it_fits() -> None:
    """What ranking needs from the front matter can be made before the bodies are rendered
    (its index built meanwhile); it gives the same suggestions, and one made from other
    articles, another day or other settings is not used."""
    config, graph = synthetic_graph(300, topics=12, seed=9)
    day = dt.date(2026, 6, 1)
    fresh = compute(graph, config, day)
    early = related.Prepared(related.outline(dict(graph.articles), config), config, day)
    assert early.fits(graph, config, day)
    early.index()  # as if built while the bodies were rendered
    assert compute(graph, config, day, prepared=early) == fresh
    # an index made from different articles would rank wrongly; it is not used
    slug = next(iter(graph.articles))
    a = graph.articles[slug]
    moved = dataclasses.replace(a, meta=dataclasses.replace(a.meta, topics=("t0", "t1")))
    others = related.Prepared(related.outline({**graph.articles, slug: moved}, config),
                              config, day)
    assert not others.fits(graph, config, day)
    assert compute(graph, config, day, prepared=others) == fresh
    later = dt.date(2030, 1, 1)
    assert not early.fits(graph, config, later)
    assert compute(graph, config, later, prepared=early) == compute(graph, config, later)
    assert not early.fits(graph, dataclasses.replace(config, reading_next_count=3), day)
    fewer = related.Prepared(related.outline(dict(list(graph.articles.items())[1:]), config),
                             config, day)
    assert not fewer.fits(graph, config, day)


def test_memo_reuses_only_what_did_not_change() -> None:
    config, graph = synthetic_graph(300, topics=12, seed=5)
    day = dt.date(2026, 6, 1)
    memo: related.Memo = {}
    first = compute(graph, config, day, memo)
    assert first == compute(graph, config, day) and len(memo) == len(first.by_article)
    again = compute(graph, config, day, memo)
    assert again.by_article == first.by_article and again.pairs_examined == 0
    # new wording or a new title: nothing is ranked again
    slug = next(iter(graph.articles))
    a = graph.articles[slug]
    renamed = dataclasses.replace(a, meta=dataclasses.replace(a.meta, title="Renamed"))
    graph2 = dataclasses.replace(graph, articles=MappingProxyType(
        {**graph.articles, slug: renamed}))
    assert compute(graph2, config, day, memo).pairs_examined == 0
    # another topic changes the weights: everything is ranked again, as without the memo
    moved = dataclasses.replace(a, meta=dataclasses.replace(a.meta, topics=("t0", "t1")))
    graph3 = dataclasses.replace(graph, articles=MappingProxyType(
        {**graph.articles, slug: moved}), topic_articles=graph.topic_articles)
    fresh = compute(graph3, config, day)
    assert compute(graph3, config, day, memo) == fresh
    assert compute(graph3, config, day, memo).pairs_examined == 0
    # a link added to one article changes only the articles at its two ends
    other = sorted(graph.articles)[7]
    graph4 = dataclasses.replace(graph3, links_out=MappingProxyType(
        {**graph3.links_out, slug: (*graph3.links_out.get(slug, ()), other)}),
        links_in=MappingProxyType({**graph3.links_in,
                                   other: tuple(sorted({*graph3.links_in.get(other, ()), slug}))}))
    linked = compute(graph4, config, day, memo)
    assert linked == dataclasses.replace(compute(graph4, config, day),
                                         pairs_examined=linked.pairs_examined)
    assert 0 < linked.pairs_examined < 2 * 60
    # kept on disk as plain tuples, and read back as it was (a garbled one is no memo)
    packed = pickle.loads(pickle.dumps(related.pack(memo)))
    assert all(type(s) is tuple for _, chosen in packed.values() for s in chosen)
    back = related.unpack(packed)
    assert back == memo and all(type(s) is related.Suggestion
                                for _, chosen in back.values() for s in chosen)
    for garbled in (None, [], {"a": 1}, {"a": ((), ((1, 2),))}):
        assert related.unpack(garbled) == {}
