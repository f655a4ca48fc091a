"""Stage 6b: every page of the site, rendered: {output path: bytes}."""

from __future__ import annotations

import datetime as dt
import functools
import hashlib
import os
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any, Protocol

from . import topicmap
from .cache import read_pickle, write_pickle
from .checks import check_file
from .config import SiteConfig
from .content import GlossaryEntry
from .errors import Problem, ProblemList
from .graph import TopicGraph
from .markup import Rendered
from .parallel import each_indexed
from .related import ReadingNext
from .templating import Templates, article_view, render, site_view, static_files, topic_url

Made = tuple[bytes | None, str, list[Problem], bool | None]  # see render_site's `made`


class Sink(Protocol):
    """Where rendered pages go (output.Staging)."""

    def put(self, path: str, data: bytes) -> None:
        """Write a page (in this process, in the background)."""

    def place(self, path: str, data: bytes) -> bool:
        """Write a page now, in whichever process renders it; whether it is new or changed."""

    def placed(self, path: str, changed: bool) -> None:
        """Record (in this process) a page that `place` wrote in another."""


class PageMemo:
    """Rendered pages keyed by a fingerprint of (templates, template name, view): a page whose
    view did not change since the last build is not rendered again.

    The preview server keeps the bytes in memory between rebuilds. Between separate builds the
    memo is saved without the bytes (`save`/`load`): an unchanged page is then read back from
    the previous output, and used only if its SHA-256 matches what was written."""

    def __init__(self) -> None:
        self.pages: dict[str, tuple[str, str, bytes | None]] = {}  # path: (key, digest, bytes)
        self.rendered = 0
        self.fresh: set[str] = set()  # pages rendered by the latest build
        self.read_back: set[str] = set()  # pages read from the previous output and verified
        self.kept: set[str] = set()  # pages left as they are in an intact previous output
        self.placed: set[str] = set()  # pages a worker process wrote to the output itself
        self.previous: Path | None = None  # the output folder the saved memo describes
        self.trusted = False  # the previous output is known intact: unchanged pages stay put
        self.context = ""  # the digest of what every page shares, when `own` was recorded
        self.own: dict[str, str] = {}  # article page: what only that page is made from
        self.site: dict[str, Any] = {}  # the site-wide view the latest pages were made with

    def unchanged(self, path: str, key: str) -> bool:
        """Whether the page, unchanged, can stay in the intact previous output unread."""
        hit = self.pages.get(path)
        if self.trusted and self.previous is not None and hit is not None and hit[0] == key:
            self.kept.add(path)
            return True
        return False

    def get(self, path: str, key: str) -> bytes | None:
        hit = self.pages.get(path)
        if hit is None or hit[0] != key:
            return None
        if hit[2] is not None:
            return hit[2]
        if self.previous is None:
            return None
        try:
            data = (self.previous / path).read_bytes()
        except OSError:
            return None
        if hashlib.sha256(data).hexdigest() != hit[1]:
            return None
        self.read_back.add(path)
        return data

    def put(self, path: str, key: str, data: bytes | None, digest: str, problems: bool) -> None:
        """Record a page just rendered (`digest`: the SHA-256 of its bytes, which are None
        when not kept here); one that had problems is not kept for reuse, so the next build
        renders and reports it again."""
        if problems:
            self.pages.pop(path, None)
        else:
            self.pages[path] = (key, digest, data)
        self.rendered += 1
        self.fresh.add(path)

    def forget(self, paths: Iterable[str]) -> None:
        """Drop pages written since the memo was saved (by a build that did not keep it)."""
        for path in paths:
            self.pages.pop(path, None)
            self.own.pop(path, None)

    def save(self, file: Path, identity: str) -> None:
        """Keep the keys and digests (not the bytes) for the next build of the same identity
        (output folder and check levels: a reused page is not checked again)."""
        write_pickle(file, "pages", (identity, {p: (k, d) for p, (k, d, _) in
                                                self.pages.items()}, self.context, self.own))

    def load(self, file: Path, identity: str, output: Path) -> None:
        """Read a saved memo if it has this identity; anything unreadable is ignored."""
        data = read_pickle(file, "pages")
        if not isinstance(data, tuple) or len(data) != 4 or data[0] != identity:
            return
        self.pages = {p: (k, d, None) for p, (k, d) in data[1].items()}
        self.context, self.own = data[2], data[3]
        self.previous = output


def render_site(config: SiteConfig, graph: TopicGraph, nxt: ReadingNext,
                glossary: list[GlossaryEntry], tpl: Templates,
                problems: ProblemList, memo: PageMemo | None = None,
                complete: Callable[[str], Rendered] | None = None,
                body_keys: dict[str, str] | None = None,
                links: str | None = None,
                sink: Sink | None = None) -> dict[str, bytes]:
    """Render every page (unless its inputs are unchanged in `memo`) and copy every static
    file. Each page rendered is checked for resources from other sites (`check_file`) as it
    is rendered; static files are left to the caller.

    Each page's memo key is a digest of what its view is made from, not of the view itself,
    so an unchanged page costs neither a view nor a template: templates, the site-wide view
    and the topic tree for all; for an article, its front matter, its rendered body, and the
    cards (URL, title, summary) of the pages it suggests and of the pages linking to it; for
    a topic page, the cards of its articles and its sub-topics' counts; for the lists (home,
    topic index, sitemap, feed, topic map), every article's card, date, kind and topics.
    `complete` gives an article's rendering with its HTML when the graph holds it
    without; `body_keys` the cache keys of the rendered bodies (else the HTML is hashed).

    `links` is a digest of everything that pages show of other pages (cards, reading next,
    backlinks, lists). When it and the shared parts are as they were for the intact previous
    output, every list page, and every article page whose own inputs did not change, is kept
    without working out its key at all.

    `sink` is given each page as soon as it is rendered (to be written while the rest are
    still rendering). A page rendered in a worker process is written there (`Sink.place`),
    unless it has problems, and not handed back: it is then in `memo.placed`, not in the
    files returned."""
    memo = memo if memo is not None else PageMemo()
    assets = static_files(config.root, problems)
    updated = max((a.meta.reviewed for a in graph.articles.values()), default=dt.date(2000, 1, 1))
    site = memo.site = site_view(config, graph, assets, updated)
    base = hashlib.sha256(repr((tpl.fingerprint, site, config.topics)).encode()).hexdigest()
    out: dict[str, bytes] = {published: data for published, data in assets.values()
                             if data is not None}  # (a file refused is not published)
    seen: set[str] = set()

    def key_of(name: str, inputs: object) -> str:
        text = inputs if isinstance(inputs, str) else repr(inputs)
        return hashlib.sha256(f"{base}\0{name}\0{text}".encode()).hexdigest()

    def reuse(path: str, key: str) -> bool:
        seen.add(path)
        if memo.unchanged(path, key):
            return True
        data = memo.get(path, key)
        if data is not None:
            out[path] = data
        return data is not None

    here = os.getpid()

    def made(path: str, name: str, context: dict[str, Any], what: str) -> Made:
        """A page rendered and checked (in a worker process when there are many): its bytes
        (None if it could not be rendered, or was written by the worker), their digest, its
        problems, and whether a worker wrote it (None), as a new file (True) or not."""
        found = ProblemList(problems.overrides)
        data = render_page(tpl, path, name, context, what, found)
        if data is None:
            return None, "", found.items(), None
        digest = hashlib.sha256(data).hexdigest()
        if sink is not None and not found and os.getpid() != here:
            try:  # in a worker: the bytes need not travel back
                return None, digest, [], sink.place(path, data)
            except OSError:
                pass  # this process writes it (and reports what goes wrong)
        return data, digest, found.items(), None

    def keep(path: str, key: str, data: bytes | None, digest: str,
             found: list[Problem], placed: bool | None) -> None:
        problems.extend(found)
        if placed is not None:
            assert sink is not None
            sink.placed(path, placed)
            memo.put(path, key, None, digest, False)
            memo.placed.add(path)
        elif data is not None:
            memo.put(path, key, data, digest, bool(found))
            out[path] = data
            if sink is not None:
                sink.put(path, data)

    # pages to render: (path, memo key or "" to make it with the page, how to render it);
    # rendered across all cores when there are many, the site's lists first (the largest)
    todo: list[tuple[str, str, Callable[[], Made]]] = []

    # Every list page shows only what `links` covers (cards, topics, dates), so when it and
    # the shared parts are as they were for the intact previous output, such a page is kept
    # without working out its key; so is an article page whose own inputs are unchanged.
    covering = f"{base}\0{links}" if links is not None and body_keys is not None else ""
    shortcut = bool(covering) and covering == memo.context and memo.trusted
    memo.context = covering

    def page(path: str, name: str, what: str, inputs: Callable[[], object],
             context: Callable[[], dict[str, Any]], covered: bool = False) -> None:
        if covered and shortcut and path in memo.pages:
            seen.add(path)
            memo.kept.add(path)
            return
        key = key_of(name, inputs())
        if not reuse(path, key):
            todo.append((path, key, lambda: made(path, name, {"site": site, **context()}, what)))

    cards: dict[str, str] = {}

    def card(slug: str) -> str:  # a digest of what a list shows of an article
        found = cards.get(slug)
        if found is None:
            a = graph.articles[slug]
            found = cards[slug] = hashlib.sha256(
                repr((a.url, a.title, a.meta.summary)).encode()).hexdigest()
        return found

    @functools.cache
    def lists() -> str:
        return hashlib.sha256(repr([(slug, card(slug), a.meta.reviewed, a.is_article,
                                     a.meta.topics) for slug, a in graph.articles.items()]
                                   ).encode()).hexdigest()

    tree: list[dict[str, Any]] = []

    def topic_tree_once() -> list[dict[str, Any]]:
        if not tree:
            tree.extend(topic_tree(config, graph))
        return tree

    def shown(t: str) -> tuple[str, tuple[list[str], list[int]]]:
        # a topic page shows the cards of its own articles and its sub-topics' counts (the
        # rest is in `base`), so an article's new title changes only its topics' pages
        return t, ([card(s) for s in graph.topic_articles.get(t, ())],
                   [len(graph.subtree_articles(c)) for c in graph.children.get(t, ())])

    page("index.html", "home.html", "the home page", lists,
         lambda: {"tree": topic_tree_once()}, covered=True)
    page("topics/index.html", "topics.html", "the topic index", lists,
         lambda: {"tree": topic_tree_once()}, covered=True)
    for t in graph.topics.values():
        page(f"topics/{t.slug}/index.html", "topic.html", f"topic '{t.slug}'",
             functools.partial(shown, t.slug),
             functools.partial(_context, "topic", topic_view, config, graph, t.slug),
             covered=True)
    page("glossary/index.html", "glossary.html", "the glossary", lambda: glossary,
         lambda: {"entries": [
             {"id": e.id, "term": e.term, "also": list(e.also), "definition": e.definition}
             for e in glossary]})
    if config.search:
        page("search/index.html", "search.html", "the search page", tuple, dict)
    # (the topic map draws the links between articles too)
    page("topic-map/index.html", "topic-map.html", "the topic map",
         lambda: (lists(), list(graph.links_out.items())),
         lambda: {"svg": topicmap.draw(graph), "tree": topic_tree_once()}, covered=True)
    page("404.html", "404.html", "the 404 page", tuple, dict)

    def listed() -> list[dict[str, Any]]:
        return [{"path": a.url[len(config.base_path):], "title": a.title,
                 "summary": a.meta.summary, "reviewed": a.meta.reviewed,
                 "is_article": a.is_article} for a in graph.articles.values()]

    page("sitemap.xml", "sitemap.xml", "sitemap.xml", lists, lambda: {
        "articles": listed(), "topics": [f"topics/{t}/" for t in graph.topics]}, covered=True)
    page("feed.xml", "feed.xml", "feed.xml", lists, lambda: {"articles": sorted(
        (a for a in listed() if a["is_article"]),
        key=lambda a: (-a["reviewed"].toordinal(), a["path"]))}, covered=True)
    page("robots.txt", "robots.txt", "robots.txt", tuple, dict)

    def body_of(slug: str) -> str:
        return body_keys[slug] if body_keys is not None else \
            hashlib.sha256(graph.rendered[slug].html.encode("utf-8", "surrogatepass")).hexdigest()

    def article_key(slug: str, body: str) -> str:
        article = graph.articles[slug]
        # the body key covers the HTML and contents list; the source, the front matter
        return key_of("article.html", "\0".join([
            slug, article.path, article.url, article.source or repr(article.meta), body,
            *(f"{s.slug}\1{s.score!r}\1{chr(2).join(s.reasons)}\1{card(s.slug)}"
              for s in nxt.by_article.get(slug, ())), "backlinks",
            *(card(b) for b in graph.links_in.get(slug, ()))]))

    def article_page(slug: str) -> Made:
        article = graph.articles[slug]
        context = {"site": site, "page": article_view(config, graph, slug, nxt, site, complete)}
        return made(article.out_path, "article.html", context, article.path)

    for slug, article in graph.articles.items():
        body = body_of(slug)
        own = f"{article.source}\0{body}"
        if shortcut and memo.own.get(article.out_path) == own and article.out_path in memo.pages:
            seen.add(article.out_path)
            memo.kept.add(article.out_path)
            continue
        memo.own[article.out_path] = own
        if article.out_path not in memo.pages:  # nothing to reuse: its key is made with it
            seen.add(article.out_path)
            todo.append((article.out_path, "", functools.partial(article_page, slug)))
            continue
        key = article_key(slug, body)
        if not reuse(article.out_path, key):
            todo.append((article.out_path, key, functools.partial(article_page, slug)))

    def task(i: int) -> tuple[str, Made]:
        # in a worker process when there are many; an article page left unkeyed above (on a
        # first build) is keyed here too
        path, key, render_page = todo[i]
        return key or article_key(path_slug[path], body_of(path_slug[path])), render_page()

    path_slug = {a.out_path: slug for slug, a in graph.articles.items()}
    for (path, _, _), (key, result) in zip(todo, each_indexed(task, len(todo)), strict=True):
        keep(path, key, *result)
    for stale in set(memo.pages) - seen:
        del memo.pages[stale]
    for stale in set(memo.own) - seen:
        del memo.own[stale]
    return out


def render_page(tpl: Templates, path: str, name: str, context: dict[str, Any], what: str,
                problems: ProblemList) -> bytes | None:
    """One page rendered from a template and checked for resources from other sites."""
    data = render(tpl, name, context, what, problems)
    if data is not None:
        check_file(path, data, problems)
    return data


def _context(name: str, view: Callable[..., Any], *args: Any) -> dict[str, Any]:
    return {name: view(*args)}


def _card(graph: TopicGraph, slug: str) -> dict[str, str]:
    a = graph.articles[slug]
    return {"url": a.url, "title": a.title, "summary": a.meta.summary}


def topic_tree(config: SiteConfig, graph: TopicGraph) -> list[dict[str, Any]]:
    """Root topics, each with its articles and sub-topics, recursively."""

    def node(slug: str, depth: int) -> dict[str, Any]:
        t = graph.topics[slug]
        return {"slug": slug, "url": topic_url(config, slug), "title": t.title,
                "description": t.description,
                "count": len(graph.subtree_articles(slug)),
                "articles": [_card(graph, s) for s in graph.topic_articles.get(slug, ())],
                "children": [node(c, depth + 1) for c in graph.children.get(slug, ())
                             if depth < 20]}

    return [node(r, 0) for r in graph.roots()]


def topic_view(config: SiteConfig, graph: TopicGraph, slug: str) -> dict[str, Any]:
    """The view of one topic page: its articles, sub-topics and place in the tree."""
    t = graph.topics[slug]
    crumbs = [{"url": config.base_path, "title": "Home"},
              {"url": config.base_path + "topics/", "title": "Topics"}]
    crumbs += [{"url": topic_url(config, p), "title": graph.topics[p].title}
               for p in reversed(graph.ancestors(slug))]
    return {
        "slug": slug, "title": t.title, "description": t.description,
        "url": topic_url(config, slug), "lay": list(t.lay), "clinical": list(t.clinical),
        "breadcrumbs": crumbs,
        "articles": [_card(graph, s) for s in graph.topic_articles.get(slug, ())],
        "children": [{"url": topic_url(config, c), "title": graph.topics[c].title,
                      "description": graph.topics[c].description,
                      "count": len(graph.subtree_articles(c))}
                     for c in graph.children.get(slug, ())],
        "canonical": site_base(config) + f"topics/{slug}/",
    }


def site_base(config: SiteConfig) -> str:
    return config.base_url.rstrip("/") + "/"
