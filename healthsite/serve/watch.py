"""Watching the sources for the preview: `Watcher` has a burst of saves rebuilt once (by a
`Builder`, on its worker thread) and the browsers reloaded when the rebuild ends.

The watching is watchfiles' (inotify, through Rust's notify crate): nothing is looked at
until the kernel says something changed. Two watches, each on a thread of its own:

- the site's folder, not recursively: `site.yaml` (saved in place or by an atomic rename)
  and the input folders themselves appearing, disappearing or being replaced;
- the input folders that exist (`content/`, `templates/`, `static/`), recursively, through
  a folder that is a symbolic link too. Once this watch is in place it asks for a build:
  the preview's first build is that one (so a save during it is not missed, as it would be
  by a build before the watching started). When the first watch sees an input folder come
  or go, this one is started again on the folders there are then, and (once in place) asks
  for a rebuild, for whatever was saved in between.

A batch of changes ends when SETTLE_S passes without a change to a file not already in it
(watchfiles' `step`; a file saved again and again is in it already), or after LONGEST_MS;
a batch during a rebuild has one more run after it (`Builder`). Changes to anything else
(`.cache/`, the output folder, editors' swap, lock and backup files, hidden files in
`content/`, which are not part of the site) are ignored.

If watchfiles cannot watch (inotify's limits exhausted, say), the preview says so once and
falls back to looking at every input file's time and size every POLL_MS (`snapshot`), as it
did before watchfiles. Not watchfiles' own polling: that compares times in whole seconds, so
a second save within the same second would be missed."""

from __future__ import annotations

import logging
import os
import re
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import suppress
from pathlib import Path
from typing import Any

import watchfiles
from tornado import ioloop

from .preview import Builder, Preview

WATCHED = ("content", "templates", "static", "site.yaml")
FOLDERS = frozenset(WATCHED[:3])
SETTLE_S = 0.1  # a burst of saves has ended when no other file has changed for this long
LONGEST_MS = 1600  # a batch of changes that goes on longer is cut here (a rebuild follows)
READY_MS = 250  # how long a new watch waits before saying it is in place, if nothing changes
POLL_MS = 300  # how often the fallback looks at every input file
# editors' scratch files: Vim's swap files and write test (4913), Emacs's locks (.#name) and
# autosaves (#name#), backups (name~), JetBrains' safe-write copies
SCRATCH = re.compile(r"\.sw[a-p]$|^4913$|^\.#|^#.*#$|~$|\.___jb_\w+___$")
log = logging.getLogger("healthsite.serve")


def wanted(root: Path, path: str) -> bool:
    """Whether a change to `path` is one to the inputs of the site at `root`."""
    parts = os.path.relpath(path, root).split(os.sep)
    if parts[0] not in WATCHED or (parts[0] not in FOLDERS and len(parts) > 1):
        return False
    if parts[0] == "content" and any(p.startswith(".") for p in parts[1:]):
        return False  # (hidden files in content/ are not part of the site)
    return not SCRATCH.search(parts[-1])


def snapshot(root: Path) -> dict[str, tuple[int, int]]:
    """(mtime, size) of every input file (as `wanted` sees them): what the fallback compares."""
    out: dict[str, tuple[int, int]] = {}
    for name in WATCHED:
        for folder, files in _folders(root, name):
            for f in files:
                with suppress(OSError):
                    st = os.stat(os.path.join(folder, f))
                    out[f"{folder}/{f}"] = (st.st_mtime_ns, st.st_size)
    return out


def _folders(root: Path, name: str) -> Iterator[tuple[str, list[str]]]:
    """Each folder of the input `name` (for site.yaml, the site's folder) with the names of
    the input files in it, as `wanted` sees them."""
    if name not in FOLDERS:
        yield str(root), [name]
        return
    content = name == "content"  # (hidden files in content/ are not part of the site)
    for folder, dirs, files in os.walk(root / name):
        if content:
            dirs[:] = _visible(dirs)
            files = _visible(files)
        yield folder, [f for f in files if not SCRATCH.search(f)]


def _visible(names: list[str]) -> list[str]:
    return [n for n in names if not n.startswith(".")]


class _Either:
    """Set when any of some events is (what watchfiles asks of a `stop_event`)."""

    def __init__(self, *events: threading.Event) -> None:
        self.events = events

    def is_set(self) -> bool:
        return any(e.is_set() for e in self.events)


class Watcher:
    """Watches the sources (see the module's docstring), has each batch of changes rebuilt
    and, when a rebuild ends, asks for a reload on the server's loop. Started by livereload
    (`start`), or by `begin`; stopped by `close`."""

    def __init__(self, preview: Preview, reload: Callable[[], None]) -> None:
        self.preview, self.reload = preview, reload
        self.builder = Builder(preview, self._built)
        self.loop: ioloop.IOLoop | None = None
        self.polling = False  # whether watchfiles could not watch (see _poll)
        self._stop = threading.Event()
        self._stop_watching = threading.Event()  # (set when falling back to polling)
        self._relayout = threading.Event()  # an input folder came, went or was replaced
        self._ready = {"site": threading.Event(), "folders": threading.Event()}
        self._fell_back = threading.Lock()
        self._threads: list[threading.Thread] = []
        self._tasks = {"healthsite": None}  # tells livereload not to watch the cwd itself
        self._changes: list[Any] = []
        self.filepath = None

    def begin(self) -> None:
        """Start watching, on daemon threads (once; then this does nothing). The first build
        follows as soon as the watches are in place: `wait_ready`, then `builder.wait()`."""
        if self._threads:
            return
        for name, target in (("site", self._watch_site), ("folders", self._watch_folders)):
            thread = threading.Thread(target=target, name=f"healthsite-watch-{name}",
                                      daemon=True)
            thread.start()
            self._threads.append(thread)

    def wait_ready(self, timeout: float | None = None) -> bool:
        """Whether both watches are in place (within `timeout` seconds)."""
        return all(e.wait(timeout) for e in self._ready.values())

    def close(self) -> None:
        """Stop watching (a rebuild already running still ends)."""
        self._stop.set()
        self._relayout.set()
        for thread in self._threads:
            thread.join(timeout=2)

    def _watch_site(self) -> None:
        def changed(changes: set[tuple[watchfiles.Change, str]]) -> None:
            names = {os.path.basename(path) for _, path in changes}
            if names & FOLDERS:
                self._relayout.set()
            if "site.yaml" in names:
                self.builder.request()

        self._watch([self.preview.root], False, _Either(self._stop, self._stop_watching),
                    self._ready["site"].set, changed)

    def _watch_folders(self) -> None:
        either = _Either(self._stop, self._stop_watching, self._relayout)

        def started() -> None:  # the first build, or whatever changed while unwatched
            self.builder.request()
            self._ready["folders"].set()

        while not (self._stop.is_set() or self._stop_watching.is_set()):
            self._relayout.clear()
            root = self.preview.root
            folders = [root / name for name in sorted(FOLDERS) if (root / name).is_dir()]
            if not folders:
                started()
                self._relayout.wait()
                continue
            self._watch(folders, True, either, started, lambda _: self.builder.request())

    def _watch(self, paths: list[Path], recursive: bool, stop: _Either,
               started: Callable[[], None],
               changed: Callable[[set[tuple[watchfiles.Change, str]]], None]) -> None:
        """Watch `paths` until `stop` is set: `started` once the watch is in place, then
        `changed` for each batch of changes (already filtered)."""
        while not stop.is_set():
            try:
                for n, changes in enumerate(watchfiles.watch(
                        *paths, watch_filter=lambda _, path: wanted(self.preview.root, path),
                        debounce=LONGEST_MS, step=int(SETTLE_S * 1000), stop_event=stop,
                        rust_timeout=READY_MS, yield_on_timeout=True, recursive=recursive,
                        force_polling=False, ignore_permission_denied=True)):
                    if n == 0:
                        started()
                    if changes:
                        changed(changes)
                return
            except FileNotFoundError:  # a folder went between looking and watching
                self._relayout.set()
                self._stop.wait(SETTLE_S)
            except Exception as e:  # noqa: BLE001 (inotify's limits, a watchfiles internal
                self._fall_back(e)  # error, anything: the preview goes on by polling)
                return

    def _fall_back(self, error: Exception) -> None:
        """Stop the watches and poll instead (once, saying so)."""
        with self._fell_back:
            if self.polling:
                return
            self.polling = True
        log.warning("cannot watch the sources through inotify (%s): looking at every file "
                    "every %.1f s instead, which costs more CPU on a large site", error,
                    POLL_MS / 1000)
        self._stop_watching.set()
        self._relayout.set()
        thread = threading.Thread(target=self._poll, name="healthsite-poll", daemon=True)
        thread.start()
        self._threads.append(thread)

    def _poll(self) -> None:
        """Every POLL_MS, compare the inputs' times and sizes; have a change rebuilt once
        nothing has changed for SETTLE_S."""
        seen, since = snapshot(self.preview.root), None
        self.builder.request()  # the first build, or whatever changed while unwatched
        for ready in self._ready.values():
            ready.set()
        while not self._stop.wait(POLL_MS / 1000):
            now = snapshot(self.preview.root)
            if now != seen:
                seen, since = now, time.monotonic()
            elif since is not None and time.monotonic() - since >= SETTLE_S:
                since = None
                self.builder.request()

    def _built(self) -> None:  # on the worker thread; the reload is the loop's work
        if self.loop is not None:
            with suppress(RuntimeError):  # the loop has closed: the server is stopping
                self.loop.add_callback(self.reload)  # also after a failed build: the overlay

    # the part of livereload's Watcher interface that its handler calls
    def start(self, callback: Callable[[], None]) -> bool:
        self.loop = ioloop.IOLoop.current()
        self.begin()
        return True

    def examine(self) -> tuple[None, None]:
        return None, None

    def watch(self, *args: Any, **kwargs: Any) -> None:
        pass
