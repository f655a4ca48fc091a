"""Stage 0: a rebuild after articles' own text changed, and nothing else.

Other pages show of an article only its front matter and the articles it links to (cards,
lists, reading next, backlinks: what `pipeline._graph_key` covers), and other articles'
checks look only at its slug, file, ids and whether it is a draft. So when the only files
changed since the last written build are articles, and each keeps its front matter values,
its links to other articles and its ids, then only its own page and its own problems can
change.

After every written build, `save` keeps what that takes to know, per article (`Facts`, by
slug, in small shards) and for the build (`Header`). `rebuild` checks the conditions above
as it goes: it parses and renders only the changed articles, runs their checks, renders
their pages, and then writes those pages and patches the last build's problems, summary
and record. If any condition fails it returns None, having written nothing, and the full
build runs (which then finds the changed articles' pages in no cache and renders them).

The page memo is not read or written here (it is large); the pages written here are listed
in the record (`Record.touched`), and the next build that uses the memo forgets them. With
the search index on, the output is written as a new folder and indexed before it is
swapped in, as a full build writes it.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import hashlib
import os
import zlib
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from types import MappingProxyType
from typing import Any, NamedTuple

from . import readability, snapshot
from .cache import (
    CACHE_DIR,
    holds_pickled,
    keep_memo,
    pickled,
    read_pickle,
    recall_memo,
    write_pickle,
    write_pickled,
)
from .checks import check_article
from .config import SiteConfig
from .content import (
    Article,
    article_url,
    load_glossary,
    make_article,
    parse_file,
    parse_key,
    parse_settings,
)
from .errors import Level, Problem, ProblemList
from .graph import TopicGraph, check_links, check_picks, check_place, topic_maps
from .markup import Rendered, Renderer
from .output import MARKER, OutputError, Written, update_site, write_site
from .pages import render_page
from .related import ReadingNext, Suggestion
from .search import INDEX_DIR, indexer
from .templating import Card, Templates, article_view

FOLDER = "facts"
SHARDS = 64


class Facts(NamedTuple):
    """What pages and checks use of one article, besides its own page. (Kept as a plain
    tuple, a dozen objects: a full build saves 10,000 of them.)"""

    meta_key: str  # a digest of its front matter's values
    anchors: tuple[str, ...]  # the ids on its page, sorted (links to it are checked)
    card: Card  # what other pages show of it
    links_out: tuple[str, ...]  # the published articles it links to (none for a draft)
    links_in: tuple[str, ...]  # its backlinks
    suggested: tuple[tuple[str, float, tuple[str, ...]], ...]  # its reading next


@dataclass
class Header:
    """What a rebuild needs to know of the last written build as a whole."""

    key: str  # that build's fingerprint (its record's): the facts belong to that record
    options: str  # its output folder, drafts option and day
    digests: dict[str, str]  # every input file's digest
    slugs: dict[str, str]  # every article that loaded: its slug by its file
    drafts: frozenset[str]  # the slugs not published
    unloadable: frozenset[str]
    grades: dict[str, float]  # the health articles' reading grades, in the summary's order
    site: dict[str, Any] = field(default_factory=dict)  # the site-wide view of its pages
    shards: tuple[str, ...] = ()  # the file of each shard of facts (named by its contents)


@dataclass
class Patch:
    """What a rebuild did: the build's problems and summary, and the files it wrote."""

    problems: list[Problem]
    summary: dict[str, float]
    pages: dict[str, bytes]
    kept: frozenset[str]
    written: Written
    articles: int


def mean_grade(grades: Iterable[float]) -> float:
    """The summary's average reading grade (-1 when there is none)."""
    values = list(grades)
    return sum(values) / len(values) if values else -1.0


def _shard(slug: str) -> int:
    return zlib.crc32(slug.encode()) % SHARDS


def _folder(root: Path) -> Path:
    return root / CACHE_DIR / FOLDER


def facts_of(articles: list[Article], rendered: Mapping[str, Rendered], graph: TopicGraph,
             nxt: ReadingNext) -> dict[str, tuple[Any, ...]]:
    """Every loaded article's facts (drafts too: links to them are checked), as plain
    tuples (see Facts), without sets (so that equal facts pickle alike: see `save`)."""
    links_out, links_in, suggested = graph.links_out, graph.links_in, nxt.by_article
    return {a.slug: (a.meta_key, tuple(sorted(rendered[a.slug].anchors)),
                     (a.url, a.title, a.meta.summary),
                     links_out.get(a.slug, ()), links_in.get(a.slug, ()),
                     tuple(map(tuple, suggested.get(a.slug, ()))))
            for a in articles}


def save(root: Path, header: Header, facts: dict[str, tuple[Any, ...]]) -> None:
    """Keep a written build's facts for the next rebuild (after its output, before its
    record). Each shard's file is named by a digest of its contents, so a shard that did
    not change is not written again (a new title changes one); the header, written last,
    names the files, and files it does not name are removed after it. Failing to save
    only means the next edit takes a full build."""
    parts: list[dict[str, tuple[Any, ...]]] = [{} for _ in range(SHARDS)]
    for slug, f in facts.items():
        parts[_shard(slug)][slug] = f
    folder = _folder(root)
    try:
        present = set(os.listdir(folder))
    except OSError:
        present = set()
    names = []
    for shard, part in enumerate(parts):
        body = pickled("facts", part, same=True)
        name = f"{shard:02x}-{hashlib.sha256(body).hexdigest()[:16]}.pickle"
        if name not in present or not holds_pickled(folder / name, body):
            write_pickled(folder / name, body)
        names.append(name)
    write_pickle(folder / HEADER, "facts-header", replace(header, shards=tuple(names)))
    for stale in present - {*names, HEADER}:
        with contextlib.suppress(OSError):
            os.unlink(folder / stale)


HEADER = "header.pickle"


class _Known:
    """The saved facts, read a shard at a time as articles are asked for."""

    def __init__(self, folder: Path, shards: tuple[str, ...]) -> None:
        self.folder, self.shards = folder, shards
        self.parts: dict[int, dict[str, tuple[Any, ...]]] = {}

    def _part(self, slug: str) -> dict[str, tuple[Any, ...]]:
        shard = _shard(slug)
        if shard not in self.parts:
            name = self.shards[shard] if len(self.shards) == SHARDS else ""
            named = name.removesuffix(".pickle").partition("-")[2]  # (see `save`)
            # a sound shard of older facts under this name is as untrustworthy as a
            # damaged one: its bytes must be those the name was made from
            found = read_pickle(self.folder / name, "facts", named) \
                if len(named) == 16 else None
            self.parts[shard] = found if isinstance(found, dict) else {}
        return self.parts[shard]

    def __getitem__(self, slug: str) -> Facts:
        found = self._part(slug).get(slug)
        if not isinstance(found, tuple) or len(found) != len(Facts._fields):
            raise _Stale(f"no facts for '{slug}'")
        return Facts._make(found)


class _Stale(Exception):
    """The saved facts do not cover what this rebuild needs: build in full."""


def rebuild(config: SiteConfig, out: Path, today: dt.date, record: snapshot.Record | None,
            scan: snapshot.Scan | None, key: str, options: str, intact: Callable[[], bool],
            templates: Callable[[], Templates | None], strict: bool) -> Patch | None:
    """Rebuild after only articles changed, without their front matter, links or ids
    changing; None (nothing written) when that is not the case."""
    if record is None or scan is None or scan.pending or not key:
        return None
    header = read_pickle(_folder(config.root) / HEADER, "facts-header")
    if not isinstance(header, Header) or header.key != record.fingerprint \
            or header.options != options or len(header.digests) != len(scan.digests):
        return None
    changed = [rel for rel, digest in scan.digests.items() if header.digests.get(rel) != digest]
    if not changed or any(rel not in header.slugs for rel in changed):
        return None
    try:
        return _rebuild(config, out, today, record, scan, key, header, changed, templates,
                        intact, strict)
    except _Stale:
        return None


def _rebuild(config: SiteConfig, out: Path, today: dt.date, record: snapshot.Record,
             scan: snapshot.Scan, key: str, header: Header, changed: list[str],
             templates: Callable[[], Templates | None], intact: Callable[[], bool],
             strict: bool) -> Patch | None:
    root = config.root
    known = _Known(_folder(root), header.shards)
    problems = ProblemList(dict(config.levels))
    topics = {t.slug for t in config.topics}
    settings = parse_settings(config)
    renderer = Renderer(dict(config.services),
                        {p: article_url(config.base_path, s) for p, s in header.slugs.items()},
                        load_glossary(config, ProblemList()), config.base_path + "glossary/",
                        config.raw_html)
    published = set(header.slugs.values()) - header.drafts
    tree, children = topic_maps(config)
    tpl: Templates | None = None
    grades = dict(header.grades)
    pages: dict[str, bytes] = {}
    if not readability.known():
        readability.learn(recall_memo(root, readability.MEMO))
    words = len(readability.known())
    for rel in changed:
        try:
            with open(os.path.join(root, rel), "rb") as fh:
                data = fh.read()
        except OSError:
            return None
        digest = hashlib.sha256(data).hexdigest()
        if digest != scan.digests[rel]:
            return None  # changed again since the scan
        parsed = parse_file(data, rel, topics, config.review_interval_months)
        problems.extend(parsed.problems)
        a = make_article(rel, parse_key(rel, settings, digest), parsed, config.base_path,
                         today, problems)
        if a is None or a.slug != header.slugs[rel] or a.meta_key != known[a.slug].meta_key:
            return None
        facts = known[a.slug]
        r = renderer.render(a)
        problems.extend(r.problems)
        if r.anchors != frozenset(facts.anchors):
            return None
        if a.slug in header.drafts:
            continue  # (a draft has no page, no graph checks and no content checks)
        links_out = tuple(check_links(a, r, header.slugs, known, header.drafts, problems,
                                      header.unloadable))
        if links_out != facts.links_out:
            return None
        picks = check_picks(a, published, header.drafts, header.unloadable, problems)
        check_place(a, facts.links_in, links_out, config.footer, problems)
        suggested = tuple(map(Suggestion._make, facts.suggested))
        grade = check_article(config, a, r, suggested, today, problems)
        if grade is not None:
            if a.slug not in grades:
                return None
            grades[a.slug] = grade.grade
        tpl = tpl or templates()
        if tpl is None:
            return None
        graph = TopicGraph(MappingProxyType({a.slug: a}), MappingProxyType({a.slug: r}),
                           MappingProxyType(tree), MappingProxyType(children),
                           MappingProxyType({}), MappingProxyType({a.slug: links_out}),
                           MappingProxyType({a.slug: facts.links_in}),
                           MappingProxyType({a.slug: picks}))
        view = article_view(config, graph, a.slug, ReadingNext({a.slug: suggested}, 0),
                            header.site, card=lambda slug: known[slug].card)
        page = render_page(tpl, a.out_path, "article.html", {"site": header.site, "page": view},
                           a.path, problems)
        if page is None:
            return None
        pages[a.out_path] = page
    # the last build's problems, but for the changed articles and their pages
    gone = {*changed, *pages}
    found = [p for p in record.problems if p.path not in gone] + problems.items()
    if any(p.level is Level.ERROR for p in found) or (strict and found) or not intact():
        return None  # not to be published (the full build reports why), or not as recorded
    summary = {**record.summary, "grade": mean_grade(list(grades.values()))}
    # write: as pipeline._publish, the record is forgotten first and saved last
    snapshot.forget(root)
    kept = frozenset(k for k in record.manifest if k and not k.endswith("/")) - set(pages)
    try:
        if config.search:  # a new folder, indexed again, as pipeline._write does
            kept -= {k for k in kept if k == MARKER or k.startswith(INDEX_DIR + "/")}
            written = write_site(root, out, pages, indexer(out, config.language, ProblemList()),
                                 kept=kept)
            manifest = snapshot.manifest(out)
        else:
            written = update_site(root, out, pages, kept, record.manifest)
            manifest = snapshot.swapped(out, record.manifest, written.changed)
    except OutputError:
        # refused or busy before anything was written, or the index failed and the folder
        # was not swapped in: the full build does it again and reports why
        return None
    write_pickle(_folder(root) / HEADER, "facts-header",
                 replace(header, key=key, digests=dict(scan.digests), grades=grades))
    if len(readability.known()) != words:
        keep_memo(root, readability.MEMO, readability.known())
    snapshot.save(root, snapshot.Record(key, found, summary, manifest, scan.known,
                                        record.touched | set(pages)))
    return Patch(found, summary, pages, kept, written, len(changed))
