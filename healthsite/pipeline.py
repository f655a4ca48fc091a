"""The one orchestrator: gather everything, check it, then write. Reads top to bottom."""

from __future__ import annotations

import datetime as dt
import os
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from .cache import RenderCache, article_key, disk_cache, environment_key
from .checks import check_articles, check_output
from .config import SiteConfig, load_config
from .content import Article, load_articles, load_glossary
from .errors import ProblemList
from .graph import TopicGraph, build_graph
from .markup import Rendered, Renderer
from .output import OutputError, write_site
from .pages import PageMemo, render_site
from .readability import Readability, reading_grade
from .related import ReadingNext, compute
from .search import index_or_reuse
from .templating import load_templates


@dataclass(frozen=True)
class Options:
    """What the command line asked for."""

    root: Path
    out: Path | None = None
    drafts: bool = False
    write: bool = True
    strict: bool = False
    cache: bool = True  # keep rendered Markdown in .cache/ between builds
    progress: Callable[[str, int, int], None] | None = None  # (stage, done, total)


@dataclass
class BuildState:
    """What one build leaves for the next (the preview server keeps it between rebuilds)."""

    render_cache: RenderCache = field(default_factory=RenderCache)
    pages: PageMemo = field(default_factory=PageMemo)


@dataclass
class BuildResult:
    """Everything a build produced, for the CLI's summary and for tests."""

    problems: ProblemList
    config: SiteConfig | None = None
    graph: TopicGraph | None = None
    reading_next: ReadingNext | None = None
    files: dict[str, bytes] = field(default_factory=dict)
    grades: dict[str, Readability] = field(default_factory=dict)
    timings: dict[str, float] = field(default_factory=dict)
    counts: dict[str, int] = field(default_factory=dict)
    out_dir: Path | None = None


def today() -> dt.date:
    """The build's 'today': SOURCE_DATE_EPOCH when set (reproducible builds), else the date."""
    epoch = os.environ.get("SOURCE_DATE_EPOCH")
    if epoch and epoch.strip().isdigit():
        return dt.datetime.fromtimestamp(int(epoch), dt.UTC).date()
    return dt.datetime.now(dt.UTC).date()


def build_site(opts: Options, state: BuildState | None = None) -> BuildResult:
    """Load, render, link, check and (unless only checking) write the site."""
    state = state if state is not None else BuildState()
    problems = ProblemList()
    result = BuildResult(problems)
    clock = _Clock(result.timings)
    day = today()
    config = result.config = load_config(opts.root, problems)
    if config is None:
        return result
    problems.overrides = {code: level for code, level in config.levels.items()}
    if opts.cache and state.render_cache.folder is None:
        state.render_cache.folder = disk_cache(config.root)
    templates = load_templates(config.root, problems)
    corpus = load_articles(config, day, problems)
    articles = list(corpus.articles)
    glossary = load_glossary(config, problems)
    clock.lap("load")
    drafts = set() if opts.drafts else {a.slug for a in articles if a.meta.draft}
    renderer = Renderer(dict(config.services), {a.path: a for a in articles}, glossary,
                        config.base_path + "glossary/", config.raw_html)
    rendered = render_articles(articles, renderer, state.render_cache,
                               environment_key(config, articles, glossary), opts.progress)
    for r in rendered.values():
        problems.extend(r.problems)
    result.counts["articles_rendered"] = state.render_cache.misses
    clock.lap("markdown")
    graph = result.graph = build_graph(config, articles, drafts, rendered, problems,
                                       corpus.unloadable)
    nxt = result.reading_next = compute(graph, config, day)
    clock.lap("graph")
    result.grades = check_articles(config, graph, nxt, day, problems)
    clock.lap("checks")
    if templates is None or problems.errors:
        return result
    out = opts.out or (config.root / config.output_dir)
    identity = repr((str(out.resolve()), sorted(problems.overrides.items())))
    if opts.write and opts.cache and not state.pages.pages:
        state.pages.load(config.root / PAGE_MEMO, identity, out.resolve())
    state.pages.rendered, state.pages.fresh, state.pages.read_back = 0, set(), set()
    result.files = render_site(config, graph, nxt, glossary, templates, problems, state.pages)
    result.counts["pages_rendered"] = state.pages.rendered
    reused = set(state.pages.pages) - state.pages.fresh  # checked when they were rendered
    check_output({k: v for k, v in result.files.items() if k not in reused}, problems)
    clock.lap("templates")
    if opts.write and not strict_failed(result, opts.strict):
        result.out_dir = out
        try:
            index = (lambda tmp, changed: index_or_reuse(tmp, out, changed, config.language,
                                                         problems)) if config.search else None
            written = write_site(config.root, out, result.files, finish=index,
                                 known_same=frozenset(state.pages.read_back))
            result.counts.update(files_changed=len(written.changed),
                                 files_unchanged=written.unchanged)
            if opts.cache:
                state.pages.save(config.root / PAGE_MEMO, identity)
        except OutputError as e:
            if not problems.errors:
                problems.add("io", str(e), str(out))
        clock.lap("write")
    return result


PAGE_MEMO = ".cache/pages.json"  # which page views the last written output was rendered from
PARALLEL_MIN = 200  # below this many articles to render, a process pool costs more than it saves


def render_articles(articles: list[Article], renderer: Renderer, cache: RenderCache,
                    environment: str,
                    progress: Callable[[str, int, int], None] | None = None
                    ) -> dict[str, Rendered]:
    """Markdown for every article, reusing cached bodies whose inputs did not change; a large
    batch is rendered across all cores."""
    cache.hits = cache.misses = 0
    keys = {a.slug: article_key(a, environment) for a in articles}
    found = {a.slug: cache.get(keys[a.slug]) for a in articles}
    todo = [(a, keys[a.slug]) for a in articles if found[a.slug] is None]
    for (a, key), r in zip(todo, _render_many(renderer, cache, todo, progress), strict=True):
        found[a.slug] = cache.entries[key] = r
    cache.keep_only(set(keys.values()))
    return {slug: r for slug, r in found.items() if r is not None}


_WORKER: tuple[Renderer, RenderCache, list[tuple[Article, str]]] | None = None


def _render_store(renderer: Renderer, cache: RenderCache, article: Article,
                  key: str) -> Rendered:
    rendered = renderer.render(article)
    cache.save(key, rendered)  # on disk, from whichever process rendered it
    return rendered


def _render_one(index: int) -> Rendered:
    assert _WORKER is not None
    renderer, cache, todo = _WORKER
    return _render_store(renderer, cache, *todo[index])


def _render_many(renderer: Renderer, cache: RenderCache, todo: list[tuple[Article, str]],
                 progress: Callable[[str, int, int], None] | None) -> list[Rendered]:
    import multiprocessing

    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else 1
    forkable = "fork" in multiprocessing.get_all_start_methods()
    if len(todo) < PARALLEL_MIN or cores < 2 or not forkable:
        out = []
        for i, (a, key) in enumerate(todo):
            if progress is not None and i % 100 == 0:
                progress("Rendering Markdown", i, len(todo))
            out.append(_render_store(renderer, cache, a, key))
        return out
    global _WORKER
    reading_grade("Load the syllable dictionary once, before forking.")
    _WORKER = (renderer, cache, todo)  # inherited by the forked workers; only indices are sent
    try:
        with multiprocessing.get_context("fork").Pool(cores) as pool:
            out = []
            chunk = max(8, len(todo) // (cores * 8))
            for i, r in enumerate(pool.imap(_render_one, range(len(todo)), chunksize=chunk)):
                if progress is not None and i % 100 == 0:
                    progress("Rendering Markdown", i, len(todo))
                out.append(r)
            return out
    finally:
        _WORKER = None


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

