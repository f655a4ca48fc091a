"""The site as the preview shows it: built into a private temporary folder (never `_site/`),
rebuilt on request on a worker thread, one rebuild at a time, with the latest build's
problems (a `Report`, for the overlay, the panel and the terminal) and its search index
made again in the background after a rebuild that changed pages. Owns `Preview` and
`Builder`; knows nothing of HTTP or watching."""

from __future__ import annotations

import logging
import os
import shutil
import tempfile
import threading
import time
import traceback
from collections.abc import Callable, Mapping
from pathlib import Path

from ..errors import Level, Problem
from ..load.content import Article
from ..pipeline import BuildResult, BuildState, Options, build_site
from ..publish import search as publish_search
from .problems import Rebuilt, Report
from .search import SearchIndex
from .worker import Coalescing

log = logging.getLogger("healthsite.serve")


class Preview:
    """A site built into a private folder, rebuilt on demand, with its latest problems."""

    def __init__(self, root: Path, drafts: bool = False) -> None:
        self.root = root
        self.drafts = drafts
        self.dir = Path(tempfile.mkdtemp(prefix="healthsite-preview-"))
        self.state = BuildState()
        self.report = Report()  # the latest build's problems, and what it did
        self.files: dict[str, bytes] = {}
        self.builds = 0
        # whether `files` are the last build's (then the next build may leave out the pages
        # whose inputs did not change: Options.keeps_files); not after a build not taken
        self._current = False
        self.search = SearchIndex(self.dir)
        self._lock = threading.Lock()  # the folder and problems change together; close waits
        self._closed = False

    @property
    def problems(self) -> list[Problem]:
        """The latest build's problems, sorted."""
        return list(self.report.problems)

    def rebuild(self) -> bool:
        """Build; on success write the pages that changed. Never raises. May run on a worker
        thread while the server reads the folder: each file is replaced whole, and the
        problems change only when the pages have."""
        start = time.perf_counter()
        try:
            result = build_site(Options(root=self.root, drafts=self.drafts, write=False,
                                        keeps_files=self._current), self.state)
        except Exception:  # noqa: BLE001 (a bug must not stop the preview; show it instead)
            self._current = False
            self._report([Problem("healthsite", 1, 1, Level.ERROR, "internal",
                                  "the build crashed: " + traceback.format_exc(limit=3))],
                         _failed(start))
            return False
        ok = not result.problems.errors and bool(result.files or result.kept)
        with self._lock:
            changed = None if self._closed else self._take(result, ok, start)
            self._current = ok and changed is not None
        return self._current

    def _take(self, result: BuildResult, ok: bool, start: float) -> int | None:
        """Under the lock: write the pages that changed (when the build is `ok`) and take
        the build's problems; how many files were written, or None when they could not be."""
        try:
            changed = self._sync(self._whole(result)) if ok else []
        except OSError as e:  # a full or read-only temporary folder
            self._report([Problem("healthsite", 1, 1, Level.ERROR, "io",
                                  f"cannot write the preview into {self.dir}: {e}")],
                         _failed(start))
            return None
        except KeyError as e:  # (a kept page the preview does not have: never expected)
            self._report([Problem("healthsite", 1, 1, Level.ERROR, "internal",
                                  f"the build kept {e}, which the preview does not have: "
                                  "save again to rebuild every page")], _failed(start))
            return None
        if ok:
            self._index(result, changed)
        rebuilt = Rebuilt(ok, time.perf_counter() - start, result.summary, len(changed))
        self._report(result.problems.sorted(), rebuilt,
                     result.graph.articles if result.graph is not None else None)
        self.builds += 1
        return len(changed)

    def _index(self, result: BuildResult, changed: list[str]) -> None:
        """Have the search index made again, in the background, when pages changed (or
        there is none yet, nor one on the way) and the site has search."""
        config = result.config
        if config is None or not config.search:
            return
        missing = not self.search.folders and not self.search.busy()
        if not missing and not any(rel.endswith(".html") for rel in changed):
            return
        self.search.request(publish_search.editions_of(config), None if missing else changed)

    def _report(self, problems: list[Problem], rebuilt: Rebuilt,
                articles: Mapping[str, Article] | None = None) -> None:
        """Take a build's problems and what it did (a build that read no articles leaves
        the pages, and so the problems' places, as the last one that did)."""
        self.report = Report(tuple(problems), self.report.articles if articles is None
                             else articles, rebuilt)

    def _whole(self, result: BuildResult) -> dict[str, bytes]:
        """Every file of the build: those it made, and those it kept from the last one."""
        if not result.kept:
            return result.files
        return {**{rel: self.files[rel] for rel in result.kept}, **result.files}

    def _sync(self, files: dict[str, bytes]) -> list[str]:
        """Write the files that changed, remove those that went; those files."""
        changed = []
        for rel, data in files.items():
            if self.files.get(rel) != data:
                target = self.dir / rel
                target.parent.mkdir(parents=True, exist_ok=True)
                part = target.with_name(f".{target.name}.part")
                part.write_bytes(data)
                os.replace(part, target)  # a request never reads half a page
                changed.append(rel)
        for rel in sorted(set(self.files) - set(files)):
            (self.dir / rel).unlink(missing_ok=True)
            changed.append(rel)
        self.files = dict(files)
        return changed

    def close(self) -> None:
        """Remove the folder (waiting for a rebuild that is writing into it, not for one
        that is still building: that one then writes nothing; ending the search index's
        run, if one is under way)."""
        self.search.close()
        with self._lock:
            self._closed = True
            shutil.rmtree(self.dir, ignore_errors=True)


def _failed(start: float) -> Rebuilt:
    """A rebuild, begun at `start` (perf_counter), that wrote nothing."""
    return Rebuilt(False, time.perf_counter() - start, {})


class Builder(Coalescing):
    """Runs rebuilds on a worker thread, one at a time. Asked while one runs, it runs exactly
    one more after it (the save may have come too late for the running one). `done` is
    called on the worker thread after each rebuild."""

    def __init__(self, preview: Preview, done: Callable[[], None]) -> None:
        self.preview, self.done = preview, done
        super().__init__(self._rebuild, "rebuild worker")

    def _rebuild(self) -> None:
        self.preview.rebuild()  # (never raises)
        self.done()
