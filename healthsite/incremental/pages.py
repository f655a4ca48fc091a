"""The page memo and the cached, parallel route of the pages stage.

Given a `Plan` (healthsite.pages.plan), `render` reuses every page whose declared inputs are
as they were for the last build (kept in the intact previous output unread, read back from
it and verified by SHA-256, or, in the preview, from memory), renders the rest across worker
processes, and hands each to a `Sink` as it comes (a worker writes its pages itself). It
knows pages only as specs: their paths, templates, declared inputs and views. What each
memo key covers is written in healthsite.pages.plan."""

from __future__ import annotations

import hashlib
import os
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

from ..errors import Problem, ProblemList
from ..pages.plan import PageSpec, Plan
from ..pages.render import render_spec
from ..pages.templating import Templates
from ..parallel import each_indexed
from .cache import read_pickle, write_pickle

# a page rendered: its bytes (None if it could not be rendered, or a worker wrote it), their
# SHA-256, its problems, and whether a worker wrote it (None: it did not) as a new file or not
Made = tuple[bytes | None, str, list[Problem], bool | None]


class Sink(Protocol):
    """Where rendered pages go (output.Staging)."""

    def put(self, path: str, data: bytes) -> None:
        """Write a page (in this process, in the background)."""

    def place(self, path: str, data: bytes) -> bool:
        """Write a page now, in whichever process renders it; whether it is new or changed."""

    def placed(self, path: str, changed: bool) -> None:
        """Record (in this process) a page that `place` wrote in another."""


class PageMemo:
    """Rendered pages keyed by a digest of their declared inputs: a page whose inputs did not
    change since the last build is not rendered again.

    The preview server keeps the bytes in memory between rebuilds. Between separate builds the
    memo is saved without the bytes (`save`/`load`): an unchanged page is then read back from
    the previous output, and used only if its SHA-256 matches what was written."""

    def __init__(self) -> None:
        self.pages: dict[str, tuple[str, str, bytes | None]] = {}  # path: (key, digest, bytes)
        self.rendered = 0
        self.fresh: set[str] = set()  # pages rendered by the latest build
        # pages it rendered to the very bytes the memo knew (unchanged for readers, though
        # written again when there was no previous output to keep them in)
        self.same: set[str] = set()
        self.read_back: set[str] = set()  # pages read from the previous output and verified
        self.kept: set[str] = set()  # pages left as they are in an intact previous output
        self.placed: set[str] = set()  # pages a worker process wrote to the output itself
        self.previous: Path | None = None  # the output folder the saved memo describes
        self.trusted = False  # the previous output is known intact: unchanged pages stay put
        self.context = ""  # the digest of what every covered page shares, when `own` was made
        self.own: dict[str, str] = {}  # covered page: what only that page is made from
        # the site-wide view of the latest pages (Plan.site), for the record of the build
        self.site: dict[str, Any] = {}

    def begin(self, trusted: bool) -> None:
        """Start a build's account (`trusted`: the previous output is known intact)."""
        self.rendered, self.fresh, self.read_back, self.kept = 0, set(), set(), set()
        self.same = set()
        self.placed, self.trusted = set(), trusted

    def unchanged(self, path: str, key: str) -> bool:
        """Whether the page, unchanged, can stay in the intact previous output unread."""
        hit = self.pages.get(path)
        if self.trusted and self.previous is not None and hit is not None and hit[0] == key:
            self.kept.add(path)
            return True
        return False

    def get(self, path: str, key: str) -> bytes | None:
        hit = self.pages.get(path)
        if hit is None or hit[0] != key:
            return None
        if hit[2] is not None:
            return hit[2]
        if self.previous is None:
            return None
        try:
            data = (self.previous / path).read_bytes()
        except OSError:
            return None
        if hashlib.sha256(data).hexdigest() != hit[1]:
            return None
        self.read_back.add(path)
        return data

    def put(self, path: str, key: str, data: bytes | None, digest: str, problems: bool) -> None:
        """Record a page just rendered (`digest`: the SHA-256 of its bytes, which are None
        when not kept here); one that had problems is not kept for reuse, so the next build
        renders and reports it again."""
        old = self.pages.get(path)
        if old is not None and old[1] == digest:
            self.same.add(path)
        if problems:
            self.pages.pop(path, None)
        else:
            self.pages[path] = (key, digest, data)
        self.rendered += 1
        self.fresh.add(path)

    def forget(self, paths: Iterable[str]) -> None:
        """Drop pages written since the memo was saved (by a build that did not keep it)."""
        for path in paths:
            self.pages.pop(path, None)
            self.own.pop(path, None)

    def prune(self, seen: set[str]) -> None:
        """Drop the pages the latest build no longer has."""
        for stale in set(self.pages) - seen:
            del self.pages[stale]
        for stale in set(self.own) - seen:
            del self.own[stale]

    def save(self, file: Path, identity: str) -> None:
        """Keep the keys and digests (not the bytes) for the next build of the same identity
        (output folder and check levels: a reused page is not checked again)."""
        write_pickle(file, "pages", (identity, {p: (k, d) for p, (k, d, _) in
                                                self.pages.items()}, self.context, self.own))

    def load(self, file: Path, identity: str, output: Path) -> None:
        """Read a saved memo if it has this identity; anything unreadable is ignored."""
        data = read_pickle(file, "pages")
        if not isinstance(data, tuple) or len(data) != 4 or data[0] != identity:
            return
        self.pages = {p: (k, d, None) for p, (k, d) in data[1].items()}
        self.context, self.own = data[2], data[3]
        self.previous = output


@dataclass(frozen=True)
class PageCache:
    """Everything the cached route adds to a plan: the memo, the graph digest (`links`:
    everything pages show of other pages; None to key every page), where pages go as they
    are rendered (`sink`), whether the previous output is known intact (`trusted`), and the
    pages whose bytes the build needs back (`wanted`: never written by a worker itself)."""

    memo: PageMemo
    links: str | None = None
    sink: Sink | None = None
    trusted: bool = False
    wanted: frozenset[str] = frozenset()


def render(plan: Plan, tpl: Templates, problems: ProblemList,
           cache: PageCache) -> dict[str, bytes]:
    """Every file of the plan, as `healthsite.pages.render_plan` makes them, but for pages
    reused from the memo (left out when kept in the previous output: see `memo.kept`) and
    pages a worker process wrote itself (`sink.place`; left out, see `memo.placed`).

    When the graph digest and every page's shared parts (`Plan.shared`, the templates) are
    as they were for the intact previous output, a covered page whose `own` inputs are
    unchanged is kept without working out its key at all. A page with nothing to reuse is
    keyed where it is rendered (in a worker process when there are many)."""
    return _Run(plan, tpl, problems, cache).run()


class _Run:
    """One call of `render`."""

    def __init__(self, plan: Plan, tpl: Templates, problems: ProblemList,
                 cache: PageCache) -> None:
        self.plan, self.tpl, self.problems = plan, tpl, problems
        memo = self.memo = cache.memo
        self.sink, self.wanted = cache.sink, cache.wanted
        memo.begin(cache.trusted)
        self.base = hashlib.sha256(f"{tpl.fingerprint}\0{plan.shared}".encode()).hexdigest()
        covering = f"{self.base}\0{cache.links}" if cache.links is not None else ""
        self.shortcut = bool(covering) and covering == memo.context and memo.trusted
        memo.context, memo.site = covering, plan.site
        self.out = dict(plan.files)
        self.seen: set[str] = set()
        self.todo: list[tuple[PageSpec, str]] = []  # pages to render, with their keys
        self.here = os.getpid()

    def run(self) -> dict[str, bytes]:
        self.todo = [(spec, key) for spec in self.plan.specs
                     if (key := self.triage(spec)) is not None]
        results = each_indexed(self.task, len(self.todo))
        for (spec, _), (key, made) in zip(self.todo, results, strict=True):
            self.keep(spec.path, key, *made)
        self.memo.prune(self.seen)
        return self.out

    def key(self, spec: PageSpec) -> str:
        """The page's memo key: the templates, what every page shares, its template and its
        declared inputs."""
        text = f"{self.base}\0{spec.template}\0{spec.inputs()}"
        return hashlib.sha256(text.encode()).hexdigest()

    def triage(self, spec: PageSpec) -> str | None:
        """None when the page is kept or reused; else its key, or "" when the memo has
        nothing for it (its key is then made where it is rendered)."""
        memo, path = self.memo, spec.path
        self.seen.add(path)
        if self.covered(spec):
            return None
        if spec.own:
            memo.own[path] = spec.own
        if path not in memo.pages:
            return ""
        key = self.key(spec)
        if memo.unchanged(path, key):
            return None
        data = memo.get(path, key)
        if data is None:
            return key
        self.out[path] = data
        return None

    def covered(self, spec: PageSpec) -> bool:
        """Whether the shortcut keeps the page as it is in the previous output (see
        `render`)."""
        memo, path = self.memo, spec.path
        if self.shortcut and spec.covered and path in memo.pages \
                and memo.own.get(path, "") == spec.own:
            memo.kept.add(path)
            return True
        return False

    def task(self, i: int) -> tuple[str, Made]:
        """The i-th page to render, keyed, rendered and checked (in a worker process when
        there are many)."""
        spec, key = self.todo[i]
        return key or self.key(spec), self.made(spec)

    def made(self, spec: PageSpec) -> Made:
        found = ProblemList(self.problems.overrides)
        data = render_spec(self.tpl, spec, found)
        if data is None:
            return None, "", found.items(), None
        digest = hashlib.sha256(data).hexdigest()
        if self.sink is not None and not found and os.getpid() != self.here \
                and spec.path not in self.wanted:
            try:  # in a worker: the bytes need not travel back
                return None, digest, [], self.sink.place(spec.path, data)
            except OSError:
                pass  # this process writes it (and reports what goes wrong)
        return data, digest, found.items(), None

    def keep(self, path: str, key: str, data: bytes | None, digest: str,
             found: list[Problem], placed: bool | None) -> None:
        """A page rendered, back in this process: its problems reported, the memo told, and
        the page handed on (unless a worker wrote it)."""
        self.problems.extend(found)
        if placed is not None:
            assert self.sink is not None
            self.sink.placed(path, placed)
            self.memo.put(path, key, None, digest, False)
            self.memo.placed.add(path)
        elif data is not None:
            self.memo.put(path, key, data, digest, bool(found))
            self.out[path] = data
            if self.sink is not None:
                self.sink.put(path, data)
