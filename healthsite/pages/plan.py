"""Which pages the site has, and for each what it is made from: a pure list of page specs.

A `PageSpec` says where a page goes, which template renders it, what it is called in
problem messages, how to make its view (only when it is rendered: an unchanged page costs
neither a view nor a template), and its declared inputs: what a memo of rendered pages must
compare to know the page unchanged. Nothing here renders, caches or runs in parallel; the
renderer (`render.py`) and the incremental layer (`healthsite.incremental.pages`) take the
specs from here.

The page memo's keys, every one written here (`PageInputs`), each a digest of:

- `shared` (every page): the site-wide view (titles, asset URLs, footer, newest review
  date...) and the topic settings; the incremental layer adds the templates' fingerprint
  and each page's template name;
- an article page (`article`): its file and source digest, its rendered body's key, and the
  card, score and reasons of each article it suggests and the card of each linking to it;
  `own` is the part no other page's change can touch: its source and body key;
- a topic page (`topic`): the cards of its own articles and its sub-topics' counts;
- the lists, home, topic index, sitemap and feed (`lists`): every article's card, date,
  kind and topics; the topic map, these and the links between articles;
- the glossary (`glossary`): every entry;
- a card (`card`), what a list shows of an article: its URL, title and summary.

A page marked `covered` shows of other pages only what the graph digest (the pipeline's
`links`: front matter, links and picks of every article) covers: when that digest and
`shared` are as they were, such a page whose `own` is unchanged needs no key at all."""

from __future__ import annotations

import datetime as dt
import functools
import hashlib
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, NamedTuple

from ..link.graph import TopicGraph
from ..link.related import ReadingNext
from ..load.config import SiteConfig
from ..load.content import GlossaryEntry
from ..render.markup import Rendered
from . import views
from .templating import Lookups, article_view, site_view

View = Callable[[], dict[str, Any]]
Assets = dict[str, tuple[str, bytes | None]]  # templating.static_files: name: (path, bytes)


class PageSpec(NamedTuple):
    """One page to render. (A named tuple: a large site has tens of thousands, made on every
    build, and only the few whose inputs changed are rendered.)"""

    path: str  # the output file
    template: str  # the template that renders it
    what: str  # what it is, for problem messages (an article: its content file)
    view: View  # its whole template context, made when it is rendered
    inputs: Callable[[], str]  # its declared inputs beyond `Plan.shared` (see the keys above)
    covered: bool = False  # what it shows of other pages is covered by the graph digest
    own: str = ""  # what only this page is made from (a covered page is kept only if same)


@dataclass(frozen=True)
class Plan:
    """Every file of the site: the static files as they are, and the pages to render."""

    site: dict[str, Any]  # the site-wide view every page is given (as `site`)
    files: dict[str, bytes]  # the static files, by output path
    shared: str  # a digest of what every page shares (see the keys above)
    specs: tuple[PageSpec, ...]  # the site's own pages first (the largest), then articles


@dataclass(frozen=True)
class Bodies:
    """Where the article pages' rendered bodies come from: `rendered` gives one with its HTML
    and contents list, `key` a digest that changes whenever they do. By default the graph's
    own renderings, keyed by their HTML; the pipeline gives the render cache's (whose graph
    may hold a rendering without its HTML, and whose keys cost no hashing)."""

    rendered: Callable[[str], Rendered]
    key: Callable[[str], str]

    @classmethod
    def of(cls, graph: TopicGraph) -> Bodies:
        return cls(graph.rendered.__getitem__, functools.partial(_html_digest, graph))


def _html_digest(graph: TopicGraph, slug: str) -> str:
    return _digest(graph.rendered[slug].html.encode("utf-8", "surrogatepass"))


def _digest(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


class PageInputs:
    """What each page's memo key covers, all in one place (see the module's docstring). Each
    method is a page's `inputs` or a part of them; cards and the lists are worked out once
    per build (per process, when pages are keyed in worker processes)."""

    def __init__(self, graph: TopicGraph, nxt: ReadingNext, bodies: Bodies) -> None:
        self.graph, self.nxt, self.bodies = graph, nxt, bodies
        self._cards: dict[str, str] = {}
        self._lists = ""

    @staticmethod
    def shared(site: dict[str, Any], config: SiteConfig) -> str:
        """Every page: the site-wide view and the topic settings."""
        return _digest(repr((site, config.topics)).encode())

    def card(self, slug: str) -> str:
        """What a list shows of an article: its URL, title and summary."""
        found = self._cards.get(slug)
        if found is None:
            a = self.graph.articles[slug]
            found = self._cards[slug] = _digest(repr((a.url, a.title, a.meta.summary)).encode())
        return found

    def lists(self) -> str:
        """The home page, topic index, sitemap and feed: every article's card, date, kind and
        topics."""
        if not self._lists:
            self._lists = _digest(repr([
                (slug, self.card(slug), a.meta.reviewed, a.is_article, a.meta.topics)
                for slug, a in self.graph.articles.items()]).encode())
        return self._lists

    def topic_map(self) -> str:
        """The topic map: the lists, and the links between articles it draws."""
        return repr((self.lists(), list(self.graph.links_out.items())))

    def topic(self, slug: str) -> str:
        """A topic page: the cards of its own articles and its sub-topics' counts (so an
        article's new title changes only its own topics' pages)."""
        g = self.graph
        return repr((slug, ([self.card(s) for s in g.topic_articles.get(slug, ())],
                            [len(g.subtree_articles(c)) for c in g.children.get(slug, ())])))

    @staticmethod
    def glossary(glossary: list[GlossaryEntry]) -> str:
        """The glossary page: every entry."""
        return repr(glossary)

    @staticmethod
    def none() -> str:
        """The search page, the 404 page, robots.txt: nothing beyond what every page shares."""
        return repr(())

    def own(self, slug: str) -> str:
        """The part of an article page's inputs no other page's change can touch: its source
        and its rendered body."""
        return f"{self.graph.articles[slug].source}\0{self.bodies.key(slug)}"

    def article(self, slug: str) -> str:
        """An article page: its file and source (the front matter), its body's key (HTML and
        contents list), and the card, score and reasons of each article it suggests and the
        card of each one linking to it."""
        a = self.graph.articles[slug]
        return "\0".join([
            slug, a.path, a.url, a.source or repr(a.meta), self.bodies.key(slug),
            *(f"{s.slug}\1{s.score!r}\1{chr(2).join(s.reasons)}\1{self.card(s.slug)}"
              for s in self.nxt.by_article.get(slug, ())), "backlinks",
            *(self.card(b) for b in self.graph.links_in.get(slug, ()))])


def plan_pages(config: SiteConfig, graph: TopicGraph, nxt: ReadingNext,
               glossary: list[GlossaryEntry], assets: Assets,
               bodies: Bodies | None = None) -> Plan:
    """Every page of the site as a spec, with the static files (`assets`, as
    `templating.static_files` read them) and the site-wide view made from them."""
    bodies = bodies if bodies is not None else Bodies.of(graph)
    updated = max((a.meta.reviewed for a in graph.articles.values()), default=dt.date(2000, 1, 1))
    site = site_view(config, graph, assets, updated)
    files = {published: data for published, data in assets.values()
             if data is not None}  # (a file refused is not published)
    inputs = PageInputs(graph, nxt, bodies)
    specs = [*_site_pages(config, graph, glossary, site, inputs),
             *_article_pages(config, graph, nxt, site, inputs)]
    return Plan(site, files, inputs.shared(site, config), tuple(specs))


def _context(site: dict[str, Any], make: Callable[..., dict[str, Any]],
             *args: Any) -> dict[str, Any]:
    return {"site": site, **make(*args)}


def _site_pages(config: SiteConfig, graph: TopicGraph, glossary: list[GlossaryEntry],
                site: dict[str, Any], inputs: PageInputs) -> list[PageSpec]:
    """The site's own pages, in the order they are rendered."""
    p = functools.partial
    tree = functools.cache(p(views.topic_tree, config, graph))
    tree_page = p(_context, site, views.tree_page, tree)
    nothing = p(_context, site, views.nothing)
    specs = [PageSpec("index.html", "home.html", "the home page", tree_page, inputs.lists,
                      covered=True),
             PageSpec("topics/index.html", "topics.html", "the topic index", tree_page,
                      inputs.lists, covered=True)]
    specs += [PageSpec(f"topics/{t}/index.html", "topic.html", f"topic '{t}'",
                       p(_context, site, views.topic_page, config, graph, t),
                       p(inputs.topic, t), covered=True) for t in graph.topics]
    specs.append(PageSpec("glossary/index.html", "glossary.html", "the glossary",
                          p(_context, site, views.glossary_page, glossary),
                          p(inputs.glossary, glossary)))
    if config.search:
        specs.append(PageSpec("search/index.html", "search.html", "the search page", nothing,
                              inputs.none))
    specs += [
        PageSpec("topic-map/index.html", "topic-map.html", "the topic map",
                 p(_context, site, views.topic_map_page, graph, tree), inputs.topic_map,
                 covered=True),
        PageSpec("404.html", "404.html", "the 404 page", nothing, inputs.none),
        PageSpec("sitemap.xml", "sitemap.xml", "sitemap.xml",
                 p(_context, site, views.sitemap_page, config, graph), inputs.lists,
                 covered=True),
        PageSpec("feed.xml", "feed.xml", "feed.xml", p(_context, site, views.feed_page, config,
                                                       graph), inputs.lists, covered=True),
        PageSpec("robots.txt", "robots.txt", "robots.txt", nothing, inputs.none)]
    return specs


def _article_page(config: SiteConfig, graph: TopicGraph, nxt: ReadingNext,
                  site: dict[str, Any], lookups: Lookups, slug: str) -> dict[str, Any]:
    return {"site": site, "page": article_view(config, graph, slug, nxt, site, lookups)}


def _article_pages(config: SiteConfig, graph: TopicGraph, nxt: ReadingNext,
                   site: dict[str, Any], inputs: PageInputs) -> list[PageSpec]:
    """A page per article (and site page made from content), in the graph's order."""
    view = functools.partial(_article_page, config, graph, nxt, site,
                             Lookups(rendered=inputs.bodies.rendered))
    return [PageSpec(a.out_path, "article.html", a.path, functools.partial(view, slug),
                     functools.partial(inputs.article, slug), covered=True,
                     own=inputs.own(slug))
            for slug, a in graph.articles.items()]
