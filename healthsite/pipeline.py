"""The one orchestrator: gather everything, check it, then write. Reads top to bottom."""

from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib
import os
import shutil
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from . import delta, readability, snapshot
from .cache import (
    CACHE_DIR,
    LazyStore,
    RenderCache,
    Store,
    article_key,
    disk_cache,
    engine_fingerprint,
    environment_key,
    keep_memo,
    recall_memo,
    sweep,
)
from .checks import check_articles, check_output
from .config import SiteConfig, load_config
from .content import Article, Corpus, GlossaryEntry, load_articles, load_glossary
from .errors import ProblemList
from .files import linked_out
from .graph import TopicGraph, build_graph
from .markup import Rendered, Renderer
from .output import OutputError, Staging, Written, update_site
from .incremental.pages import PageCache, PageMemo
from .incremental.pages import render as render_pages
from .pages import Bodies, plan_pages
from .parallel import Background, map_indexed
from .readability import Readability
from .related import Memo, Prepared, ReadingNext, compute, outline, pack, unpack
from .search import INDEX_DIR, indexer
from .templating import Templates, load_templates, static_files


@dataclass(frozen=True)
class Options:
    """What the command line asked for."""

    root: Path
    out: Path | None = None
    drafts: bool = False
    write: bool = True
    strict: bool = False
    cache: bool = True  # keep rendered Markdown in .cache/ between builds
    skip_unchanged: bool = True  # with nothing changed since the last written build, do nothing
    progress: Callable[[str, int, int], None] | None = None  # (stage, done, total)


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


@dataclass
class BuildResult:
    """Everything a build produced, for the CLI's summary and for tests."""

    problems: ProblemList
    config: SiteConfig | None = None
    graph: TopicGraph | None = None
    reading_next: ReadingNext | None = None
    files: dict[str, bytes] = field(default_factory=dict)  # every file, except:
    kept: frozenset[str] = frozenset()  # pages left unchanged, unread, in the previous output
    placed: frozenset[str] = frozenset()  # pages worker processes wrote to the new output
    grades: dict[str, Readability] = field(default_factory=dict)
    timings: dict[str, float] = field(default_factory=dict)
    counts: dict[str, int] = field(default_factory=dict)
    out_dir: Path | None = None
    summary: dict[str, float] = field(default_factory=dict)  # what the summary line says
    up_to_date: bool = False  # nothing changed: the previous output and problems stand
    route: str = "full"  # "unchanged", "delta" (only changed articles' pages) or "full"
    why: list[str] = field(default_factory=list)  # why no quicker route could be taken

    def paths(self) -> list[str]:
        """Every file of the output, whether in `files`, `kept` or `placed`."""
        return [*self.files, *self.kept, *self.placed]


class BadEpoch(ValueError):
    """SOURCE_DATE_EPOCH is set but is not a time the build can use; the message says why."""


def today() -> dt.date:
    """The build's 'today': SOURCE_DATE_EPOCH when set (reproducible builds), else the date.
    As reproducible-builds.org specifies, a value that is not a non-negative integer number
    of seconds, or one beyond the dates the build can handle (the year 9999), is an error
    (BadEpoch), never silently replaced by the clock; an empty value counts as unset."""
    epoch = os.environ.get("SOURCE_DATE_EPOCH", "").strip()
    if not epoch:
        return dt.datetime.now(dt.UTC).date()
    shown = epoch if len(epoch) <= 40 else epoch[:40] + "..."
    if not epoch.isascii() or not epoch.isdigit():
        raise BadEpoch(f"SOURCE_DATE_EPOCH={shown!r} is not a whole number of seconds since "
                       "1970-01-01 (unset it, or set it to e.g. $(git log -1 --format=%ct))")
    try:
        return dt.datetime.fromtimestamp(int(epoch), dt.UTC).date()
    except (OverflowError, ValueError, OSError):
        raise BadEpoch(f"SOURCE_DATE_EPOCH={shown!r} is out of range (after the year 9999)") \
            from None


def build_site(opts: Options, state: BuildState | None = None) -> BuildResult:
    """Load, render, link, check and (unless only checking) write the site: the stages in
    order, each a function of what the stages before it made. What earlier builds left
    (`state` in memory, `.cache/` on disk) only lets a stage skip work: a build whose inputs
    did not change, or changed only in articles' own text, takes a shortcut (`_shortcut`),
    and says in `result.why` why it could not when it could not."""
    state = state if state is not None else BuildState()
    result = BuildResult(ProblemList())
    problems, clock = result.problems, _Clock(result.timings)
    setup = _setup(opts, result)
    if setup is None:
        return result
    config, day, out = setup
    prior = _prior(opts, config.root, out, day, state)
    if _shortcut(opts, state, config, out, day, prior, result):
        clock.lap(result.route)
        return result
    loaded = _load_all(config, day, opts, state, prior, problems)
    clock.lap("load")
    drafts = set() if opts.drafts else {a.slug for a in loaded.articles if a.meta.draft}
    early = _prepared(config, loaded.articles, drafts, day, state, opts.cache)
    rendered, body_keys, complete = _markdown(config, loaded.articles, loaded.glossary, state,
                                              opts, early.index if early else None)
    for r in rendered.values():
        problems.extend(r.problems)
    result.counts["articles_rendered"] = state.render_cache.misses
    clock.lap("markdown")
    graph = result.graph = build_graph(config, loaded.articles, drafts, rendered, problems,
                                       loaded.unloadable)
    links = _graph_key(config, graph, day, loaded.unloadable)
    nxt = result.reading_next = _related(graph, config, day, state, opts.cache, links, early)
    clock.lap("graph")
    result.grades = check_articles(config, graph, nxt, day, problems, complete)
    clock.lap("checks")
    result.summary = _summary(result)
    if loaded.templates is None or problems.errors:
        static_files(config.root, problems)  # (checked, though no page is made: see pages)
        return result
    made = _Made(loaded, drafts, rendered, body_keys, complete, links)
    _pages_and_publish(config, out, opts, state, prior, result, made, clock)
    return result


def _setup(opts: Options, result: BuildResult) -> tuple[SiteConfig, dt.date, Path] | None:
    """The build's day, its settings and its output folder; None (with the problem
    reported) when the build cannot start: a bad SOURCE_DATE_EPOCH, no usable site.yaml, or
    an input folder that is a link out of the site."""
    problems = result.problems
    try:
        day = today()
    except BadEpoch as e:
        problems.add("environment", str(e), "SOURCE_DATE_EPOCH")
        return None
    config = result.config = load_config(opts.root, problems)
    if config is None:
        return None
    problems.overrides = {code: level for code, level in config.levels.items()}
    away = linked_out(os.fspath(config.root), snapshot.INPUT_DIRS)
    for folder in away:
        problems.add("io", "a symbolic link that points outside the site's folder", folder,
                     hint=f"make {folder}/ a real folder of the site")
    if away:
        return None  # nothing is read through such a link
    return config, day, opts.out or (config.root / config.output_dir)


def _shortcut(opts: Options, state: BuildState, config: SiteConfig, out: Path, day: dt.date,
              prior: snapshot.Prior, result: BuildResult) -> bool:
    """Take the quickest route the last written build allows, if any: nothing changed (its
    output and problems stand), or only articles' own text changed (`delta`: only their
    pages). Whatever rules a route out is added to `result.why`."""
    why = result.why
    if not opts.skip_unchanged:
        why.append("asked to build in full (--report, or skip_unchanged off)")
        return False
    if prior.unchanged and prior.record is not None:
        _replay(result, prior.record, out)
        result.route = "unchanged"
        return True
    why.append(prior.changed())
    if not opts.write:
        why.append("only checking: the changed-articles route writes their pages")
        return False
    if state.remembers:
        why.append("the preview keeps the build in memory: the changed-articles route "
                   "would leave it stale")
        return False
    patch = delta.rebuild(config, out, day, prior,
                          lambda: _templates(config.root, ProblemList(), True), opts.strict)
    if isinstance(patch, str):
        why.append(f"not only articles' own text changed: {patch}")
        return False
    _patched(result, patch, out)
    result.route = "delta"
    return True


@dataclass(frozen=True)
class _Loaded:
    """What the load stage read: the articles, the glossary and the templates."""

    articles: list[Article]
    unloadable: frozenset[str]
    glossary: list[GlossaryEntry]
    templates: Templates | None


def _load_all(config: SiteConfig, day: dt.date, opts: Options, state: BuildState,
              prior: snapshot.Prior, problems: ProblemList) -> _Loaded:
    """Stage 1: templates, articles (parsed again only where a file changed) and glossary."""
    if opts.cache:
        _read_caches(config.root, state)
    templates = _templates(config.root, problems, opts.cache)
    corpus = _load(config, day, problems, state, opts.cache,
                   prior.inputs.digests if prior.inputs else None)
    prior.settle(corpus.hashed, config.root)
    return _Loaded(list(corpus.articles), corpus.unloadable, load_glossary(config, problems),
                   templates)


@dataclass(frozen=True)
class _Made:
    """What the stages before the pages made, for the pages and what the next build keeps."""

    loaded: _Loaded
    drafts: set[str]
    rendered: dict[str, Rendered]
    body_keys: dict[str, str]
    complete: Callable[[str], Rendered]
    links: str


def _pages_and_publish(config: SiteConfig, out: Path, opts: Options, state: BuildState,
                       prior: snapshot.Prior, result: BuildResult, made: _Made,
                       clock: _Clock) -> None:
    """Stages 6 and 7: render every page whose inputs changed, then write the output (unless
    only checking, or --strict found a warning)."""
    problems, graph, nxt = result.problems, result.graph, result.reading_next
    assert graph is not None and nxt is not None and made.loaded.templates is not None
    identity = repr((str(out.resolve()), sorted(problems.overrides.items())))
    if opts.write and opts.cache and not state.pages.pages:
        state.pages.load(config.root / PAGE_MEMO, identity, out.resolve())
        if prior.record is not None:
            state.pages.forget(prior.record.touched)
    previous = prior.record.manifest if prior.record and prior.intact else None
    pages = state.pages
    # a build that writes a new folder fills it while the pages are still being rendered
    staging = _staging(config.root, out) if opts.write and previous is None else None
    try:
        plan = plan_pages(config, graph, nxt, made.loaded.glossary,
                          static_files(config.root, problems),
                          Bodies(made.complete, made.body_keys.__getitem__))
        result.files = render_pages(plan, made.loaded.templates, problems,
                                    PageCache(pages, made.links, staging, previous is not None))
        result.kept, result.placed = frozenset(pages.kept), frozenset(pages.placed)
        result.counts["pages_rendered"] = pages.rendered
        result.summary["pages"] = sum(1 for k in result.paths() if k.endswith(".html"))
        state.render_cache.save()  # bodies that had to be rendered again, if any
        # pages were checked when they were rendered (by this build or an earlier one)
        check_output({k: v for k, v in result.files.items() if k not in pages.pages}, problems)
        clock.lap("templates")
        if opts.write and not strict_failed(result, opts.strict):
            ready, staging = staging, None  # publishing removes the folder if it fails
            _publish(config, out, opts, result, prior, previous, pages, identity, ready, made)
            clock.lap("write")
    finally:
        if staging is not None:
            staging.abandon()  # not published: errors, or a failed --strict build


def _publish(config: SiteConfig, out: Path, opts: Options, result: BuildResult,
             prior: snapshot.Prior,
             previous: snapshot.Manifest | None, pages: PageMemo, identity: str,
             staging: Staging | None, made: _Made) -> None:
    """Write the output, then keep the page memo, the articles' facts and the record of
    what was written (see `_record`)."""
    result.out_dir = out
    if opts.cache:  # the record is about to change (a --no-cache build leaves it be: its
        snapshot.forget(config.root)  # output, if the same folder, then fails `still`)
        sweep(config.root)  # what builds stopped while writing left in .cache/
    problems = result.problems
    try:
        written, manifest = _write(config, out, result, previous, pages, problems, staging)
    except OutputError as e:
        if not problems.errors:
            problems.add("io", str(e), str(out))
        return
    result.counts.update(files_changed=len(written.changed), files_unchanged=written.unchanged)
    if opts.cache:
        pages.save(config.root / PAGE_MEMO, identity)
        snapshot.save(config.root, _record(config.root, prior, result, manifest, made,
                                           pages.site))


def _record(root: Path, prior: snapshot.Prior, result: BuildResult,
            manifest: snapshot.Manifest, made: _Made, site: dict[str, Any]) -> snapshot.Record:
    """What the next build needs to know of this one: to do nothing if nothing changed, or
    to rebuild only changed articles (with their neighbours' facts, kept by `delta.save`)."""
    assert result.graph is not None and result.reading_next is not None
    articles = made.loaded.articles
    facts = delta.save(root, delta.facts_of(articles, made.rendered, result.graph,
                                            result.reading_next))
    return snapshot.Record(
        prior.key, list(result.problems.items()), result.summary, manifest,
        prior.inputs.known if prior.inputs else {}, options=prior.options,
        digests=prior.inputs.digests if prior.inputs else {},
        slugs={a.path: a.slug for a in articles}, drafts=frozenset(made.drafts),
        unloadable=made.loaded.unloadable,
        grades={s: g.grade for s, g in result.grades.items()}, site=site, facts=facts)


def _staging(root: Path, out: Path) -> Staging | None:
    """A new output folder to write into while rendering; None when the output folder is
    refused or busy (writing it reports why, as it would have)."""
    try:
        return Staging(root, out)
    except OutputError:
        return None


def _load(config: SiteConfig, day: dt.date, problems: ProblemList, state: BuildState,
          cache: bool, digests: dict[str, str] | None) -> Corpus:
    """The articles, parsed again only where a file's bytes changed since the last build."""
    if not cache:
        return load_articles(config, day, problems, meanwhile=readability.preload)
    store, bodies = state.parsed, state.parsed_bodies
    assert store is not None and bodies is not None
    # (the syllable dictionary, which rendering many bodies needs, is read while many
    # files are parsed)
    corpus = load_articles(config, day, problems, store.entries, digests, bodies.get,
                           readability.preload)
    for key, parsed in store.entries.items():
        if parsed.body is not None:  # parsed just now: keep the body apart
            bodies.put(key, parsed.body)
            store.entries[key] = dataclasses.replace(parsed, body=None)
    store.save()
    bodies.save(set(store.entries))
    return corpus


def _graph_key(config: SiteConfig, graph: TopicGraph, day: dt.date,
               unloadable: frozenset[str]) -> str:
    """A digest of everything reading next, the lists and the links between pages are made
    from: the settings, the day, and each published article's front matter (its values, not
    their places), links and editor's picks. New wording leaves it as it was."""
    parts = [repr(config), day.isoformat(), repr(sorted(unloadable))]
    parts += [f"{slug}\1{a.meta_key or repr(a.meta)}\1{chr(2).join(graph.links_out.get(slug, ()))}"
              f"\1{chr(2).join(graph.picks.get(slug, ()))}" for slug, a in graph.articles.items()]
    return hashlib.sha256("\0".join(parts).encode()).hexdigest()


def _prepared(config: SiteConfig, articles: list[Article], drafts: set[str], day: dt.date,
              state: BuildState, cache: bool) -> Prepared | None:
    """When every article will be ranked for reading next (no memo of an earlier build),
    what ranking needs from the front matter, so that its index can be built while the
    bodies are rendered in worker processes (0.8 s at 10,000 articles)."""
    if cache and state.related:
        return None
    published = {a.slug: a for a in articles if a.slug not in drafts}
    return Prepared(outline(published, config), config, day)


def _related(graph: TopicGraph, config: SiteConfig, day: dt.date, state: BuildState,
             cache: bool, links: str, early: Prepared | None = None) -> ReadingNext:
    """Reading next: all of it as last time when the graph's digest (`links`) is the same,
    else ranked again only for the articles whose inputs changed."""
    if not cache:
        return compute(graph, config, day, prepared=early)
    assert state.related is not None
    memo = state.related
    slugs = [s for s, a in graph.articles.items() if a.is_article]
    if state.related_key == links and len(memo) == len(slugs) and all(s in memo for s in slugs):
        return ReadingNext({s: memo[s][1] for s in slugs}, 0)
    before = dict(memo)
    nxt = compute(graph, config, day, memo, early)
    if memo != before or state.related_key != links:
        state.related_key = links
        keep_memo(config.root, "related", {"key": links, "memo": pack(memo)})
    return nxt


def _templates(root: Path, problems: ProblemList, cache: bool) -> Templates | None:
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


def _write(config: SiteConfig, out: Path, result: BuildResult,
           previous: snapshot.Manifest | None, pages: PageMemo,
           problems: ProblemList, staging: Staging | None = None
           ) -> tuple[Written, snapshot.Manifest]:
    """Update an intact output (by way of its spare: see output.update_site); otherwise (or
    when the search index must be made again) write a new folder (`staging`, when it was
    begun while rendering) and swap it in. Returns what changed and the new manifest."""
    html_changed = any(k.endswith(".html") for k in result.files if k in pages.fresh)
    # (a folder is staged only when there is no intact previous output to update)
    if previous is not None and not (config.search and html_changed):
        written = update_site(config.root, out, result.files, result.kept, previous,
                              also_keep=(INDEX_DIR + "/",) if config.search else ())
        return written, snapshot.swapped(out, previous, written.changed)
    index = indexer(out, config.language, problems) if config.search else None
    staging = staging if staging is not None else Staging(config.root, out)
    written = staging.publish(result.files, result.kept, index, frozenset(pages.read_back))
    return written, snapshot.manifest(out)


def _prior(opts: Options, root: Path, out: Path, day: dt.date, state: BuildState) -> snapshot.Prior:
    """Scan the inputs (a file whose stat is as last time is not read) and, for a written
    build, compare them and the output with the record of the last one."""
    prior = snapshot.Prior()
    if not opts.cache:
        return prior
    if opts.write:
        prior.record = snapshot.load(root)
    known = state.known if state.known is not None else \
        prior.record.inputs if prior.record else None
    # a first build (nothing known, nothing parsed) leaves the articles to be hashed by the
    # workers that read them to parse them, instead of reading every one twice
    first = known is None and not any((root / CACHE_DIR / "parsed").glob("*.pickle"))
    prior.inputs = snapshot.scan_inputs(root, known, _article_file if first else None)
    state.known = prior.inputs.known
    if opts.write:
        prior.options = repr((str(out.resolve()), opts.drafts, day))
        if not prior.inputs.pending:
            prior.key = snapshot.fingerprint(prior.inputs.digests, prior.options)
        if prior.record is not None:
            manifest = prior.record.manifest
            # whether the output is as recorded: 20,000 system calls at 10,000 pages; when
            # the inputs changed, the build has work to do anyway and they run in a child
            prior.output = Background(lambda: snapshot.still(out, manifest),
                                      now=prior.record.fingerprint == prior.key)
    return prior


def _article_file(rel: str) -> bool:
    return rel.startswith("content/") and rel.endswith(".md")


def _markdown(config: SiteConfig, articles: list[Article], glossary: list[GlossaryEntry],
              state: BuildState, opts: Options, meanwhile: Callable[[], object] | None = None
              ) -> tuple[dict[str, Rendered], dict[str, str], Callable[[str], Rendered]]:
    """Every article's rendering (from the cache where its inputs are unchanged), the cache
    key of each, and a function giving one with its HTML and text (which the cache reads
    only when asked, or renders again if it lost them). `meanwhile` is done while worker
    processes render, if they do."""
    renderer = Renderer(dict(config.services), {a.path: a.url for a in articles}, glossary,
                        config.base_path + "glossary/", config.raw_html)
    words = len(readability.known())
    environment = environment_key(config, articles, glossary)
    body_keys = {a.slug: article_key(a, environment) for a in articles}
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


def _read_caches(root: Path, state: BuildState) -> None:
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


def _replay(result: BuildResult, record: snapshot.Record, out: Path) -> None:
    """Stand by the last written build: its inputs, engine and options are the same and its
    output is exactly as it left it."""
    result.problems.extend(record.problems)
    result.summary = dict(record.summary)
    result.out_dir, result.up_to_date = out, True
    result.counts.update(files_changed=0, files_unchanged=sum(
        1 for k in record.manifest if k and not k.endswith("/")))


def _patched(result: BuildResult, patch: delta.Patch, out: Path) -> None:
    """The result of a build that rebuilt only changed articles (see delta)."""
    result.problems.extend(patch.problems)
    result.summary = patch.summary
    result.files, result.kept, result.out_dir = patch.pages, patch.kept, out
    result.counts.update(articles_rendered=patch.articles, pages_rendered=len(patch.pages),
                         files_changed=len(patch.written.changed),
                         files_unchanged=patch.written.unchanged)


def _summary(result: BuildResult) -> dict[str, float]:
    g = result.graph
    assert g is not None
    articles = sum(1 for a in g.articles.values() if a.is_article)
    return {"pages": 0, "articles": articles,
            "site_pages": len(g.articles) - articles, "topics": len(g.topics),
            "grade": delta.mean_grade(r.grade for r in result.grades.values())}


PAGE_MEMO = ".cache/pages.pickle"  # which page views the last written output was rendered from


def render_articles(articles: list[Article], renderer: Renderer, cache: RenderCache,
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


def _render_many(renderer: Renderer, todo: list[tuple[Article, str]],
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


def strict_failed(result: BuildResult, strict: bool) -> bool:
    """Whether the build failed: errors, or under --strict any warning."""
    return bool(result.problems.errors or (strict and result.problems.warnings))


class _Clock:
    def __init__(self, timings: dict[str, float]) -> None:
        self.timings, self.start = timings, time.perf_counter()

    def lap(self, stage: str) -> None:
        now = time.perf_counter()
        self.timings[stage] = now - self.start
        self.start = now

