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
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, NamedTuple

from ..link.graph import TopicGraph, edition_graph
from ..link.related import ReadingNext
from ..load.config import SiteConfig
from ..load.content import GlossaryEntry
from ..load.translations import Catalogue
from ..render.markup import Rendered, Shared, Surroundings
from . import views
from .editions import Versions
from .templating import Lookups, article_view, page_context, site_view

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
    # a draft's problems, shown on its own page (built with --drafts), by its file
    notes: Mapping[str, tuple[str, ...]] = field(default_factory=dict)

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
    def shared(sites: list[dict[str, Any]], config: SiteConfig) -> str:
        """Every page: the site-wide view (each edition's) and the topic settings."""
        return _digest(repr((sites[0] if len(sites) == 1 else sites, config.topics,
                             config.editions[1:])).encode())

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

    def topic(self, slug: str, editions: tuple[str, ...] = ()) -> str:
        """A topic page: the cards of its own articles and its sub-topics' counts (so an
        article's new title changes only its own topics' pages), in its edition, and the
        editions that have the topic too (`editions`)."""
        g = self.graph
        return repr((slug, editions, (
            [self.card(s) for s in g.topic_articles.get(slug, ())],
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

    def article(self, slug: str, versions: str = "") -> str:
        """An article page: its file and source (the front matter), its body's key (HTML and
        contents list), its other languages' URLs and dates (`versions`), and the card,
        score and reasons of each article it suggests and the card of each one linking to
        it."""
        a = self.graph.articles[slug]
        return "\0".join([
            slug, a.path, a.url, a.source or repr(a.meta), self.bodies.key(slug), versions,
            "overdue" if slug in self.nxt.overdue else "", *self.bodies.notes.get(a.path, ()),
            *(f"{s.slug}\1{s.score!r}\1{chr(2).join(s.reasons)}\1{self.card(s.slug)}"
              for s in self.nxt.by_article.get(slug, ())), "backlinks",
            *(self.card(b) for b in self.graph.links_in.get(slug, ()))])


def plan_pages(config: SiteConfig, graph: TopicGraph, nxt: ReadingNext,
               around: list[GlossaryEntry] | Mapping[str, Surroundings], assets: Assets,
               bodies: Bodies | None = None) -> Plan:
    """Every page of the site as a spec, with the static files (`assets`, as
    `templating.static_files` read them) and the site-wide view made from them. `around`
    gives each edition's glossary and language (by edition key), or is the glossary of a
    site with one edition. Each edition has its own pages (home, topics, glossary, search,
    topic map, feed, 404: under /code/ but for the default's); the sitemap and robots.txt
    are the whole site's."""
    bodies = bodies if bodies is not None else Bodies.of(graph)
    around = {"": Surroundings(around, Shared())} if isinstance(around, list) else around
    updated = max((a.meta.reviewed for a in graph.articles.values()), default=dt.date(2000, 1, 1))
    files = {published: data for published, data in assets.values()
             if data is not None}  # (a file refused is not published)
    inputs = PageInputs(graph, nxt, bodies)
    versions = Versions.of(config, graph)
    sites, specs = [], []
    for edition in config.all_editions:
        mine = config.for_edition(edition)
        part = edition_graph(graph, edition.key, prune=not edition.default) \
            if versions.several else graph
        site = site_view(mine, part, assets, updated, versions)
        sites.append(site)
        language = around[edition.key].language.catalogue if edition.key in around else None
        page = _Edition(mine, part, site, language, versions, edition.prefix)
        specs += _site_pages(page, around[edition.key].glossary if edition.key in around
                             else [], inputs, edition.default)
        specs += _article_pages(page, nxt, inputs)
    return Plan(sites[0], files, inputs.shared(sites, config), tuple(specs))


@dataclass(frozen=True)
class _Edition:
    """What one edition's pages are made from: its settings, its part of the graph, its
    site-wide view and catalogue, every page's versions, and its folder in the site."""

    config: SiteConfig
    graph: TopicGraph
    site: dict[str, Any]
    catalogue: Catalogue | None
    versions: Versions
    prefix: str

    @property
    def gettext(self) -> Callable[[str], str]:
        return self.catalogue.gettext if self.catalogue is not None else str

    def context(self, make: Callable[..., dict[str, Any]], alternates: Callable[[], list[Any]],
                *args: Any) -> dict[str, Any]:
        """A page's whole template context: the site, the page's other languages, the
        edition's interface text and what `make(*args)` gives."""
        return page_context(self.site, self.catalogue, alternates(), **make(*args))


def _site_pages(e: _Edition, glossary: list[GlossaryEntry], inputs: PageInputs,
                whole: bool) -> list[PageSpec]:
    """An edition's own pages, in the order they are rendered (with, for the default
    edition, the whole site's: `whole`)."""
    p, config, graph, pre = functools.partial, e.config, e.graph, e.prefix
    tree = functools.cache(p(views.topic_tree, config, graph))
    same = p(e.versions.same_page, config)
    tree_page = p(e.context, views.tree_page, p(same, ""), tree)
    specs = [PageSpec(f"{pre}index.html", "home.html", "the home page", tree_page,
                      inputs.lists, covered=True),
             PageSpec(f"{pre}topics/index.html", "topics.html", "the topic index",
                      p(e.context, views.tree_page, p(same, "topics/"), tree), inputs.lists,
                      covered=True)]
    specs += [PageSpec(f"{pre}topics/{t}/index.html", "topic.html", f"topic '{t}'",
                       p(e.context, views.topic_page, p(same, f"topics/{t}/", t), config,
                         graph, t, e.gettext),
                       p(inputs.topic, t, e.versions.topic_in(t)), covered=True)
              for t in graph.topics]
    specs.append(PageSpec(f"{pre}glossary/index.html", "glossary.html", "the glossary",
                          p(e.context, views.glossary_page, p(same, "glossary/"), glossary),
                          p(inputs.glossary, glossary)))
    if config.search:
        specs.append(PageSpec(f"{pre}search/index.html", "search.html", "the search page",
                              p(e.context, views.nothing, p(same, "search/")), inputs.none))
    specs += [
        PageSpec(f"{pre}topic-map/index.html", "topic-map.html", "the topic map",
                 p(e.context, views.topic_map_page, p(same, "topic-map/"), graph, tree,
                   e.gettext),
                 inputs.topic_map, covered=True),
        PageSpec(f"{pre}404.html", "404.html", "the 404 page",
                 p(e.context, views.nothing, list), inputs.none)]
    if whole:
        specs.append(PageSpec("sitemap.xml", "sitemap.xml", "sitemap.xml",
                              p(e.context, views.sitemap_page, list, config,
                                e.versions.graph, e.versions), inputs.lists, covered=True))
    specs.append(PageSpec(f"{pre}feed.xml", "feed.xml", "feed.xml",
                          p(e.context, views.feed_page, list, config, graph), inputs.lists,
                          covered=True))
    if whole:
        specs.append(PageSpec("robots.txt", "robots.txt", "robots.txt",
                              p(e.context, views.nothing, list), inputs.none))
    return specs


def _article_page(e: _Edition, nxt: ReadingNext, lookups: Lookups,
                  slug: str) -> dict[str, Any]:
    view = article_view(e.config, e.graph, slug, nxt, e.site, lookups)
    return page_context(e.site, e.catalogue, e.versions.alternates(slug), page=view)


def _article_pages(e: _Edition, nxt: ReadingNext, inputs: PageInputs) -> list[PageSpec]:
    """A page per article (and site page made from content) of the edition, in the graph's
    order."""
    lookups = Lookups(rendered=inputs.bodies.rendered, gettext=e.gettext,
                      translation=e.versions.status if e.versions.several else None,
                      notes=inputs.bodies.notes)
    view = functools.partial(_article_page, e, nxt, lookups)
    return [PageSpec(a.out_path, "article.html", a.path, functools.partial(view, slug),
                     functools.partial(inputs.article, slug, e.versions.key(slug)),
                     covered=True, own=inputs.own(slug))
            for slug, a in e.graph.articles.items()]
