"""Every key the incremental layer files what a build made under, and what each covers.
A memo entry is reused only when its key is the same, so a key must cover every input of
what it keys; `tests/test_incremental_property.py` (a random walk of edits of every kind,
each build compared with one from scratch) is what finds a key that does not.

- `cache.engine_fingerprint`, in the header of every file kept in .cache/: the engine's
  source, Python's and the libraries' versions, and the fast paths' switch.
- `content.parse_key`, a content file parsed (front matter and body): its path, its bytes'
  digest, the topics and the review interval (`content.parse_settings`).
- `article_key`, an article's rendering (HTML, contents, links, ids, grade): its path,
  first body line, number of sources and its file's digest, and `environment_key`: the
  engine, the services, the raw-HTML policy, the base path, the glossary, the pictures
  (each one's published name, size and smaller copies: `load.images.images_digest`), the
  shared care cards (`load.cards.cards_digest`: editing one renders again every page) and
  every article's path and URL (links are rewritten to URLs).
- `graph_key`, reading next and every page that shows other pages (lists, cards,
  backlinks): the settings, the day, the files that could not be loaded, and each published
  article's front matter, links to other articles and editor's picks.
- `pages.plan.PageInputs`, each page: its template and the site-wide view, and what the
  page itself shows (see healthsite/pages/plan.py).
- `fingerprint`, the record of the last written build (`snapshot.Record`; when it is the
  same and the output untouched, there is nothing to do): every input file's digest, the
  engine, the output folder, the drafts option and the day.
"""

from __future__ import annotations

import datetime as dt
import hashlib

from ..link.graph import TopicGraph
from ..load.cards import cards_digest
from ..load.config import SiteConfig
from ..load.content import Article
from ..load.images import images_digest
from ..render.markup import Surroundings
from .cache import engine_fingerprint


def environment_key(config: SiteConfig, articles: list[Article], around: Surroundings) -> str:
    """A fingerprint of everything outside an article that changes how it renders."""
    h = hashlib.sha256()
    h.update(repr((engine_fingerprint(), sorted(config.services.items()), config.raw_html,
                   config.base_path, around.glossary, images_digest(around.shared.images.table),
                   cards_digest(around.shared.cards), around.language.code,
                   around.language.catalogue.digest if around.language.catalogue else "")
                  ).encode())
    for a in sorted(articles, key=lambda a: a.path):
        h.update(f"{a.path}\0{a.url}\0".encode())
    return h.hexdigest()


def article_key(article: Article, environment: str) -> str:
    """A fingerprint of one article's rendering inputs (its source digest, when it has one,
    covers its path, body and sources)."""
    h = hashlib.sha256()
    h.update(f"{environment}\0{article.path}\0{article.body_line}\0"
             f"{len(article.meta.sources)}\0{article.source}\0".encode())
    if not article.source:
        h.update(article.body.encode("utf-8", "surrogatepass"))
    return h.hexdigest()


def graph_key(config: SiteConfig, graph: TopicGraph, day: dt.date,
               unloadable: frozenset[str]) -> str:
    """A digest of everything reading next, the lists and the links between pages are made
    from: the settings, the day, and each published article's front matter (its values, not
    their places), links and editor's picks. New wording leaves it as it was."""
    parts = [repr(config), day.isoformat(), repr(sorted(unloadable))]
    parts += [f"{slug}\1{a.meta_key or repr(a.meta)}\1{chr(2).join(graph.links_out.get(slug, ()))}"
              f"\1{chr(2).join(graph.picks.get(slug, ()))}" for slug, a in graph.articles.items()]
    return hashlib.sha256("\0".join(parts).encode()).hexdigest()


def fingerprint(inputs: dict[str, str], options: str) -> str:
    """One digest of the inputs, the engine and the options that shape the output."""
    h = hashlib.sha256(f"{engine_fingerprint()}\0{options}\0".encode())
    for path in sorted(inputs):
        h.update(f"{path}\0{inputs[path]}\0".encode("utf-8", "surrogateescape"))
    return h.hexdigest()
