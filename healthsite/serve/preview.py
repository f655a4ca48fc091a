"""The site as the preview shows it: built into a private temporary folder (never `_site/`),
rebuilt on request on a worker thread, one rebuild at a time, with the latest build's
problems for the overlay. Owns `Preview` and `Builder`; knows nothing of HTTP or watching."""

from __future__ import annotations

import logging
import os
import shutil
import tempfile
import threading
import time
import traceback
from collections.abc import Callable
from pathlib import Path

from ..errors import Level, Problem, ProblemList
from ..pipeline import BuildResult, BuildState, Options, build_site
from ..publish.search import index_site

log = logging.getLogger("healthsite.serve")


class Preview:
    """A site built into a private folder, rebuilt on demand, with its latest problems."""

    def __init__(self, root: Path, drafts: bool = False) -> None:
        self.root = root
        self.drafts = drafts
        self.dir = Path(tempfile.mkdtemp(prefix="healthsite-preview-"))
        self.state = BuildState()
        self.problems: list[Problem] = []
        self.files: dict[str, bytes] = {}
        self.builds = 0
        self.indexed = False
        self._lock = threading.Lock()  # the folder and problems change together; close waits
        self._closed = False

    def rebuild(self) -> bool:
        """Build; on success write the pages that changed. Never raises. May run on a worker
        thread while the server reads the folder: each file is replaced whole, and the
        problems change only when the pages have."""
        start = time.perf_counter()
        try:
            result = build_site(Options(root=self.root, drafts=self.drafts, write=False),
                                self.state)
        except Exception:  # noqa: BLE001 (a bug must not stop the preview; show it instead)
            self.problems = [Problem("healthsite", 1, 1, Level.ERROR, "internal",
                                     "the build crashed: " + traceback.format_exc(limit=3))]
            return False
        ok = not result.problems.errors and bool(result.files)
        with self._lock:
            changed = None if self._closed else self._take(result, ok)
        if changed is None:
            return False
        if not ok:
            log.info("build failed with %d error(s)", result.problems.errors)
            return False
        log.info("rebuilt %d page(s), wrote %d file(s) in %.2f s",
                 result.counts.get("pages_rendered", 0), changed,
                 time.perf_counter() - start)
        return True

    def _take(self, result: BuildResult, ok: bool) -> int | None:
        """Under the lock: write the pages that changed (when the build is `ok`) and take
        the build's problems; how many files were written, or None when they could not be."""
        try:
            changed = self._sync(result.files) if ok else 0
        except OSError as e:  # a full or read-only temporary folder
            self.problems = [Problem("healthsite", 1, 1, Level.ERROR, "io",
                                     f"cannot write the preview into {self.dir}: {e}")]
            return None
        if ok:
            self._index_once(result)
        self.problems = result.problems.sorted()
        self.builds += 1
        return changed

    def _index_once(self, result: BuildResult) -> None:
        """The search index, made after the first good build of a site that has search."""
        if not self.indexed and result.config is not None and result.config.search:
            self.indexed = index_site(self.dir, result.config.language, ProblemList())

    def _sync(self, files: dict[str, bytes]) -> int:
        changed = 0
        for rel, data in files.items():
            if self.files.get(rel) != data:
                target = self.dir / rel
                target.parent.mkdir(parents=True, exist_ok=True)
                part = target.with_name(f".{target.name}.part")
                part.write_bytes(data)
                os.replace(part, target)  # a request never reads half a page
                changed += 1
        for rel in set(self.files) - set(files):
            (self.dir / rel).unlink(missing_ok=True)
        self.files = dict(files)
        return changed

    def close(self) -> None:
        """Remove the folder (waiting for a rebuild that is writing into it, not for one
        that is still building: that one then writes nothing)."""
        with self._lock:
            self._closed = True
            shutil.rmtree(self.dir, ignore_errors=True)


class Builder:
    """Runs rebuilds on a worker thread, one at a time. Asked while one runs, it runs exactly
    one more after it (the save may have come too late for the running one). `done` is
    called on the worker thread after each rebuild."""

    def __init__(self, preview: Preview, done: Callable[[], None]) -> None:
        self.preview, self.done = preview, done
        self._lock = threading.Lock()
        self._worker: threading.Thread | None = None
        self._again = False
        self._idle = threading.Event()
        self._idle.set()

    def request(self) -> None:
        with self._lock:
            if self._worker is not None:
                self._again = True
                return
            self._idle.clear()
            self._worker = threading.Thread(target=self._run, name="healthsite-rebuild",
                                            daemon=True)
            self._worker.start()

    def busy(self) -> bool:
        with self._lock:
            return self._worker is not None

    def wait(self, timeout: float | None = None) -> bool:
        """Whether the rebuilds asked for have all ended (within `timeout` seconds)."""
        return self._idle.wait(timeout)

    def _run(self) -> None:
        again = True
        while again:
            try:
                self.preview.rebuild()  # (never raises)
                self.done()
            except Exception:  # noqa: BLE001 (the worker must not die and leave it busy)
                log.exception("the preview's rebuild worker")
            with self._lock:
                again, self._again = self._again, False
                if not again:
                    self._worker = None
                    self._idle.set()
