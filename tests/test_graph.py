"""The topic graph: links, backlinks, drafts, orphans and dead ends."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from conftest import article, build, good_files, problem_lines

MakeSite = Callable[..., Path]


def test_links_and_backlinks_are_indexed_by_slug(make_site: MakeSite, today: None) -> None:
    g = build(make_site(good_files())).graph
    assert g is not None
    assert g.links_out["overview"] == ("iron", "clots")
    assert g.links_in["iron"] == ("clots", "overview")
    assert g.topic_articles["iron"] == ("iron",)
    assert g.ancestors("iron") == ("causes", "rls")
    assert g.subtree_articles("rls") == ("iron", "overview")
    assert g.picks["overview"] == ("iron",)


def test_links_to_drafts_are_errors_unless_drafts_are_built(make_site: MakeSite,
                                                             today: None) -> None:
    files = good_files()
    files["content/iron.md"] = files["content/iron.md"].replace("---\n\n", "draft: true\n---\n\n")
    root = make_site(files)
    assert problem_lines(root) == [
        "content/clots.md:11:41: error[link-to-draft]: link to 'iron.md#ferritin-tests', which "
        "is a draft (publish it first, or remove the link)",
        "content/overview.md:9:8: error[link-to-draft]: 'next:' names 'iron', which is a draft "
        "(publish it first, or remove it from next:)",
        "content/overview.md:12:19: error[link-to-draft]: link to 'iron.md', which is a draft "
        "(publish it first, or remove the link)",
    ]
    result = build(root, drafts=True)
    assert not result.problems.sorted()
    assert result.graph is not None and "iron" in result.graph.articles


def test_orphans_and_dead_ends_are_warnings(make_site: MakeSite, today: None) -> None:
    files = good_files()
    files["content/lonely.md"] = (
        "---\ntitle: Lonely\nsummary: Nobody links here.\nkind: page\nreviewed: 2026-01-01\n"
        "---\n\nNo links.\n")
    files["content/stub.md"] = article("Stub", "[iron]", "No links at all.")
    assert problem_lines(make_site(files)) == [
        "content/lonely.md:1:1: warning[orphan]: no topic and no page links here: readers "
        "cannot find it (add a topic or link to it)",
        "content/stub.md:1:1: warning[dead-end]: this article links to no other article "
        "(link to a related article: [text](other.md))",
    ]


def test_unknown_editors_pick_is_reported_with_suggestion(make_site: MakeSite,
                                                         today: None) -> None:
    files = good_files()
    files["content/overview.md"] = files["content/overview.md"].replace(
        "next: [iron]", "next: [irn]")
    assert problem_lines(make_site(files)) == [
        "content/overview.md:9:8: error[unknown-article]: 'next:' names unknown article 'irn' "
        "(did you mean 'iron'?)"]


def test_backlinks_are_sorted_whatever_order_the_articles_come_in() -> None:
    """The loader gives articles sorted by slug, so backlists come out sorted as collected;
    articles given in another order still get them sorted."""
    from test_related import synthetic_graph

    from healthsite.errors import ProblemList
    from healthsite.link.graph import build_graph

    config, graph = synthetic_graph(120, seed=11)
    articles = list(graph.articles.values())
    shuffled = build_graph(config, articles[::-1], set(), dict(graph.rendered), ProblemList())
    assert any(len(v) > 1 for v in graph.links_in.values())
    for g in (graph, shuffled):
        assert all(list(v) == sorted(v) for v in g.links_in.values())
    assert dict(shuffled.links_in) == dict(graph.links_in)
