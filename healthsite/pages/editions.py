"""A page's versions in the site's languages: what the language switcher, the `hreflang`
alternates, the sitemap's `xhtml:link`s and the "translation outdated" line are made from.

A translation is the file with the same name in an edition's folder (content/es/x.md
translates content/x.md); a page with no original is allowed (it simply has no other
language). Pure: made from the settings and the topic graph.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass
from typing import Any

from ..link.graph import TopicGraph
from ..load.config import Edition, SiteConfig
from ..load.content import topic_key


@dataclass(frozen=True)
class Versions:
    """Every page's versions: `groups` maps an original's file to its slug in each edition
    that has it ("" the default's). `several`: whether the site has more than one edition
    (with one, no page has versions and nothing here costs anything)."""

    config: SiteConfig  # the whole site's
    graph: TopicGraph  # the whole site's
    groups: dict[str, dict[str, str]]
    several: bool

    @classmethod
    def of(cls, config: SiteConfig, graph: TopicGraph) -> Versions:
        several = len(config.all_editions) > 1
        groups: dict[str, dict[str, str]] = defaultdict(dict)
        if several:
            for slug, a in graph.articles.items():
                groups[a.original or a.path][a.lang] = slug
        return cls(config, graph, dict(groups), several)

    def _group(self, slug: str) -> dict[str, str]:
        a = self.graph.articles[slug]
        return self.groups.get(a.original or a.path, {})

    def absolute(self, url: str) -> str:
        """A site address (`/es/x/`) as a full URL."""
        return self.config.site_url + url[len(self.config.site_path):]

    def _entry(self, e: Edition, url: str, current: bool) -> dict[str, Any]:
        return {"code": e.code, "locale": e.locale, "name": e.name, "url": url,
                "href": self.absolute(url), "current": current, "default": e.default}

    def alternates(self, slug: str) -> list[dict[str, Any]]:
        """The article in every language it is published in, in the editions' order (none
        when it is in one only)."""
        group = self._group(slug) if self.several else {}
        if len(group) < 2:
            return []
        return [self._entry(e, self.graph.articles[group[e.key]].url, group[e.key] == slug)
                for e in self.config.all_editions if e.key in group]

    def same_page(self, config: SiteConfig, rest: str, topic: str | None = None
                  ) -> list[dict[str, Any]]:
        """One of the site's own pages (`rest`: "" the home page, "topics/", a topic's
        page...) in every edition that has it (a topic's page: those with articles in it)."""
        if not self.several:
            return []
        found = [self._entry(e, self.config.site_path + e.prefix + rest,
                             e.key == config.edition_key)
                 for e in self.config.all_editions if topic is None or self.has_topic(e, topic)]
        return found if len(found) > 1 else []

    def has_topic(self, edition: Edition, topic: str) -> bool:
        """Whether the edition has a page for the topic (the default has every topic's)."""
        return edition.default or bool(self.graph.subtree_articles(topic_key(edition.key, topic)))

    def topic_in(self, topic: str) -> tuple[str, ...]:
        """The editions with a page for the topic (part of its page's inputs)."""
        if not self.several:
            return ()
        return tuple(e.key for e in self.config.all_editions if self.has_topic(e, topic))

    def editions(self, config: SiteConfig) -> list[dict[str, Any]]:
        """Every edition's home page, for the site-wide view (none with one edition)."""
        return self.same_page(config, "")

    def footer(self, config: SiteConfig) -> list[dict[str, str]]:
        """The footer's pages for an edition: each one's translation where there is one,
        else the default language's page."""
        out = []
        for name in config.footer:
            slug = topic_key(config.edition_key, name)
            a = self.graph.articles.get(slug) or self.graph.articles.get(name)
            if a is not None:  # (another language's page says which: its lang attribute)
                locale = "" if a.lang == config.edition_key else self.config.all_editions[0].locale
                out.append({"url": a.url, "title": a.title, "lang": locale})
        return out

    def status(self, slug: str) -> dict[str, Any] | None:
        """For a translation whose original was reviewed after it: the original's address,
        language and review date (the page says the original was updated); else None."""
        original = self.original(slug)
        if original is None:
            return None
        a, o = self.graph.articles[slug], self.graph.articles[original]
        if o.meta.reviewed <= a.meta.reviewed:
            return None
        first = self.config.all_editions[0]
        return {"url": o.url, "reviewed": o.meta.reviewed, "language": first.name,
                "locale": first.locale}

    def original(self, slug: str) -> str | None:
        """The slug of the page a translation translates, when it is published."""
        a = self.graph.articles[slug]
        if not a.lang:
            return None
        return self.groups.get(a.original, {}).get("")

    def key(self, slug: str) -> str:
        """What an article's page shows of its versions (part of its inputs)."""
        if not self.several:
            return ""
        status = self.status(slug)
        return repr((self.alternates(slug),
                     None if status is None else (status["url"], status["reviewed"])))

    def outdated(self) -> list[tuple[str, str, dt.date, dt.date]]:
        """Every translation whose original was reviewed after it: its slug, its original's
        file, and the two review dates."""
        out = []
        for slug, a in self.graph.articles.items():
            original = self.original(slug)
            if original is not None:
                o = self.graph.articles[original]
                if o.meta.reviewed > a.meta.reviewed:
                    out.append((slug, o.path, a.meta.reviewed, o.meta.reviewed))
        return out
