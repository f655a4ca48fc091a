"""The preview's search index, made again after each rebuild that changed pages, in the
background: Pagefind runs in a subprocess on a worker thread, one run at a time; asked while
one runs, it runs once more after it (a burst of saves costs two runs at most). Reloads never
wait for it: pages are served at once, and the new index from when it is ready.

Each run writes a new folder (`.search-N` inside the preview's folder, which the next run
does not index: it has no pages) and the preview serves `/pagefind/` from the newest, then
the one before it: a page loaded before the swap asks for the files its own index named,
which are still there. Older folders are removed."""

from __future__ import annotations

import logging
import shutil
import subprocess
import threading
from pathlib import Path

from ..publish import search as publish_search
from .worker import Coalescing

log = logging.getLogger("healthsite.serve")
URL_PREFIX = "/pagefind/"  # where the pages load the index from (see publish/search.py)
KEPT = 2  # index folders kept: the newest and the one before it
TIMEOUT_S = 600
NICENESS = 15  # (of 19) how much lower the indexing's CPU priority is than the preview's


def pagefind_command(site: Path, out: Path, language: str) -> list[str]:
    """The build's Pagefind command (publish/search.py) for the pages in `site`, writing the
    index into `out`, at a low CPU priority where `nice` exists, so that a rebuild during
    it is barely slowed."""
    nice = shutil.which("nice")
    return [*([nice, "-n", str(NICENESS)] if nice else []),
            *publish_search.pagefind_command(site, language, ["--output-path", str(out)])]


class SearchIndex:
    """The search index of the pages in `site`, made again on request in the background."""

    def __init__(self, site: Path) -> None:
        self.site = site
        self.folders: tuple[Path, ...] = ()  # the newest index first, then the one before
        self.runs = 0  # Pagefind runs started
        self.failure = ""  # why the latest run failed, or ""
        self._lock = threading.Lock()  # (for the fields below and the folders)
        self._language = ""
        self._proc: subprocess.Popen[str] | None = None
        self._closed = False
        self._runs = Coalescing(self._index_once, "search index")

    def request(self, language: str) -> None:
        """Index the pages as they are now (once the run under way, if any, has ended)."""
        with self._lock:
            if self._closed:
                return
            self._language = language
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
            proc = self._proc
        if proc is not None and proc.poll() is None:
            proc.kill()
        self._runs.close()

    def _index_once(self) -> None:
        """One run: index into a new folder; serve it when it is complete."""
        with self._lock:
            if self._closed:
                return
            self.runs += 1
            out = self.site / f".search-{self.runs}"
            self._proc = subprocess.Popen(
                pagefind_command(self.site, out, self._language), stdout=subprocess.PIPE,
                stderr=subprocess.PIPE, text=True)
            proc = self._proc
        why = _outcome(proc, out)
        if not why:  # (the site's own words, for "did you mean": publish/vocabulary.py)
            publish_search.finish(self.site, out)
        gone: tuple[Path, ...] = ()
        with self._lock:
            self._proc = None
            if self._closed:
                return
            if not why:
                self.folders, gone = (out, *self.folders)[:KEPT], self.folders[KEPT - 1:]
        if why:
            shutil.rmtree(out, ignore_errors=True)
            self._failed(why)
            return
        self.failure = ""
        for folder in gone:
            shutil.rmtree(folder, ignore_errors=True)

    def _failed(self, why: str) -> None:
        """Say once why the index could not be made (again: only when the reason changes)."""
        if why != self.failure:
            log.warning("the preview's search index could not be made: %s "
                        "(pip install 'pagefind[extended]')", why)
        self.failure = why


def _outcome(proc: subprocess.Popen[str], out: Path) -> str:
    """Wait for a Pagefind run: why it failed, or "" when it made the index."""
    try:
        _, err = proc.communicate(timeout=TIMEOUT_S)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.communicate()
        return f"Pagefind took more than {TIMEOUT_S} s"
    if proc.returncode != 0 or not (out / "pagefind.js").is_file():
        last = (err or "").strip().splitlines()
        return "Pagefind failed: " + (last[-1] if last else f"exit {proc.returncode}")
    return ""
