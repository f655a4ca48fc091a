"""The changed-articles route (incremental layer): a rebuild after articles' own text
changed, and nothing else. It runs the same stage functions as a full build (parse, render,
the link, place and content checks, the article page) on the changed articles only, with what
the site-wide stages made of the rest taken from the last build (its record and facts).

Other pages show of an article only its front matter and the articles it links to (cards,
lists, reading next, backlinks: what `keys.graph_key` covers), and other articles'
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
import functools
import hashlib
import os
import zlib
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, replace
from pathlib import Path
from types import MappingProxyType
from typing import Any, NamedTuple

from ..check.checks import check_article
from ..errors import Level, Problem, ProblemList
from ..link.graph import Targets, TopicGraph, check_links, check_picks, check_place, topic_maps
from ..link.related import ReadingNext, Suggestion
from ..load.config import SiteConfig, Topic
from ..load.content import (
    Article,
    article_url,
    load_glossary,
    make_article,
    parse_file,
    parse_key,
    parse_settings,
)
from ..pages import render_page
from ..pages.templating import Card, Lookups, Templates, article_view, page_context
from ..publish.output import MARKER, OutputError, Written
from ..publish.search import INDEX_DIR, editions_of, indexer
from ..publish.search import update as search_update
from ..render import readability
from ..render.markup import Rendered, Renderer, Shared
from ..render.readability import Readability
from ..report import Audit, patched
from . import snapshot
from .cache import (
    CACHE_DIR,
    holds_pickled,
    keep_memo,
    pickled,
    read_pickle,
    recall_memo,
    write_pickled,
)

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
class Patch:
    """What a rebuild did: the build's problems and summary, and the files it wrote."""

    problems: list[Problem]
    summary: dict[str, float]
    pages: dict[str, bytes]
    kept: frozenset[str]
    written: Written
    articles: int
    audit: Audit | None = None  # what the report says of the site (when asked for one)


def mean_grade(grades: Iterable[float]) -> float:
    """The summary's average reading grade (-1 when there is none); a text in a language
    with no grade formula (NaN) is left out."""
    values = [g for g in grades if g == g]
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


def save(root: Path, facts: dict[str, tuple[Any, ...]]) -> tuple[str, ...]:
    """Keep a written build's facts for the next rebuild (after its output, before its
    record, which names the files returned). Each shard's file is named by a digest of its
    contents, so a shard that did not change is not written again (a new title changes
    one); files the new record does not name are removed (a build killed before it saved
    its record then has no record: the next build is a full one). Failing to save only
    means the next edit takes a full build."""
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
    for stale in present - set(names):
        with contextlib.suppress(OSError):
            os.unlink(folder / stale)
    return tuple(names)


class _FactsShards:
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


def rebuild(config: SiteConfig, out: Path, today: dt.date, prior: snapshot.Prior,
            templates: Callable[[], Templates | None], strict: bool,
            report: bool = False) -> Patch | str:
    """Rebuild after only articles changed, without their front matter, links or ids
    changing; otherwise (nothing written) why not. With `report`, the last build's audit
    (`report.Audit`) brought up to date too."""
    if len(config.all_editions) > 1:
        return "the site has several languages: the changed-articles route knows one"
    last = _last_build(prior)
    if isinstance(last, str):
        return last
    record, scan = last
    changed = _changed_articles(record, scan)
    if isinstance(changed, str):
        return changed
    try:
        return _rebuild(_Context.of(config, out, today, record, templates), prior, scan,
                        changed, strict, report)
    except _Stale as e:
        return str(e)


def _last_build(prior: snapshot.Prior) -> tuple[snapshot.Record, snapshot.Scan] | str:
    """The last written build's record and this build's scan of the inputs, when both are
    whole and the record has the facts this build needs; otherwise why not."""
    record, scan = prior.record, prior.inputs
    if record is None or scan is None or scan.pending or not prior.key:
        return "no record of the last written build, or inputs not all known yet"
    if len(record.facts) != SHARDS or record.options != prior.options:
        return "no facts saved by the last written build with these options"
    return record, scan


def _changed_articles(record: snapshot.Record, scan: snapshot.Scan) -> list[str] | str:
    """The input files changed since the last written build, when every one is an article
    that loaded then; otherwise why not."""
    if len(record.digests) != len(scan.digests):
        return "files were added or removed"
    changed = [rel for rel, digest in scan.digests.items() if record.digests.get(rel) != digest]
    if not changed:
        return "the output changed, not the inputs"
    if other := next((rel for rel in changed if rel not in record.slugs), None):
        return f"{other} changed and it is not an article that loaded"
    return changed


@dataclass
class _Context:
    """What rebuilding one changed article needs besides its file."""

    config: SiteConfig
    out: Path
    today: dt.date
    header: snapshot.Record
    known: _FactsShards
    renderer: Renderer
    templates: Callable[[], Templates | None]
    published: set[str]
    tree: tuple[dict[str, Topic], dict[str, tuple[str, ...]]]

    @classmethod
    def of(cls, config: SiteConfig, out: Path, today: dt.date, header: snapshot.Record,
           templates: Callable[[], Templates | None]) -> _Context:
        renderer = Renderer(dict(config.services),
                            {p: article_url(config.base_path, s) for p, s in header.slugs.items()},
                            load_glossary(config, ProblemList()), config.base_path + "glossary/",
                            config.raw_html,
                            Shared.load(config, ProblemList()))
        return cls(config, out, today, header, _FactsShards(_folder(config.root), header.facts),
                   renderer, functools.cache(templates), set(header.slugs.values()) - header.drafts,
                   topic_maps(config))


def _rebuild(ctx: _Context, prior: snapshot.Prior, scan: snapshot.Scan, changed: list[str],
             strict: bool, report: bool) -> Patch:
    """The changed articles' pages written, and the last build's problems, summary, record
    and (with `report`) audit patched to match (`ctx.header` is that record)."""
    root, record = ctx.config.root, ctx.header
    before = snapshot.load_audit(root, record) if report else None
    if report and before is None:
        raise _Stale("the last written build kept no report (it was not asked for one)")
    problems = ProblemList(dict(ctx.config.levels))
    grades = dict(record.grades)
    readable: dict[str, Readability] = {}
    words = _known_words(root)
    pages = _pages(ctx, changed, scan.digests, problems, grades, readable)
    found = _publishable(record, {*changed, *pages}, problems, strict)
    if (current := prior.current) is None:
        raise _Stale("the output folder is not as the last build left it")
    summary = {**record.summary, "grade": mean_grade(list(grades.values()))}
    audit = patched(before, readable) if before is not None else None
    # write: as pipeline._publish, the record is forgotten first and saved last
    snapshot.forget(root)
    written, manifest, kept = _write(ctx.config, ctx.out, pages, current)
    if len(readability.known()) != words:
        keep_memo(root, readability.MEMO, readability.known())
    snapshot.save(root, replace(record, fingerprint=prior.key, problems=found, summary=summary,
                                manifest=manifest, inputs=scan.known,
                                touched=record.touched | set(pages),
                                digests=dict(scan.digests), grades=grades,
                                audit=snapshot.save_audit(root, audit) if audit else ""))
    return Patch(found, summary, pages, kept, written, len(changed), audit)


def _known_words(root: Path) -> int:
    """How many words' syllable counts are known, those kept by earlier builds included."""
    if not readability.known():
        readability.learn(recall_memo(root, readability.MEMO))
    return len(readability.known())


def _pages(ctx: _Context, changed: list[str], digests: dict[str, str], problems: ProblemList,
           grades: dict[str, float], readable: dict[str, Readability]) -> dict[str, bytes]:
    """The changed published articles' pages, by output path (their reading grades set in
    `grades`, their readability in `readable`); a changed draft is only parsed, rendered
    and checked for its facts."""
    pages: dict[str, bytes] = {}
    for rel in changed:
        a, r = _article(ctx, rel, digests[rel], problems)
        if a.slug in ctx.header.drafts:  # (a draft has no page, no graph or content checks)
            problems.demote({a.path})  # (and its problems never stop a build: notices)
            continue
        page, grade = _page(ctx, a, r, problems)
        pages[a.out_path] = page
        if grade is not None:
            grades[a.slug], readable[a.slug] = grade.grade, grade
    return pages


def _publishable(record: snapshot.Record, gone: set[str], problems: ProblemList,
                 strict: bool) -> list[Problem]:
    """The last build's problems, but for the changed articles and their pages (`gone`),
    with the rebuild's own; none that would stop the output being published."""
    found = [p for p in record.problems if p.path not in gone] + problems.items()
    if any(p.level is Level.ERROR for p in found):
        raise _Stale("an error: not to be published (the full build reports it)")
    if strict and any(p.level is not Level.NOTICE for p in found):
        raise _Stale("--strict and a problem: not to be published")
    return found


def _article(ctx: _Context, rel: str, digest: str,
             problems: ProblemList) -> tuple[Article, Rendered]:
    """A changed article parsed and rendered, as the full build's stages do, checked to be
    the same as before in all that other pages show of it."""
    try:
        with open(os.path.join(ctx.config.root, rel), "rb") as fh:
            data = fh.read()
    except OSError as e:
        raise _Stale(f"{rel} cannot be read ({e.strerror})") from None
    if hashlib.sha256(data).hexdigest() != digest:
        raise _Stale(f"{rel} changed again since the scan")
    config, header = ctx.config, ctx.header
    parsed = parse_file(data, rel, {t.slug for t in config.topics}, config.review_interval_months)
    problems.extend(parsed.problems)
    a = make_article(rel, parse_key(rel, parse_settings(config), digest), parsed,
                     config.base_path, ctx.today, problems)
    if a is None or a.slug != header.slugs[rel]:
        raise _Stale(f"{rel} no longer loads as the article it was")
    facts = ctx.known[a.slug]
    if a.meta_key != facts.meta_key:
        raise _Stale(f"{rel}: its front matter changed")
    r = ctx.renderer.render(a)
    problems.extend(r.problems)
    if r.anchors != frozenset(facts.anchors):
        raise _Stale(f"{rel}: its headings' ids changed")
    return a, r


def _page(ctx: _Context, a: Article, r: Rendered,
          problems: ProblemList) -> tuple[bytes, Readability | None]:
    """A changed published article's checks and page, its neighbours' facts as saved."""
    header, known, facts = ctx.header, ctx.known, ctx.known[a.slug]
    links_out = tuple(check_links(a, r, Targets(header.slugs, known, header.drafts,
                                                header.unloadable), problems))
    if links_out != facts.links_out:
        raise _Stale(f"{a.path}: its links to other articles changed")
    picks = check_picks(a, ctx.published, header.drafts, header.unloadable, problems)
    check_place(a, facts.links_in, links_out, ctx.config.footer, problems)
    suggested = tuple(map(Suggestion._make, facts.suggested))
    mine = ctx.config.for_edition(ctx.config.editions_by_key()[a.lang]) if a.lang \
        else ctx.config  # (its language's alarm phrases)
    grade = check_article(mine, a, r, suggested, ctx.today, problems)
    if grade is not None and a.slug not in header.grades:
        raise _Stale(f"{a.path}: it now has a reading grade")
    tpl = ctx.templates()
    if tpl is None:
        raise _Stale("the templates do not load")
    graph = TopicGraph(MappingProxyType({a.slug: a}), MappingProxyType({a.slug: r}),
                       MappingProxyType(ctx.tree[0]), MappingProxyType(ctx.tree[1]),
                       MappingProxyType({}), MappingProxyType({a.slug: links_out}),
                       MappingProxyType({a.slug: facts.links_in}),
                       MappingProxyType({a.slug: picks}))
    late = frozenset({a.slug} if a.meta.next_review < ctx.today else ())
    view = article_view(ctx.config, graph, a.slug, ReadingNext({a.slug: suggested}, 0, late),
                        header.site, Lookups(card=lambda slug: known[slug].card,
                                             gettext=ctx.renderer.gettext))
    page = render_page(tpl, a.out_path, "article.html",
                       page_context(header.site, ctx.renderer.language.catalogue, [],
                                    page=view), a.path, problems)
    if page is None:
        raise _Stale(f"{a.path}: its page could not be rendered")
    return page, grade


def _write(config: SiteConfig, out: Path, pages: dict[str, bytes],
           previous: snapshot.Manifest) -> tuple[Written, snapshot.Manifest, frozenset[str]]:
    """Write the changed pages, keeping the other files of the `previous` output: a new
    folder indexed again with the search index on (as pipeline._write does), else an update
    of the intact output. Returns what was written, the new manifest and the files kept."""
    kept = snapshot.files(previous) - set(pages)
    try:
        index = None
        if config.search:  # (the index is brought up to date in the update's folder)
            kept -= {k for k in kept if k == MARKER or k.startswith(INDEX_DIR + "/")}
            index = indexer(out, editions_of(config), ProblemList(), in_place=True)
        written, changed = search_update(config.root, out, pages, frozenset(kept), previous,
                                         config.search, index)
        return written, snapshot.swapped(out, previous, changed), kept
    except OutputError as e:
        # refused or busy before anything was written, or the index failed and the folder
        # was not swapped in: the full build does it again and reports why
        raise _Stale(f"the output could not be written ({e})") from None
