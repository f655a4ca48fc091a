"""The one orchestrator: gather everything, check it, then write. Reads top to bottom."""

from __future__ import annotations

import datetime as dt
import os
import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from .check import urls
from .check.checks import check_articles, check_output
from .check.translations import check_interface, check_translations
from .errors import ProblemList
from .files import linked_out
from .incremental import delta, memo, snapshot
from .incremental.cache import Later, sweep
from .incremental.keys import graph_key
from .incremental.memo import BuildState as BuildState  # (for the preview and tests)
from .incremental.pages import PageCache, PageMemo
from .incremental.pages import render as render_pages
from .link.graph import Gone, Renamed, TopicGraph, build_graph
from .link.related import ReadingNext
from .load.cards import check_rules
from .load.config import SiteConfig, load_config
from .load.content import Article, GlossaryEntry, load_glossary, unloadable_drafts
from .load.images import Pictures
from .pages import Bodies, draft_notes, draft_pages, plan_pages
from .pages.templating import Templates, static_files
from .publish.images import picture_files
from .publish.output import OutputError, Staging, Written
from .publish.search import editions_of, indexer
from .publish.search import update as search_update
from .render.markup import Rendered, Shared, Surroundings
from .render.readability import Readability
from .report import Audit, audit


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
    # the URLs published before, as a sitemap (default: the output folder's sitemap.xml,
    # the last build's): one that disappears without an alias is url-removed
    published: Path | None = None
    # the caller keeps every file of its last build with this BuildState (the preview, in
    # memory): a page whose inputs did not change since is left out of `files` and listed
    # in `kept`, as an update of an intact output does, instead of being keyed again
    keeps_files: bool = False
    # a report is wanted (--report): the build makes its audit (`report.Audit`) and keeps
    # it for the next build, so that a quicker route can report too
    report: bool = False


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
    changed: frozenset[str] = frozenset()  # the output's files this build wrote or removed
    audit: Audit | None = None  # what the report says of the site (with Options.report)

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
    result = BuildResult(ProblemList())
    b = _start(opts, state if state is not None else BuildState(), result)
    if b is None or _shortcut(b):
        return result
    later = Later()
    try:
        _stages(b, later)
    finally:
        later.finish()  # (the caches' files, written meanwhile)
    return result


def _stages(b: _Build, later: Later) -> None:
    """The stages, in order. The files the first two keep in .cache/ are written while the
    later ones run (`later`)."""
    result, opts = b.result, b.opts
    problems, config, day = result.problems, b.config, b.day
    with later:
        loaded = _load_all(b)
        b.clock.lap("load")
        early = memo.prepared(config, loaded.articles, loaded.drafts, day, b.cached)
        rendered, body_keys, complete = memo.markdown(config, loaded.articles, loaded.around,
                                                      b.state, opts,
                                                      early.index if early else None)
    for r in rendered.values():
        problems.extend(r.problems)
    result.counts["articles_rendered"] = b.state.render_cache.misses
    b.clock.lap("markdown")
    graph = result.graph = build_graph(config, loaded.articles, loaded.drafts, rendered,
                                       problems, Gone(loaded.unloadable, loaded.renamed))
    links = graph_key(config, graph, day, loaded.unloadable)
    nxt = result.reading_next = memo.reading_next(graph, config, day, b.cached, links, early)
    b.clock.lap("graph")
    result.grades = check_articles(config, graph, nxt, day, problems, complete)
    check_translations(config, graph, problems)
    if loaded.templates is not None:
        check_interface(config, loaded.templates, loaded.around, graph, problems)
    problems.demote(loaded.draft_files)  # (a draft's problems never stop a build)
    b.clock.lap("checks")
    result.summary = _summary(result)
    if loaded.templates is None or problems.errors:
        static_files(config.root, problems)  # (checked, though no page is made: see pages)
        return
    _pages_and_publish(b, _Made(loaded, rendered, body_keys, complete, links, graph, nxt))


@dataclass(frozen=True)
class _Build:
    """One build: what it was asked, its settings, day and output folder, what earlier
    builds left (in memory and on disk), and what it has made so far."""

    opts: Options
    state: BuildState
    result: BuildResult
    config: SiteConfig
    day: dt.date
    out: Path
    prior: snapshot.Prior
    clock: _Clock

    @property
    def cached(self) -> BuildState | None:
        """The memo state when the cache is on, else None."""
        return self.state if self.opts.cache else None


def _start(opts: Options, state: BuildState, result: BuildResult) -> _Build | None:
    """The build's day, its settings, its output folder and how its inputs compare with the
    last written build's; None (with the problem reported) when the build cannot start: a
    bad SOURCE_DATE_EPOCH, no usable site.yaml, or an input folder that is a link out of
    the site."""
    clock, problems = _Clock(result.timings), result.problems
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
    out = opts.out or (config.root / config.output_dir)
    prior = memo.prior(opts, config.root, out, day, state)
    return _Build(opts, state, result, config, day, out, prior, clock)


def _shortcut(b: _Build) -> bool:
    """Take the quickest route the last written build allows, if any: nothing changed (its
    output and problems stand), or only articles' own text changed (`delta`: only their
    pages). Whatever rules a route out is added to `result.why`."""
    result, prior, why = b.result, b.prior, b.result.why
    if not b.opts.skip_unchanged:
        why.append("asked to build in full (skip_unchanged off)")
        return False
    # (with a report asked for, the last build's audit: an unchanged build reports it)
    kept = snapshot.load_audit(b.config.root, prior.record) \
        if b.opts.report and prior.unchanged else None
    if prior.unchanged and prior.record is not None and (kept is not None or not b.opts.report):
        _replay(result, prior.record, b.out)
        result.route, result.audit = "unchanged", kept
    else:
        why.append("the last written build kept no report (it was not asked for one)"
                   if prior.unchanged else prior.changed())
        patch = _delta(b)
        if isinstance(patch, str):
            why.append(patch)
            return False
        _patched(result, patch, b.out)
        result.route = "delta"
    b.clock.lap(result.route)
    return True


def _delta(b: _Build) -> delta.Patch | str:
    """The changed-articles route, or why it cannot be taken."""
    if not b.opts.write:
        return "only checking: the changed-articles route writes their pages"
    if b.state.remembers:
        return "the preview keeps the build in memory: the changed-articles route would " \
               "leave it stale"
    patch = delta.rebuild(b.config, b.out, b.day, b.prior,
                          lambda: memo.templates(b.config.root, ProblemList(), True),
                          b.opts.strict, b.opts.report)
    return f"not only articles' own text changed: {patch}" if isinstance(patch, str) else patch


@dataclass(frozen=True)
class _Loaded:
    """What the load stage read: the articles (and the slugs of those not to be published),
    the glossary and the templates."""

    articles: list[Article]
    drafts: set[str]  # (none with --drafts)
    unloadable: frozenset[str]
    draft_files: frozenset[str]  # every draft's file (with --drafts too), loaded or not
    around: dict[str, Surroundings]  # each edition's glossary, cards and language, by key
    templates: Templates | None
    renamed: Renamed  # articles whose file was renamed since the last written build

    @property
    def glossaries(self) -> dict[str, list[GlossaryEntry]]:
        return {key: r.glossary for key, r in self.around.items()}

    @property
    def images(self) -> Pictures:
        return self.around[""].shared.images

    @property
    def paths(self) -> frozenset[str]:
        """The files of the articles that loaded."""
        return frozenset(a.path for a in self.articles)


def _load_all(b: _Build) -> _Loaded:
    """Stage 1: templates, articles (parsed again only where a file changed), glossary and
    the pictures articles may show."""
    config, problems = b.config, b.result.problems
    if b.opts.cache:
        memo.read_caches(config.root, b.state)
    compiled: list[Templates | None] = []  # (while worker processes parse, if they do)

    def compile_templates() -> None:
        compiled.append(memo.templates(config.root, problems, b.opts.cache))

    corpus = memo.load(config, b.day, problems, b.state, b.opts.cache,
                       b.prior.inputs.digests if b.prior.inputs else None, compile_templates)
    if not compiled:
        compile_templates()
    templates = compiled[0]
    b.prior.settle(corpus.hashed, config.root)
    articles = list(corpus.articles)
    drafts = set() if b.opts.drafts else {a.slug for a in articles if a.meta.draft}
    draft_files = frozenset({a.path for a in articles if a.meta.draft}
                            | unloadable_drafts(config.root, corpus.unloadable))
    return _Loaded(articles, drafts, corpus.unloadable, draft_files,
                   surroundings(config, problems), templates, memo.renamed(b.prior, articles))


def surroundings(config: SiteConfig, problems: ProblemList) -> dict[str, Surroundings]:
    """Each edition's glossary, shared cards and language (its interface text), by key; the
    pictures are the whole site's."""
    around: dict[str, Surroundings] = {}
    images = None
    for edition in config.all_editions:
        mine = config.for_edition(edition)
        shared = Shared.load(mine, problems, images)
        images = shared.images
        around[edition.key] = Surroundings(load_glossary(mine, problems), shared)
        check_rules(mine, shared.cards, problems)  # (its rules name its own cards)
    return around


@dataclass(frozen=True)
class _Made:
    """What the stages before the pages made, for the pages and what the next build keeps."""

    loaded: _Loaded
    rendered: dict[str, Rendered]
    body_keys: dict[str, str]
    complete: Callable[[str], Rendered]
    links: str  # the graph's digest (keys.graph_key)
    graph: TopicGraph
    nxt: ReadingNext


@dataclass(frozen=True)
class _Output:
    """Where the pages go: the page memo (with the identity it is kept under), the previous
    output's manifest when it is intact (to be updated), else a new folder being filled
    while the pages are rendered (`staging`, when it could be begun)."""

    pages: PageMemo
    identity: str
    previous: snapshot.Manifest | None
    staging: Staging | None


def _pages_and_publish(b: _Build, made: _Made) -> None:
    """Stages 6 and 7: render every page whose inputs changed, then write the output (unless
    only checking, or --strict found a warning)."""
    output = _output(b)
    staging = output.staging
    try:
        _pages(b, made, output)
        if b.opts.report:
            b.result.audit = audit(b.result)
        b.clock.lap("templates")
        if b.opts.write and not strict_failed(b.result, b.opts.strict):
            staging = None  # publishing removes the folder if it fails
            _publish(b, output, made)
            b.clock.lap("write")
    finally:
        if staging is not None:
            staging.abandon()  # not published: errors, or a failed --strict build


def _output(b: _Build) -> _Output:
    """Where this build's pages go (see _Output)."""
    opts = b.opts
    identity = repr((str(b.out.resolve()), sorted(b.result.problems.overrides.items())))
    pages = memo.page_memo(b.config.root, b.out, identity, b.state, b.prior,
                           opts.write and opts.cache)
    previous = b.prior.current if b.prior.record else None
    # a build that writes a new folder fills it while the pages are still being rendered
    staging = _staging(b.config.root, b.out) if opts.write and previous is None else None
    return _Output(pages, identity, previous, staging)


def _pages(b: _Build, made: _Made, output: _Output) -> None:
    """Stage 6: every page, rendered again only where its inputs changed, and checked."""
    result, problems, pages = b.result, b.result.problems, output.pages
    assert made.loaded.templates is not None
    plan = plan_pages(b.config, made.graph, made.nxt, made.loaded.around,
                      {**static_files(b.config.root, problems),
                       **picture_files(made.loaded.images, b.config.root,
                                       b.config.root / ".cache" if b.opts.cache else None)},
                      Bodies(made.complete, made.body_keys.__getitem__,
                             draft_notes(made.loaded.draft_files, problems)
                             if b.opts.drafts else {}))
    taken = {spec.path for spec in plan.specs} | set(plan.files)
    plan = replace(plan, files={**plan.files, **urls.redirect_files(b.config, made.graph, taken,
                                                                     problems)})
    if b.opts.drafts:  # (a draft whose front matter cannot be read: a page saying so)
        plan = replace(plan, files={**plan.files, **draft_pages(
            plan.site, made.loaded.templates, made.loaded.draft_files - made.loaded.paths,
            taken, problems)})
    trusted = output.previous is not None or (b.opts.keeps_files and not b.opts.write)
    result.files = render_pages(plan, made.loaded.templates, problems,
                                PageCache(pages, made.links, output.staging, trusted,
                                          frozenset({urls.SITEMAP})))
    result.kept, result.placed = frozenset(pages.kept), frozenset(pages.placed)
    result.counts["pages_rendered"] = pages.rendered
    result.summary["pages"] = sum(1 for k in result.paths() if k.endswith(".html"))
    b.state.render_cache.save()  # bodies that had to be rendered again, if any
    # pages were checked when they were rendered (by this build or an earlier one)
    check_output({k: v for k, v in result.files.items() if k not in pages.pages}, problems)
    _check_urls(b, made)
    problems.demote(made.loaded.draft_files)


def _check_urls(b: _Build, made: _Made) -> None:
    """Every URL published before is still a page, an alias or retired (url-removed)."""
    before = urls.read_sitemap(b.opts.published or b.out / urls.SITEMAP)
    after = b.result.files.get(urls.SITEMAP)
    if after is None and urls.SITEMAP in b.result.kept:  # (as the intact output has it)
        after = urls.read_sitemap(b.out / urls.SITEMAP)
    if before is not None and after is not None:
        drafts = frozenset(a.url for a in made.loaded.articles if a.slug in made.loaded.drafts)
        urls.check_removed(urls.Sitemaps(before, after, drafts), b.config, made.graph,
                           made.loaded.renamed, b.result.problems)


def _publish(b: _Build, output: _Output, made: _Made) -> None:
    """Write the output, then keep the page memo, the articles' facts and the record of
    what was written (see `_record`)."""
    root, result = b.config.root, b.result
    result.out_dir = b.out
    if b.opts.cache:  # the record is about to change (a --no-cache build leaves it be: its
        snapshot.forget(root)  # output, if the same folder, then fails `still`)
        sweep(root)  # what builds stopped while writing left in .cache/
    try:
        written, manifest = _write(b, output)
    except OutputError as e:
        if not result.problems.errors:
            result.problems.add("io", str(e), str(b.out))
        return
    result.counts.update(files_changed=len(written.changed), files_unchanged=written.unchanged)
    # (a page written again with the bytes the last build gave it has not changed: so on a
    # machine with .cache/ kept but no output folder, a CI runner's)
    result.changed = written.changed - output.pages.same
    if b.opts.cache:
        output.pages.save(root / memo.PAGE_MEMO, output.identity)
        snapshot.save(root, _record(root, b.prior, result, manifest, made, output.pages.site))


def _record(root: Path, prior: snapshot.Prior, result: BuildResult,
            manifest: snapshot.Manifest, made: _Made, site: dict[str, Any]) -> snapshot.Record:
    """What the next build needs to know of this one: to do nothing if nothing changed, or
    to rebuild only changed articles (with their neighbours' facts, kept by `delta.save`)."""
    articles = made.loaded.articles
    facts = delta.save(root, delta.facts_of(articles, made.rendered, made.graph, made.nxt))
    return snapshot.Record(
        prior.key, list(result.problems.items()), result.summary, manifest,
        prior.inputs.known if prior.inputs else {}, options=prior.options,
        digests=prior.inputs.digests if prior.inputs else {},
        slugs={a.path: a.slug for a in articles}, drafts=frozenset(made.loaded.drafts),
        unloadable=made.loaded.unloadable,
        grades={s: g.grade for s, g in result.grades.items()}, site=site, facts=facts,
        audit=snapshot.save_audit(root, result.audit) if result.audit is not None else "")


def _staging(root: Path, out: Path) -> Staging | None:
    """A new output folder to write into while rendering; None when the output folder is
    refused or busy (writing it reports why, as it would have)."""
    try:
        return Staging(root, out)
    except OutputError:
        return None


def _write(b: _Build, output: _Output) -> tuple[Written, snapshot.Manifest]:
    """Update an intact output (by way of its spare: see output.update_site); otherwise (or
    when the search index must be made again) write a new folder (`staging`, when it was
    begun while rendering) and swap it in. Returns what changed and the new manifest."""
    config, out, result = b.config, b.out, b.result
    # (a folder is staged only when there is no intact previous output to update; the
    # search index of an update is brought up to date in its folder, shard by shard)
    if output.previous is not None:
        index = indexer(out, editions_of(config), result.problems, in_place=True) \
            if config.search and _html_changed(result, output) else None
        written, changed = search_update(config.root, out, result.files, result.kept,
                                         output.previous, config.search, index)
        return written, snapshot.swapped(out, output.previous, changed)
    index = indexer(out, editions_of(config), result.problems) if config.search else None
    staging = output.staging if output.staging is not None else Staging(config.root, out)
    written = staging.publish(result.files, result.kept, index, frozenset(output.pages.read_back))
    return written, snapshot.manifest(out)


def _html_changed(result: BuildResult, output: _Output) -> bool:
    """Whether this build rendered an HTML page anew (the search index is to be made again)."""
    return any(k.endswith(".html") for k in result.files if k in output.pages.fresh)


def _replay(result: BuildResult, record: snapshot.Record, out: Path) -> None:
    """Stand by the last written build: its inputs, engine and options are the same and its
    output is exactly as it left it."""
    result.problems.extend(record.problems)
    result.summary = dict(record.summary)
    result.out_dir, result.up_to_date = out, True
    result.counts.update(files_changed=0, files_unchanged=len(snapshot.files(record.manifest)))


def _patched(result: BuildResult, patch: delta.Patch, out: Path) -> None:
    """The result of a build that rebuilt only changed articles (see delta)."""
    result.problems.extend(patch.problems)
    result.summary = patch.summary
    result.files, result.kept, result.out_dir = patch.pages, patch.kept, out
    result.changed, result.audit = patch.written.changed, patch.audit
    result.counts.update(articles_rendered=patch.articles, pages_rendered=len(patch.pages),
                         files_changed=len(patch.written.changed),
                         files_unchanged=patch.written.unchanged)


def _summary(result: BuildResult) -> dict[str, float]:
    g = result.graph
    assert g is not None
    articles = sum(1 for a in g.articles.values() if a.is_article)
    return {"pages": 0, "articles": articles,
            "site_pages": len(g.articles) - articles,
            "topics": sum(1 for t in g.topics if "/" not in t),  # (the default edition's)
            "grade": delta.mean_grade(r.grade for r in result.grades.values())}




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

