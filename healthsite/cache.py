"""Caches that let a rebuild skip work: rendered Markdown keyed by everything that affects it.

A rendered body depends on the file's text and place (path, first body line), how many sources
it cites, and the build-wide environment: services, glossary, the raw-HTML policy, the URL of
every article (links are rewritten to URLs) and the versions of the code that renders. The key
hashes all of them, so a hit is always safe to reuse.

Entries live in memory (the preview server keeps them between rebuilds) and on disk under
`.cache/render/`, one JSON file per key with a checksum of its contents. A file that is
damaged, half-written or from another version fails the checksum or the parse and is ignored
and rewritten, never trusted. Files are written to a temporary name and renamed into place,
so concurrent builds can share the folder: the last rename wins, and both wrote the same bytes.
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
from dataclasses import dataclass, field
from importlib.metadata import version
from pathlib import Path
from typing import Any

from . import __version__
from .config import SiteConfig
from .content import Article, GlossaryEntry
from .errors import Level, Problem
from .markup import Link, Rendered

CACHE_DIR = ".cache"
FORMAT = 1


def environment_key(config: SiteConfig, articles: list[Article],
                    glossary: list[GlossaryEntry]) -> str:
    """A fingerprint of everything outside an article that changes how it renders."""
    h = hashlib.sha256()
    h.update(repr((FORMAT, __version__, version("markdown"), version("nh3"),
                   sorted(config.services.items()), config.raw_html, config.base_path,
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


def to_json(r: Rendered) -> dict[str, Any]:
    return {"html": r.html, "toc": [list(t) for t in r.toc],
            "links": [[lk.target, lk.anchor, lk.line, lk.col, lk.raw] for lk in r.links],
            "anchors": sorted(r.anchors), "care_kinds": sorted(r.care_kinds), "text": r.text,
            "citations": sorted(r.citations),
            "problems": [[p.path, p.line, p.col, p.level.value, p.code, p.message, p.hint]
                         for p in r.problems],
            "grade": r.grade, "words": r.words}


def from_json(d: dict[str, Any]) -> Rendered:
    return Rendered(
        html=d["html"], toc=tuple((int(a), str(b), str(c)) for a, b, c in d["toc"]),
        links=tuple(Link(t, a, int(ln), int(c), raw) for t, a, ln, c, raw in d["links"]),
        anchors=frozenset(d["anchors"]), care_kinds=frozenset(d["care_kinds"]),
        text=d["text"], citations=frozenset(int(c) for c in d["citations"]),
        problems=tuple(Problem(p, int(ln), int(c), Level(lv), code, msg, hint)
                       for p, ln, c, lv, code, msg, hint in d["problems"]),
        grade=float(d["grade"]), words=int(d["words"]))


@dataclass
class RenderCache:
    """Rendered bodies by key, in memory and (when given a folder) on disk."""

    folder: Path | None = None
    entries: dict[str, Rendered] = field(default_factory=dict)
    hits: int = 0
    misses: int = 0

    def get(self, key: str) -> Rendered | None:
        found = self.entries.get(key)
        if found is None and self.folder is not None:
            found = self._read(key)
            if found is not None:
                self.entries[key] = found
        if found is None:
            self.misses += 1
        else:
            self.hits += 1
        return found

    def save(self, key: str, rendered: Rendered) -> None:
        """Keep an entry on disk (memory is filled by the caller)."""
        if self.folder is not None:
            self._write(key, rendered)

    def keep_only(self, keys: set[str]) -> None:
        for stale in set(self.entries) - keys:
            del self.entries[stale]

    def _path(self, key: str) -> Path:
        assert self.folder is not None
        return self.folder / key[:2] / f"{key}.json"

    def _read(self, key: str) -> Rendered | None:
        try:
            raw = self._path(key).read_bytes()
            digest, _, body = raw.partition(b"\n")
            if hashlib.sha256(body).hexdigest().encode() != digest:
                return None
            data = json.loads(body)
            if data.get("key") != key or data.get("format") != FORMAT:
                return None
            return from_json(data["rendered"])
        except (OSError, ValueError, KeyError, TypeError):
            return None  # missing or damaged: render again

    def _write(self, key: str, rendered: Rendered) -> None:
        body = json.dumps({"format": FORMAT, "key": key, "rendered": to_json(rendered)},
                          ensure_ascii=False, separators=(",", ":")).encode()
        path = self._path(key)
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".tmp-")
            with os.fdopen(fd, "wb") as fh:
                fh.write(hashlib.sha256(body).hexdigest().encode() + b"\n" + body)
            os.replace(tmp, path)
        except OSError:
            pass  # a cache that cannot be written only costs time


def disk_cache(root: Path) -> Path:
    """The rendered-Markdown cache folder of a site."""
    return root / CACHE_DIR / "render"
