"""The incremental layer's memo of the stages: what a build keeps (in memory for the
preview, in .cache/ between builds) and how each stage is run with it.

Each function here runs one stage of healthsite.pipeline with its memo. The stages
themselves (Renderer.render, related.compute, load_templates) know nothing of it, but for
one: content.load_articles is handed the parse memo and the input scan's digests as
arguments (it looks files up in it as it finds them). With the cache off (`--no-cache`)
every one of them runs the stage as it is. What each memo key covers is
written in healthsite.incremental.keys, with every other key.

    stage            memo (in BuildState, and on disk under .cache/)  keyed by
    load             parsed/ (front matter), parsed/bodies/           content.parse_key
    markdown         render/ (light entries), render/bodies/         keys.article_key
    reading next     related.pickle                                   keys.graph_key, per article
    templates        jinja/<engine>/ (compiled)                       the engine and template
    pages            pages.pickle (+ the previous output itself)      pages.plan.PageInputs
    the whole build  build.pickle (snapshot.Record), facts/ (delta)   keys.fingerprint
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib
import shutil
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType
from typing import TYPE_CHECKING

from ..check.urls import read_sitemap
from ..errors import ProblemList
from ..link.graph import Renamed, TopicGraph
from ..link.related import (
    Memo,
    Prepared,
    ReadingNext,
    compute,
    outline,
    overdue,
    pack,
    unpack,
)
from ..load.config import SiteConfig
from ..load.content import Article, Corpus, ParseMemo, load_articles
from ..pages.templating import Templates, load_templates
from ..parallel import Background, map_indexed
from ..render import readability
from ..render.markup import Rendered, Renderer, Renderers, Surroundings
from . import keys, snapshot
from .cache import (
    CACHE_DIR,
    LazyStore,
    RenderCache,
    Store,
    disk_cache,
    engine_fingerprint,
    keep_memo,
    recall_memo,
)
from .pages import PageMemo

if TYPE_CHECKING:
    from ..pipeline import Options


@dataclass
class BuildState:
    """What one build leaves for the next (the preview server keeps it between rebuilds)."""

    render_cache: RenderCache = field(default_factory=RenderCache)
    pages: PageMemo = field(default_factory=PageMemo)
    parsed: Store | None = None  # content files parsed, by digest (without their bodies)
    parsed_bodies: LazyStore | None = None  # and their bodies
    related: Memo | None = None  # reading next per article, with the digest of its inputs
    known: snapshot.Known | None = None  # input files' stats and digests from the last scan
    related_key: str | None = None  # the graph digest the reading-next memo was made for

    @property
    def remembers(self) -> bool:
        """Whether an earlier build with this state left what it made in memory (the
        preview's state, kept between rebuilds)."""
        return self.parsed is not None


def read_caches(root: Path, state: BuildState) -> None:
    """Read what earlier builds kept in .cache/ (once: the preview server keeps it)."""
    if state.parsed is not None:
        return  # read by an earlier build with this state
    state.parsed = Store(root / CACHE_DIR / "parsed", "parsed")
    state.parsed.load()
    state.parsed_bodies = LazyStore(root / CACHE_DIR / "parsed" / "bodies", "parsed-body")
    state.render_cache.open(disk_cache(root))
    found = recall_memo(root, "related")
    memo, key = found.get("memo"), found.get("key")
    state.related = unpack(memo)
    state.related_key = key if isinstance(key, str) and state.related else None
    if not readability.known():
        readability.learn(recall_memo(root, readability.MEMO))


def prior(opts: Options, root: Path, out: Path, day: dt.date, state: BuildState) -> snapshot.Prior:
    """Scan the inputs (a file whose stat is as last time is not read) and, for a written
    build, compare them and the output with the record of the last one."""
    prior = snapshot.Prior()
    if not opts.cache:
        return prior
    if opts.write:
        prior.record = snapshot.load(root)
    scan = prior.inputs = _scan(root, state, prior.record)
    if opts.write:
        prior.options = repr((str(out.resolve()), opts.drafts, day, _published(opts)))
        _compare(prior, scan, out)
    return prior


def _published(opts: Options) -> str | None:
    """The sitemap of the URLs published before that the build is given (--published),
    as a digest: a build given another one checks the URLs again, where the quick routes
    would stand by the last build's check. (By default it is the output's own sitemap,
    which the record's manifest covers.)"""
    if opts.published is None:
        return None
    data = read_sitemap(opts.published)
    return "none" if data is None else hashlib.sha256(data).hexdigest()


def _scan(root: Path, state: BuildState, record: snapshot.Record | None) -> snapshot.Scan:
    """The inputs' scan, taking on trust what the last scan knew (the preview's, else the
    last written build's)."""
    known = state.known if state.known is not None else record.inputs if record else None
    # a first build (nothing known, nothing parsed) leaves the articles to be hashed by the
    # workers that read them to parse them, instead of reading every one twice
    first = known is None and not any((root / CACHE_DIR / "parsed").glob("*.pickle"))
    scan = snapshot.scan_inputs(root, known, _article_file if first else None)
    state.known = scan.known
    return scan


def _compare(prior: snapshot.Prior, scan: snapshot.Scan, out: Path) -> None:
    """A written build's fingerprint (once every input's digest is known) and, with a
    record, whether the output is as it left it."""
    if not scan.pending:
        prior.key = keys.fingerprint(scan.digests, prior.options)
    if prior.record is not None:
        manifest = prior.record.manifest
        # whether the output is as recorded: 20,000 system calls at 10,000 pages; when
        # the inputs changed, the build has work to do anyway and they run in a child
        prior.output = Background(lambda: snapshot.as_left(out, manifest),
                                  now=prior.record.fingerprint == prior.key)


def _article_file(rel: str) -> bool:
    return rel.startswith("content/") and rel.endswith(".md")


def templates(root: Path, problems: ProblemList, cache: bool) -> Templates | None:
    """The compiled templates, kept in .cache/ when `cache`; a cache folder that cannot be
    written (read-only, a file, a full disk) only costs the compiling."""
    if cache:
        found = ProblemList()
        try:
            templates = load_templates(root, found, _jinja_cache(root))
        except OSError:
            pass
        else:
            problems.extend(found.items())
            return templates
    return load_templates(root, problems)


def _jinja_cache(root: Path) -> Path:
    """Compiled templates depend on the engine's Jinja settings too: one folder per engine."""
    folder = root / CACHE_DIR / "jinja"
    mine = folder / engine_fingerprint()[:16]
    if folder.is_dir() and not mine.is_dir():
        shutil.rmtree(folder, ignore_errors=True)
    return mine


def load(config: SiteConfig, day: dt.date, problems: ProblemList, state: BuildState,
          cache: bool, digests: dict[str, str] | None,
          meanwhile: Callable[[], object] | None = None) -> Corpus:
    """The articles, parsed again only where a file's bytes changed since the last build.
    `meanwhile` is done while worker processes parse them, if they do."""

    def also() -> None:  # (and the syllable dictionary, which rendering many bodies needs)
        if meanwhile is not None:
            meanwhile()
        readability.preload()

    if not cache:
        return load_articles(config, day, problems, meanwhile=also)
    store, bodies = state.parsed, state.parsed_bodies
    assert store is not None and bodies is not None
    corpus = load_articles(config, day, problems, ParseMemo(store.entries, digests, bodies.get),
                           also)
    for key, parsed in store.entries.items():
        if parsed.body is not None:  # parsed just now: keep the body apart
            bodies.put(key, parsed.body)
            store.entries[key] = dataclasses.replace(parsed, body=None)
    store.save()
    bodies.save(set(store.entries))
    return corpus


def markdown(config: SiteConfig, articles: list[Article], around: Mapping[str, Surroundings],
              state: BuildState, opts: Options, meanwhile: Callable[[], object] | None = None
              ) -> tuple[dict[str, Rendered], dict[str, str], Callable[[str], Rendered]]:
    """Every article's rendering (from the cache where its inputs are unchanged), the cache
    key of each, and a function giving one with its HTML and text (which the cache reads
    only when asked, or renders again if it lost them). `around`: each edition's
    surroundings, by key. `meanwhile` is done while worker processes render, if they do."""
    renderer = Renderers(config, articles, around)
    words = len(readability.known())
    environment = {e.key: keys.environment_key(config.for_edition(e), articles, around[e.key])
                   for e in config.all_editions}
    body_keys = {a.slug: keys.article_key(a, environment[a.lang]) for a in articles}
    rendered = render_articles(articles, renderer, state.render_cache, body_keys,
                               opts.progress, meanwhile)
    if opts.cache and len(readability.known()) != words:
        keep_memo(config.root, readability.MEMO, readability.known())
    by_slug = {a.slug: a for a in articles}

    def complete(slug: str) -> Rendered:
        whole = state.render_cache.complete(body_keys[slug])
        if whole is None:
            whole = renderer.render(by_slug[slug])
            state.render_cache.put(body_keys[slug], whole)
        return whole

    return rendered, body_keys, complete


def render_articles(articles: list[Article], renderer: Renderer | Renderers, cache: RenderCache,
                    keys: dict[str, str],
                    progress: Callable[[str, int, int], None] | None = None,
                    meanwhile: Callable[[], object] | None = None) -> dict[str, Rendered]:
    """Markdown for every article (`keys`: the cache key of each), reusing cached bodies
    whose inputs did not change; a large batch is rendered across all cores (while this
    process does `meanwhile`)."""
    cache.hits = cache.misses = 0
    found = {a.slug: cache.get(keys[a.slug]) for a in articles}
    todo = [(a, keys[a.slug]) for a in articles if found[a.slug] is None]
    for (a, key), r in zip(todo, _render_many(renderer, todo, progress, meanwhile), strict=True):
        found[a.slug] = r
        cache.put(key, r)
    cache.keep_only(set(keys.values()))
    cache.save()
    return {slug: r for slug, r in found.items() if r is not None}


def _render_many(renderer: Renderer | Renderers, todo: list[tuple[Article, str]],
                 progress: Callable[[str, int, int], None] | None,
                 meanwhile: Callable[[], object] | None = None) -> list[Rendered]:
    """Render articles, across all cores when there are many; workers hand back the words
    whose syllables they counted, to be kept for later builds."""

    def one(i: int) -> tuple[Rendered, dict[str, int]]:
        return renderer.render(todo[i][0]), readability.drain()

    def show(done: int) -> None:
        if progress is not None:
            progress("Rendering Markdown", done, len(todo))

    out = []
    # the dictionaries are loaded once, before forking, instead of once per worker
    for r, words in map_indexed(one, len(todo), show, readability.preload, meanwhile):
        readability.learn(words)
        out.append(r)
    return out


def prepared(config: SiteConfig, articles: list[Article], drafts: set[str], day: dt.date,
             state: BuildState | None) -> Prepared | None:
    """When every article will be ranked for reading next (no memo of an earlier build in
    `state`, which is None with the cache off), what ranking needs from the front matter,
    so that its index can be built while the bodies are rendered in worker processes (0.8 s
    at 10,000 articles)."""
    if state is not None and state.related:
        return None
    published = {a.slug: a for a in articles if a.slug not in drafts}
    return Prepared(outline(published, config), config, day)


def reading_next(graph: TopicGraph, config: SiteConfig, day: dt.date, state: BuildState | None,
                 links: str, early: Prepared | None = None) -> ReadingNext:
    """Reading next: all of it as last time when the graph's digest (`links`) is the same,
    else ranked again only for the articles whose inputs changed (all of them when `state`
    is None: the cache is off)."""
    if state is None:
        return compute(graph, config, day, prepared=early)
    assert state.related is not None
    memo = state.related
    if state.related_key == links and (same := _as_before(graph, memo)) is not None:
        return dataclasses.replace(same, overdue=frozenset(overdue(graph, day)))
    before = dict(memo)
    nxt = compute(graph, config, day, memo, early)
    if memo != before or state.related_key != links:
        state.related_key = links
        keep_memo(config.root, "related", {"key": links, "memo": pack(memo)})
    return nxt


def _as_before(graph: TopicGraph, memo: Memo) -> ReadingNext | None:
    """Reading next as the memo holds it, if it holds it for every published article (and
    for no other)."""
    slugs = [s for s, a in graph.articles.items() if a.is_article]
    if len(memo) == len(slugs) and all(s in memo for s in slugs):
        return ReadingNext({s: memo[s][1] for s in slugs}, 0)
    return None


PAGE_MEMO = ".cache/pages.pickle"  # which page views the last written output was rendered from


def page_memo(root: Path, out: Path, identity: str, state: BuildState, prior: snapshot.Prior,
              keep: bool) -> PageMemo:
    """The page memo: the one in memory (the preview's), or (`keep`: a written build with
    the cache) the one the last written build of this `identity` (output folder and check
    levels) saved, less the pages written since without it (by delta)."""
    if keep and not state.pages.pages:
        state.pages.load(root / PAGE_MEMO, identity, out.resolve())
        if prior.record is not None:
            state.pages.forget(prior.record.touched)
    return state.pages


def renamed(prior: snapshot.Prior, articles: list[Article]) -> Renamed:
    """Articles whose file was renamed since the last written build: an article file gone
    and a new one with the same bytes; or, when one went and one came, those two."""
    record, scan = prior.record, prior.inputs
    if record is None or scan is None:
        return Renamed()
    now = {a.path: a.slug for a in articles}
    came = {p: scan.digests.get(p, "") for p in now if p not in record.slugs}
    pairs = _renames([p for p in record.slugs if p not in now], came, record.digests)
    return Renamed(MappingProxyType(pairs),
                   MappingProxyType({record.slugs[old]: now[p] for old, p in pairs.items()}))


def _renames(went: list[str], came: dict[str, str], before: dict[str, str]) -> dict[str, str]:
    """Old file -> new file, of the files `went` (with their digests `before`) and those that
    `came` (with theirs): by equal bytes; else, when one went and one came, those two."""
    by_digest = {digest: path for path, digest in came.items()}
    pairs = {old: by_digest[before[old]] for old in went if before.get(old) in by_digest}
    left = [p for p in went if p not in pairs]
    new = [p for p in came if p not in pairs.values()]
    if len(left) == len(new) == 1:
        pairs[left[0]] = new[0]
    return pairs
