"""The views of the site's own pages (home, topics, glossary, topic map, sitemap, feed): what
each template is given, made from the graph and the settings. Pure functions; an article
page's view is `templating.article_view`."""

from __future__ import annotations

import datetime as dt
import hashlib
import string
import unicodedata
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from ..link.graph import TopicGraph
from ..load.config import SiteConfig
from ..load.content import GlossaryEntry
from . import topicmap
from .templating import topic_url

if TYPE_CHECKING:
    from .editions import Versions

Tree = list[dict[str, Any]]


def site_base(config: SiteConfig) -> str:
    return config.base_url.rstrip("/") + "/"


def _card(graph: TopicGraph, slug: str) -> dict[str, str]:
    a = graph.articles[slug]
    return {"url": a.url, "title": a.title, "summary": a.meta.summary}


def topic_tree(config: SiteConfig, graph: TopicGraph) -> Tree:
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


def topic_view(config: SiteConfig, graph: TopicGraph, slug: str,
               gettext: Callable[[str], str] = str) -> dict[str, Any]:
    """The view of one topic page: its articles, sub-topics and place in the tree."""
    t = graph.topics[slug]
    crumbs = [{"url": config.base_path, "title": gettext("Home")},
              {"url": config.base_path + "topics/", "title": gettext("Topics")}]
    crumbs += [{"url": topic_url(config, p), "title": graph.topics[p].title}
               for p in reversed(graph.ancestors(slug))]
    return {
        "slug": slug, "title": t.title, "description": t.description,
        "url": topic_url(config, slug), "lay": list(t.lay), "clinical": list(t.clinical),
        "names": list(t.names),
        "breadcrumbs": crumbs,
        "articles": [_card(graph, s) for s in graph.topic_articles.get(slug, ())],
        "children": [{"url": topic_url(config, c), "title": graph.topics[c].title,
                      "description": graph.topics[c].description,
                      "count": len(graph.subtree_articles(c))}
                     for c in graph.children.get(slug, ())],
        "canonical": site_base(config) + f"topics/{slug}/",
    }


# What each of the site's own pages is given besides the site-wide view (`site`). The topic
# tree comes as a function: three pages show it, and it is made once, when first asked for.

def nothing() -> dict[str, Any]:
    """The search page, the 404 page, robots.txt: the site-wide view is all they show."""
    return {}


def tree_page(tree: Callable[[], Tree]) -> dict[str, Any]:
    """The home page and the topic index."""
    return {"tree": tree()}


def topic_page(config: SiteConfig, graph: TopicGraph, slug: str,
               gettext: Callable[[str], str] = str) -> dict[str, Any]:
    return {"topic": topic_view(config, graph, slug, gettext)}


ALPHABET = tuple(string.ascii_uppercase)


def fold(text: str) -> str:
    """`text` without its accents, in capitals: its place in an A–Z ("Ácido" is under A)."""
    plain = unicodedata.normalize("NFKD", text)
    return "".join(c for c in plain if not unicodedata.combining(c)).upper()


def initial(term: str) -> str:
    """The A–Z letter a term is listed under; "#" for one that starts with no letter A–Z."""
    first = fold(term.strip())[:1]
    return first if first in ALPHABET else "#"


def glossary_page(glossary: list[GlossaryEntry]) -> dict[str, Any]:
    """The terms in A–Z order (accents and case ignored), in groups by their initial
    (`groups`: letter and entries), and the A–Z index (`letters`: every letter, with the id
    of its first term, or None when no term starts with it)."""
    entries = sorted(glossary, key=lambda e: (fold(e.term), e.term))
    groups: dict[str, list[dict[str, Any]]] = {}
    for e in entries:
        groups.setdefault(initial(e.term), []).append(
            {"id": e.id, "term": e.term, "also": list(e.also), "definition": e.definition})
    letters = [*ALPHABET, *(["#"] if "#" in groups else [])]
    return {"groups": [{"letter": k, "entries": groups[k]} for k in letters if k in groups],
            "letters": [{"letter": k, "id": groups[k][0]["id"] if k in groups else None}
                        for k in letters]}


def topic_map_page(graph: TopicGraph, tree: Callable[[], Tree],
                   gettext: Callable[[str], str] = str) -> dict[str, Any]:
    """The topic map draws the links between articles as well as the tree."""
    return {"svg": topicmap.draw(graph, gettext), "tree": tree()}


def listed(config: SiteConfig, graph: TopicGraph) -> list[dict[str, Any]]:
    """What the sitemap and the feed show of every page made from content."""
    return [{"path": a.url[len(config.base_path):], "title": a.title,
             "summary": a.meta.summary, "reviewed": a.meta.reviewed,
             "is_article": a.is_article} for a in graph.articles.values()]


def sitemap_page(config: SiteConfig, graph: TopicGraph,
                 versions: Versions | None = None) -> dict[str, Any]:
    """Every page made from content and every topic's page; with several editions, each
    page's versions in the other languages too (`alternates`: its `xhtml:link`s)."""
    if versions is None or not versions.several:
        return {"articles": listed(config, graph),
                "topics": [f"topics/{t}/" for t in graph.topics]}
    pages = [{**item, "alternates": versions.alternates(slug)}
             for item, slug in zip(listed(config, graph), graph.articles, strict=True)]
    topics = [{"path": f"{e.prefix}topics/{t.slug}/",
               "alternates": versions.same_page(config.for_edition(e), f"topics/{t.slug}/",
                                                t.slug)}
              for e in config.all_editions for t in config.topics
              if versions.has_topic(e, t.slug)]
    return {"articles": pages, "topics": topics, "editions": True}


DAY_SECONDS = 86_400
HOUR_SECONDS = 3_600


def _second_of_day(path: str) -> int:
    """A second in the first hour of the day, fixed by a page's address alone (so it never
    moves while the page's review date stays)."""
    return int.from_bytes(hashlib.sha256(path.encode()).digest()[:4], "big") % HOUR_SECONDS


def entry_times(articles: list[dict[str, Any]]) -> dict[str, dt.datetime]:
    """Each article's `updated` instant in the feed: on its review date (in UTC), in the
    day's first hour, at a second fixed by its address; articles reviewed the same day get
    distinct seconds (the next free one on a collision, in address order). The date is the
    one the editor gave; no source says at what time of day a review ended (git's times are
    not the review's, and one commit changes many articles at the same instant), so the
    time only tells the entries of one day apart (the feed validator warns on two entries
    with the same `updated`), and early in the day, so it is not in the future for a site
    published on the day of a review."""
    times: dict[str, dt.datetime] = {}
    taken: set[dt.datetime] = set()
    for a in sorted(articles, key=lambda a: a["path"]):
        day = dt.datetime.combine(a["reviewed"], dt.time(), tzinfo=dt.UTC)
        second = _second_of_day(a["path"])
        while (at := day + dt.timedelta(seconds=second % DAY_SECONDS)) in taken:
            second += 1
        taken.add(at)
        times[a["path"]] = at
    return times


def rfc3339(at: dt.datetime) -> str:
    """An instant in UTC as Atom writes it: 2026-12-06T14:03:27Z."""
    return at.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def feed_page(config: SiteConfig, graph: TopicGraph) -> dict[str, Any]:
    """The articles (not the site pages), the most recently updated first, each with its
    `updated` instant (`entry_times`); the feed's own `updated` is the latest of them (None
    without articles: the template then uses the site's date)."""
    articles = [a for a in listed(config, graph) if a["is_article"]]
    times = entry_times(articles)
    entries = sorted(({**a, "updated": rfc3339(times[a["path"]])} for a in articles),
                     key=lambda a: (times[a["path"]], a["path"]), reverse=True)
    return {"articles": entries, "updated": entries[0]["updated"] if entries else None}
