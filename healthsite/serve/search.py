"""The preview's search index, made again after each rebuild that changed pages, in the
background: Pagefind runs in a subprocess on a worker thread, one run at a time; asked while
one runs, it runs once more after it (a burst of saves costs two runs at most). Reloads never
wait for it: pages are served at once, and the new index from when it is ready.

Each run writes a new folder (`.search-N` inside the preview's folder, which the next run
does not index), indexing again only the shards (publish/search.py) whose pages changed
since the newest and linking the others over from it, and the preview serves `/pagefind/`
from the newest, then the one before it: a page loaded before the swap asks for the files
its own index named, which are still there. Older folders are removed."""

from __future__ import annotations

import logging
import shutil
import subprocess
import threading
from collections.abc import Iterable
from pathlib import Path

from ..publish import search as publish_search
from .worker import Coalescing

log = logging.getLogger("healthsite.serve")
URL_PREFIX = "/pagefind/"  # where the pages load the index from (see publish/search.py)
KEPT = 2  # index folders kept: the newest and the one before it
NICENESS = 15  # (of 19) how much lower the indexing's CPU priority is than the preview's


def _start(cmd: list[str]) -> subprocess.Popen[str]:
    """Start one of the build's Pagefind commands (publish/search.py) at a low CPU priority
    where `nice` exists, so that a rebuild during it is barely slowed."""
    nice = shutil.which("nice")
    return subprocess.Popen([*([nice, "-n", str(NICENESS)] if nice else []), *cmd],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


class SearchIndex:
    """The search index of the pages in `site`, made again on request in the background."""

    def __init__(self, site: Path) -> None:
        self.site = site
        self.folders: tuple[Path, ...] = ()  # the newest index first, then the one before
        self.runs = 0  # Pagefind runs started
        self.failure = ""  # why the latest run failed, or ""
        self._lock = threading.Lock()  # (for the fields below and the folders)
        self._editions: tuple[publish_search.Edition, ...] = ()
        self._changed: set[str] | None = None  # pages changed since the newest index (None:
        # not known, every shard is indexed again)
        self._procs: list[subprocess.Popen[str]] = []
        self._closed = False
        self._runs = Coalescing(self._index_once, "search index")

    def request(self, editions: tuple[publish_search.Edition, ...],
                changed: Iterable[str] | None) -> None:
        """Index the pages as they are now (once the run under way, if any, has ended), the
        shards of the `changed` pages (None: not known) again."""
        with self._lock:
            if self._closed:
                return
            if editions != self._editions:
                changed = None
            self._editions = editions
            if changed is None or self._changed is None:
                self._changed = None
            else:
                self._changed.update(changed)
        self._runs.request()

    def busy(self) -> bool:
        """Whether a run is under way or asked for."""
        return self._runs.busy()

    def wait(self, timeout: float | None = None) -> bool:
        """Whether the runs asked for have all ended (within `timeout` seconds)."""
        return self._runs.wait(timeout)

    def close(self) -> None:
        """Stop: end the run under way (its Pagefind process) and start no other."""
        with self._lock:
            self._closed = True
            procs = list(self._procs)
        for proc in procs:
            if proc.poll() is None:
                proc.kill()
        self._runs.close()

    def _index_once(self) -> None:
        """One run: index into a new folder, the shards whose pages did not change linked
        from the newest; serve it when it is complete."""
        with self._lock:
            if self._closed:
                return
            self.runs += 1
            out = self.site / f".search-{self.runs}"
            previous = self.folders[0] if self.folders else None
            changed = None if self._changed is None else frozenset(self._changed)
            self._changed = set()  # (what changes from now on: for the next run)
            editions = self._editions
        why = publish_search.index_site(self.site, out, previous, changed, editions,
                                        self._start)
        gone: tuple[Path, ...] = ()
        with self._lock:
            self._procs.clear()
            if self._closed:
                return
            if why:
                self._changed = None  # (the next run indexes every shard)
            else:
                self.folders, gone = (out, *self.folders)[:KEPT], self.folders[KEPT - 1:]
        if why:
            shutil.rmtree(out, ignore_errors=True)
            self._failed(why)
            return
        self.failure = ""
        for folder in gone:
            shutil.rmtree(folder, ignore_errors=True)

    def _start(self, cmd: list[str]) -> subprocess.Popen[str]:
        """Start a Pagefind command (killed by `close`)."""
        with self._lock:
            if self._closed:
                raise OSError("the preview is closing")
            proc = _start(cmd)
            self._procs.append(proc)
        return proc

    def _failed(self, why: str) -> None:
        """Say once why the index could not be made (again: only when the reason changes)."""
        if why != self.failure:
            log.warning("the preview's search index could not be made: %s "
                        "(pip install 'pagefind[extended]')", why)
        self.failure = why
