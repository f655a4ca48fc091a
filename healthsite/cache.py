"""Caches that let a rebuild skip work: rendered Markdown keyed by everything that affects it.

A rendered body depends on the file's text and place (path, first body line), how many sources
it cites, and the build-wide environment: services, glossary, the raw-HTML policy and the URL
of every article (links are rewritten to URLs). The key hashes all of them, so a hit is always
safe to reuse."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field

from .config import SiteConfig
from .content import Article, GlossaryEntry
from .markup import Rendered


def environment_key(config: SiteConfig, articles: list[Article],
                    glossary: list[GlossaryEntry]) -> str:
    """A fingerprint of everything outside an article that changes how it renders."""
    h = hashlib.sha256()
    h.update(repr((sorted(config.services.items()), config.raw_html, config.base_path,
                   glossary)).encode())
    for a in sorted(articles, key=lambda a: a.path):
        h.update(f"{a.path}\0{a.url}\0".encode())
    return h.hexdigest()


def article_key(article: Article, environment: str) -> str:
    """A fingerprint of one article's rendering inputs."""
    h = hashlib.sha256()
    h.update(f"{environment}\0{article.path}\0{article.body_line}\0"
             f"{len(article.meta.sources)}\0".encode())
    h.update(article.body.encode("utf-8", "surrogatepass"))
    return h.hexdigest()


@dataclass
class RenderCache:
    """Rendered bodies by key; keeps only what the latest build used."""

    entries: dict[str, Rendered] = field(default_factory=dict)
    hits: int = 0
    misses: int = 0

    def get(self, key: str) -> Rendered | None:
        found = self.entries.get(key)
        if found is None:
            self.misses += 1
        else:
            self.hits += 1
        return found

    def keep_only(self, keys: set[str]) -> None:
        for stale in set(self.entries) - keys:
            del self.entries[stale]
