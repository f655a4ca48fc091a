"""Stage 3 (link): the topic graph (articles, topics as a tree, links, backlinks) and the
checks of links, editor's picks and each article's place in it."""

from __future__ import annotations

import itertools
import posixpath
from collections import defaultdict
from collections.abc import Callable, Collection, Iterable, Mapping
from dataclasses import dataclass, field, replace
from functools import partial
from types import MappingProxyType
from typing import Protocol

from ..errors import Level, ProblemList, did_you_mean
from ..load.config import SiteConfig, Topic
from ..load.content import Article, topic_key
from ..render.markup import Link, Rendered


@dataclass(frozen=True)
class TopicGraph:
    """Everything is keyed by slug; every tuple is sorted or in source order, never hash order."""

    articles: MappingProxyType[str, Article]
    rendered: MappingProxyType[str, Rendered]
    topics: MappingProxyType[str, Topic]
    children: MappingProxyType[str, tuple[str, ...]]
    topic_articles: MappingProxyType[str, tuple[str, ...]]
    links_out: MappingProxyType[str, tuple[str, ...]]
    links_in: MappingProxyType[str, tuple[str, ...]]
    picks: MappingProxyType[str, tuple[str, ...]]

    def ancestors(self, topic: str) -> tuple[str, ...]:
        """The topic's parents from the nearest up to the root (loops are cut)."""
        chain: list[str] = []
        parent = self.topics[topic].parent if topic in self.topics else None
        while parent is not None and parent in self.topics and parent not in chain:
            chain.append(parent)
            parent = self.topics[parent].parent
        return tuple(chain)

    def roots(self) -> tuple[str, ...]:
        return tuple(t.slug for t in self.topics.values()
                     if t.parent is None or t.parent not in self.topics)

    def subtree_articles(self, topic: str) -> tuple[str, ...]:
        """Articles in the topic or any topic below it, sorted by slug."""
        found: set[str] = set()
        stack, seen = [topic], set()
        while stack:
            t = stack.pop()
            if t in seen:
                continue
            seen.add(t)
            found.update(self.topic_articles.get(t, ()))
            stack.extend(self.children.get(t, ()))
        return tuple(sorted(found))


@dataclass(frozen=True)
class Renamed:
    """Articles renamed since the last written build: old file -> new file, old slug -> new
    slug (a link or pick naming the old one is told of the new)."""

    paths: Mapping[str, str] = field(default_factory=dict)
    slugs: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Gone:
    """Files that links may name but that are not articles now: those that could not be
    loaded (reported already: links to them are not reported again) and those renamed."""

    unloadable: frozenset[str] = frozenset()
    renamed: Renamed = Renamed()


def build_graph(config: SiteConfig, articles: list[Article], drafts: set[str],
                rendered: dict[str, Rendered], problems: ProblemList,
                gone: Gone = Gone()) -> TopicGraph:
    """Index the published articles and check every link between them."""
    published = {a.slug: a for a in articles if a.slug not in drafts}
    targets = Targets({a.path: a.slug for a in articles}, rendered, drafts, gone.unloadable,
                      gone.renamed)
    links_out = {slug: check_links(a, rendered[slug], targets, problems)
                 for slug, a in published.items()}
    picks = {slug: check_picks(a, published, drafts, gone.unloadable, problems, gone.renamed)
             for slug, a in published.items()}
    several = len(config.all_editions) > 1
    _check_footer(config.footer, published, problems)
    topics, children = topic_maps(config)
    graph = TopicGraph(
        articles=MappingProxyType(published),
        rendered=MappingProxyType({k: rendered[k] for k in published}),
        topics=MappingProxyType(topics),
        children=MappingProxyType(children),
        topic_articles=MappingProxyType(_topic_articles(published.values())),
        links_out=MappingProxyType({k: tuple(v) for k, v in links_out.items()}),
        links_in=MappingProxyType(_backlinks(_within_editions(links_out, published)
                                             if several else links_out)),
        picks=MappingProxyType(picks),
    )
    _check_structure(graph, set(config.footer), problems)
    return graph


def _within_editions(links_out: Mapping[str, list[str]],
                     articles: Mapping[str, Article]) -> dict[str, list[str]]:
    """The links between articles of one edition (a translation's link to a page that is
    not translated leads readers on, but makes no backlink or reading next)."""
    return {s: [t for t in targets if articles[t].lang == articles[s].lang]
            for s, targets in links_out.items()}


def edition_graph(graph: TopicGraph, key: str, prune: bool = True) -> TopicGraph:
    """The part of the graph one edition's pages show ("": the default's): its articles,
    the links between them, and the topic tree under its own names, keyed by the topics'
    slugs as in site.yaml. With `prune`, a topic with no article of the edition in it or
    below it is left out (a translated edition may cover part of the tree)."""
    mine = {s: a for s, a in graph.articles.items() if a.lang == key}
    topics, children, topic_articles = _edition_topics(graph, key)
    part = TopicGraph(
        articles=MappingProxyType(mine),
        rendered=MappingProxyType({k: graph.rendered[k] for k in mine}),
        topics=MappingProxyType(topics), children=MappingProxyType(children),
        topic_articles=MappingProxyType(topic_articles),
        links_out=MappingProxyType(_among(graph.links_out, mine, within=True)),
        links_in=MappingProxyType(_among(graph.links_in, mine)),
        picks=MappingProxyType(_among(graph.picks, mine)))
    return _pruned(part) if prune else part


def _among(links: Mapping[str, tuple[str, ...]], mine: Mapping[str, Article],
           within: bool = False) -> dict[str, tuple[str, ...]]:
    """The entries of `links` for the articles `mine` (`within`: only those leading to
    them too)."""
    return {k: tuple(t for t in links[k] if t in mine) if within else links[k]
            for k in mine if k in links}


def _edition_topics(graph: TopicGraph, key: str) -> tuple[
        dict[str, Topic], dict[str, tuple[str, ...]], dict[str, tuple[str, ...]]]:
    """An edition's topics, sub-topics and topics' articles, keyed by the topics' slugs."""
    pre = f"{key}/" if key else ""

    def ours(topic: str) -> bool:
        return topic.startswith(pre) if pre else "/" not in topic

    def plain(topic: str) -> str:
        return topic[len(pre):]

    topics = {plain(k): replace(t, slug=plain(k), parent=plain(t.parent) if t.parent else None)
              for k, t in graph.topics.items() if ours(k)}
    children = {plain(k): tuple(map(plain, v)) for k, v in graph.children.items() if ours(k)}
    return topics, children, {plain(k): v for k, v in graph.topic_articles.items() if ours(k)}


def _pruned(g: TopicGraph) -> TopicGraph:
    """`g` without the topics that have no article in them or below them."""
    kept = {t for t in g.topics if g.subtree_articles(t)}
    return replace(g, topics=MappingProxyType({k: v for k, v in g.topics.items() if k in kept}),
                   children=MappingProxyType({k: tuple(c for c in v if c in kept)
                                              for k, v in g.children.items() if k in kept}))


def _backlinks(links_out: Mapping[str, list[str]]) -> dict[str, tuple[str, ...]]:
    """The articles linking to each article (each source once: `links_out` has no repeats),
    sorted by slug."""
    links_in: dict[str, list[str]] = defaultdict(list)
    for source, targets in links_out.items():
        for t in targets:
            links_in[t].append(source)
    # the sources come in the articles' order: sorted already when the articles are (as the
    # loader gives them), so sorting each list again is left out
    ordered = all(x <= y for x, y in itertools.pairwise(links_out))
    return {k: tuple(v if ordered else sorted(v)) for k, v in links_in.items()}


def _topic_articles(published: Iterable[Article]) -> dict[str, tuple[str, ...]]:
    """The articles in each topic (each edition's topics apart: `Article.topic_keys`),
    sorted by slug."""
    found: dict[str, list[str]] = defaultdict(list)
    for a in published:
        for t in a.topic_keys:
            found[t].append(a.slug)
    return {k: tuple(sorted(v)) for k, v in found.items()}


def _check_footer(footer: Iterable[str], published: Collection[str],
                  problems: ProblemList) -> None:
    """Report the footer's pages that are not published articles."""
    for slug in sorted(footer):
        if slug not in published:
            problems.add("unknown-article", f"footer page '{slug}' does not exist", "site.yaml",
                         hint=did_you_mean(slug, published) or "create it or remove it")


def topic_maps(config: SiteConfig) -> tuple[dict[str, Topic], dict[str, tuple[str, ...]]]:
    """The topics by slug, and each topic's sub-topics in the order site.yaml gives them;
    each other edition's topics too, under its own names and keyed "code/slug"."""
    children: dict[str, list[str]] = defaultdict(list)
    topics: dict[str, Topic] = {}
    for edition in config.all_editions:
        for topic in (config.topics if edition.default else edition.topics):
            if not edition.default:
                topic = replace(topic, slug=topic_key(edition.key, topic.slug),
                                parent=topic_key(edition.key, topic.parent)
                                if topic.parent is not None else None)
            topics[topic.slug] = topic
            if topic.parent is not None:
                children[topic.parent].append(topic.slug)
    return topics, {k: tuple(v) for k, v in children.items()}


class _Anchored(Protocol):
    @property
    def anchors(self) -> Collection[str]: ...


class Pages(Protocol):
    """Articles' renderings (or what is known of them) by slug."""

    def __getitem__(self, slug: str, /) -> _Anchored: ...


@dataclass(frozen=True)
class Targets:
    """What links can lead to: every loaded article's slug by file (`by_path`), the ids each
    page has (`pages`, by slug), the drafts, and the files that could not be loaded (already
    reported as broken, so links to them are not reported again)."""

    by_path: Mapping[str, str]
    pages: Pages
    drafts: Collection[str]
    unloadable: frozenset[str]
    renamed: Renamed = Renamed()


def check_links(a: Article, r: Rendered, site: Targets, problems: ProblemList) -> list[str]:
    """Report the article's broken links; return the articles it links to (slugs, in order,
    each once, not itself)."""
    targets = [_check_link(a, link, site, problems) for link in r.links]
    return [t for t in dict.fromkeys(targets) if t is not None and t != a.slug]


def _check_link(a: Article, link: Link, site: Targets, problems: ProblemList) -> str | None:
    """The article a link of `a` leads to (its slug), or None, reported, if it leads nowhere
    good."""
    target = a.slug if link.target is None else site.by_path.get(link.target)
    if target is None:
        _no_such_file(a, link, site, problems)
        return None
    if link.anchor and link.anchor not in site.pages[target].anchors:
        _no_such_anchor(a, link, site.pages[target].anchors, problems)
        return None
    if target in site.drafts and a.slug not in site.drafts:
        problems.add("link-to-draft", f"link to '{link.raw}', which is a draft", a.path,
                     link.line, link.col, hint="publish it first, or remove the link")
        return None
    return target


def _no_such_file(a: Article, link: Link, site: Targets, problems: ProblemList) -> None:
    """Report a link to a file that is not an article (unless it was reported already, as
    one that could not be loaded)."""
    if link.target in site.unloadable:
        return
    what = "page" if link.raw.startswith("/") else "file"
    problems.add("broken-link", f"link to '{link.raw}': no such {what}", a.path, link.line,
                 link.col, hint=_missing_hint(a, link, site))


def _missing_hint(a: Article, link: Link, site: Targets) -> str | Callable[[], str]:
    """The hint for a link to no article: the new name of a renamed one, else the nearest
    file (or address, for a link written as one), worked out when shown."""
    new = site.renamed.paths.get(link.target or "")
    if link.raw.startswith("/"):  # written as an address: answered as one
        if new is not None and new in site.by_path:
            return f"it was renamed: link to '/{site.by_path[new]}/'"
        return partial(_suggest_address, link.raw, site.by_path.values())
    if new is not None:
        return f"it was renamed: link to '{posixpath.relpath(new, posixpath.dirname(a.path))}'"
    return partial(_suggest, link.target or "", site.by_path, "check the file name under content/")


def _no_such_anchor(a: Article, link: Link, anchors: Collection[str],
                    problems: ProblemList) -> None:
    """Report a link to an id the page it leads to does not have."""
    problems.add("broken-anchor", f"link to '{link.raw}': no '#{link.anchor}' in "
                 f"{link.target or a.path}", a.path, link.line, link.col,
                 hint=partial(_suggest, link.anchor, anchors, "link to a heading's id"))


def _suggest(word: str, choices: Iterable[str], otherwise: str) -> str:
    return did_you_mean(word, choices) or otherwise


def _suggest_address(address: str, slugs: Iterable[str]) -> str:
    """A "did you mean" among the articles' addresses, for a link written as one."""
    return did_you_mean(address, [f"/{s}/" for s in slugs]) or \
        "check the address: an article's is /its-file-name/"


def check_picks(a: Article, published: Collection[str], drafts: Collection[str],
                unloadable: frozenset[str], problems: ProblemList,
                renamed: Renamed = Renamed()) -> tuple[str, ...]:
    """Report the article's editor's picks (`next:`) that name no published article;
    return the good ones, each once. `published` holds the published articles' slugs. A
    translation's picks name its own edition's pages; one naming a page of the default
    language that is not translated yet is left out without a word."""
    good: list[str] = []
    for i, named in enumerate(a.meta.next):
        slug = topic_key(a.lang, named)  # (a translation's picks are its edition's pages)
        if slug in published and slug != a.slug:
            good.append(slug)
            continue
        if a.lang and named in published:
            continue  # (a page not translated yet: reading next stays in the edition)
        bad = _bad_pick(a, slug, published, drafts, unloadable, renamed)
        if bad is not None:
            code, message, hint = bad
            line, col = a.meta.at("next", i)
            problems.add(code, message, a.path, line, col, hint=hint)
    return tuple(dict.fromkeys(good))


def _bad_pick(a: Article, slug: str, published: Collection[str], drafts: Collection[str],
              unloadable: frozenset[str], renamed: Renamed
              ) -> tuple[str, str, str | Callable[[], str]] | None:
    """What is wrong with an editor's pick that is not a published article (code, message,
    hint), or None if it names a file already reported as not loading."""
    if slug in drafts:
        return ("link-to-draft", f"'next:' names '{slug}', which is a draft",
                "publish it first, or remove it from next:")
    if slug == a.slug:
        return ("unknown-article", f"'next:' names this article itself ('{slug}')",
                "name other articles to read next")
    if slug in unloadable:
        return None
    if slug in renamed.slugs:
        return ("unknown-article", f"'next:' names unknown article '{slug}'",
                f"it was renamed: name '{renamed.slugs[slug]}' instead")
    return ("unknown-article", f"'next:' names unknown article '{slug}'",
            partial(_suggest, slug, published, "use an article's slug"))


def _check_structure(g: TopicGraph, footer: set[str], problems: ProblemList) -> None:
    for slug, a in g.articles.items():
        check_place(a, g.links_in.get(slug, ()), g.links_out.get(slug, ()), footer, problems,
                    g.rendered[slug].too_complex)


def check_place(a: Article, links_in: Collection[str], links_out: Collection[str],
                footer: Collection[str], problems: ProblemList, unread: bool = False) -> None:
    """Report an article readers cannot find, or that leads nowhere (`unread`: its body
    could not be rendered, so its links are not known)."""
    if not a.meta.topics and not links_in and a.slug not in footer:
        problems.add("orphan", "no topic and no page links here: readers cannot find it",
                     a.path, level=Level.WARNING, hint="add a topic or link to it")
    if a.is_article and not links_out and not unread:
        problems.add("dead-end", "this article links to no other article", a.path,
                     level=Level.WARNING, hint="link to a related article: [text](other.md)")
