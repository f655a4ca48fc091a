"""Cache keys made of the topic graph (the others: see healthsite.incremental.memo's table)."""

from __future__ import annotations

import datetime as dt
import hashlib

from ..link.graph import TopicGraph
from ..load.config import SiteConfig


def graph_key(config: SiteConfig, graph: TopicGraph, day: dt.date,
               unloadable: frozenset[str]) -> str:
    """A digest of everything reading next, the lists and the links between pages are made
    from: the settings, the day, and each published article's front matter (its values, not
    their places), links and editor's picks. New wording leaves it as it was."""
    parts = [repr(config), day.isoformat(), repr(sorted(unloadable))]
    parts += [f"{slug}\1{a.meta_key or repr(a.meta)}\1{chr(2).join(graph.links_out.get(slug, ()))}"
              f"\1{chr(2).join(graph.picks.get(slug, ()))}" for slug, a in graph.articles.items()]
    return hashlib.sha256("\0".join(parts).encode()).hexdigest()
