"""Stage 8: write the site atomically, only ever inside a directory the build owns."""

from __future__ import annotations

import contextlib
import errno
import fcntl
import os
import queue
import shutil
import stat
import tempfile
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

MARKER = ".healthsite-output"
OWNED_DIRS = ("content", "templates", "static", "healthsite", "tests", ".git")


class OutputError(Exception):
    """The output directory is unsafe or busy; the message says why."""


def check_out_dir(root: Path, out: Path) -> None:
    """Refuse output directories the build does not own or that would destroy sources."""
    root, out = root.resolve(), out.resolve()
    if out == root or root.is_relative_to(out):
        raise OutputError(f"refusing to write the site to {out}: it holds the project itself")
    for name in OWNED_DIRS:
        d = (root / name).resolve()
        if out == d or out.is_relative_to(d) or d.is_relative_to(out):
            raise OutputError(f"refusing to write the site to {out}: it would overwrite {name}/")
    if out.is_file():
        raise OutputError(f"refusing to write the site to {out}: it is a file")
    if out.is_dir() and any(out.iterdir()) and not (out / MARKER).exists():
        raise OutputError(f"refusing to replace {out}: it is not empty and was not made by "
                          "healthsite (choose another --out, or empty it yourself)")


def safe_rel(path: str) -> PurePosixPath:
    """An output path that cannot leave the output directory."""
    p = PurePosixPath(path)
    if p.is_absolute() or ".." in p.parts or not p.parts or "\0" in path:
        raise OutputError(f"refusing to write '{path}': it would leave the output directory")
    return p


@contextmanager
def build_lock(out: Path) -> Iterator[None]:
    """Only one build may write a given output directory at a time."""
    out.parent.mkdir(parents=True, exist_ok=True)
    lock_path = out.parent / f".{out.name}.lock"
    with open(lock_path, "w") as fh:
        try:
            fcntl.flock(fh, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError as e:
            if e.errno in (errno.EAGAIN, errno.EACCES):
                raise OutputError(f"another build is writing {out}; try again when it ends") \
                    from None
            raise
        try:
            yield
        finally:
            fcntl.flock(fh, fcntl.LOCK_UN)


@dataclass(frozen=True)
class Written:
    """What a write did: files whose bytes changed, and files carried over unchanged."""

    changed: frozenset[str]
    unchanged: int


def write_site(root: Path, out: Path, files: dict[str, bytes],
               finish: Callable[[Path, frozenset[str]], bool] | None = None,
               known_same: frozenset[str] = frozenset(),
               kept: frozenset[str] = frozenset()) -> Written:
    """Write `files` into a fresh temporary directory, run `finish` on it (e.g. the search
    index) with the paths whose bytes changed, then swap it in. Nothing is swapped if
    `finish` fails. A file whose bytes did not change is hard-linked from the previous
    output instead of written again, so its inode and time stamp stay (cheap deploys).
    `known_same` names files the caller read back from the previous output and verified, so
    they need not be compared again; `kept` names files left out of `files` because the
    caller knows the previous output holds them unchanged (they are linked or copied)."""
    return Staging(root, out).publish(files, kept, finish, known_same)


class Staging:
    """A new output folder, filled while the build is still rendering, then swapped in.

    Files handed to `put` are written by a thread as they come: creating 10,000 files waits
    on the disk far more than on the processor, so it overlaps with rendering instead of
    following it. A worker process that rendered a page can `place` it itself (the pages
    then never travel back to this process); this process is told with `placed`.
    `publish` writes the rest and swaps the folder in (see `write_site`); `abandon` removes
    it. The output's build lock is held from start to end."""

    def __init__(self, root: Path, out: Path) -> None:
        check_out_dir(root, out)
        self.out = out
        self._lock = build_lock(out)
        self._lock.__enter__()
        try:
            self.tmp = Path(tempfile.mkdtemp(prefix=f".{out.name}.new-", dir=out.parent))
            self.tmp.chmod(0o755)
        except BaseException:
            self._lock.__exit__(None, None, None)
            raise
        self._new, self._old = str(self.tmp), str(out)
        self._folders = {self._new}
        self._placed: set[str] = set()
        self._changed: set[str] = set()
        self._unchanged = 0
        self._queue: queue.SimpleQueue[tuple[str, bytes] | None] = queue.SimpleQueue()
        self._thread: threading.Thread | None = None
        self._failed: BaseException | None = None

    def put(self, path: str, data: bytes) -> None:
        """Write one file (its final bytes) in the background. The thread starts with the
        first file, so worker processes forked before then do not inherit it."""
        rel = safe_rel(path).as_posix()
        if self._thread is None:
            self._thread = threading.Thread(target=self._drain, name="healthsite-writer",
                                            daemon=True)
            self._thread.start()
        self._queue.put((rel, data))

    def _drain(self) -> None:
        while (item := self._queue.get()) is not None:
            if self._failed is None:
                try:
                    self._place(*item, frozenset())
                except BaseException as e:  # raised again by publish
                    self._failed = e

    def _stop(self) -> None:
        if self._thread is not None:
            self._queue.put(None)
            self._thread.join()
            self._thread = None
        if self._failed is not None:
            raise self._failed

    def place(self, path: str, data: bytes) -> bool:
        """Write one file now, in whichever process calls it (a forked worker may: this
        touches only the folder); whether its bytes changed from the previous output's. The
        process that made the Staging must then be told (`placed`)."""
        return self._write(safe_rel(path).as_posix(), data)

    def placed(self, path: str, changed: bool) -> None:
        """Record a file that `place` wrote (in a worker process)."""
        rel = safe_rel(path).as_posix()
        self._placed.add(rel)
        if changed:
            self._changed.add(rel)
        else:
            self._unchanged += 1

    def _folder(self, target: str) -> None:
        folder = os.path.dirname(target)
        if folder not in self._folders:
            os.makedirs(folder, exist_ok=True)
            self._folders.add(folder)

    def _place(self, rel: str, data: bytes | None, known_same: frozenset[str]) -> None:
        self._placed.add(rel)
        if data is None:  # unchanged, left out of the files: linked (or copied) over
            target, before = os.path.join(self._new, rel), os.path.join(self._old, rel)
            self._folder(target)
            if not _link(before, target):
                shutil.copy2(before, target)
            self._unchanged += 1
        elif self._write(rel, data, rel in known_same):
            self._changed.add(rel)
        else:
            self._unchanged += 1

    def _write(self, rel: str, data: bytes, same: bool = False) -> bool:
        """Write a file, or hard-link the previous output's when its bytes are the same (or
        known to be, `same`); whether it changed."""
        # plain strings, not Paths: at 10,000 pages pathlib alone costs about a second
        target, before = os.path.join(self._new, rel), os.path.join(self._old, rel)
        self._folder(target)
        if (same or _same(before, data)) and _link(before, target):
            return False
        with open(target, "wb") as fh:
            fh.write(data)
        return True

    def publish(self, files: dict[str, bytes],
                kept: frozenset[str] = frozenset(),
                finish: Callable[[Path, frozenset[str]], bool] | None = None,
                known_same: frozenset[str] = frozenset()) -> Written:
        """Write whatever `put` was not given of `files` and `kept`, run `finish`, and swap
        the folder in; on any failure the folder is removed and the output left alone."""
        try:
            self._stop()
            rels: dict[str, bytes | None] = {safe_rel(k).as_posix(): v for k, v in files.items()}
            rels.update((safe_rel(k).as_posix(), None) for k in kept)
            for rel, data in sorted(rels.items()):
                if rel not in self._placed:
                    self._place(rel, data, known_same)
            if finish is not None and not finish(self.tmp, frozenset(self._changed)):
                raise OutputError("the site was not published because a final step failed")
            (self.tmp / MARKER).write_text("This directory is written by healthsite; it is "
                                           "replaced on every build.\n")
            _swap(self.tmp, self.out)
        except BaseException:
            shutil.rmtree(self.tmp, ignore_errors=True)
            raise
        finally:
            self._lock.__exit__(None, None, None)
        return Written(frozenset(self._changed), self._unchanged)

    def abandon(self) -> None:
        """Remove the folder (the build will not publish) and release the lock."""
        try:
            with contextlib.suppress(BaseException):
                self._stop()
            shutil.rmtree(self.tmp, ignore_errors=True)
        finally:
            self._lock.__exit__(None, None, None)


def update_site(root: Path, out: Path, files: dict[str, bytes], kept: frozenset[str],
                previous: dict[str, tuple[int, int, int]],
                also_keep: tuple[str, ...] = ()) -> Written:
    """Bring an output folder that is exactly as the last build left it (`previous`, its
    manifest) up to date in place: write the files whose bytes changed (each atomically,
    by renaming a temporary file over it), leave `kept` files alone, and remove files the
    site no longer has (except under the `also_keep` folders). Returns what was done and
    the folder's new manifest. The caller forgets its record of the output first, so a
    build interrupted here is followed by a full, verified write."""
    check_out_dir(root, out)
    rels = {safe_rel(k).as_posix(): v for k, v in files.items()}
    with build_lock(out):
        changed: set[str] = set()
        for rel, data in sorted(rels.items()):
            target = out / rel
            if rel in previous and _same(target, data):
                continue
            target.parent.mkdir(parents=True, exist_ok=True)
            fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=".tmp-")
            try:
                with os.fdopen(fd, "wb") as fh:
                    fh.write(data)
                os.chmod(tmp, 0o644)
                os.replace(tmp, target)
            except BaseException:
                with contextlib.suppress(OSError):
                    os.unlink(tmp)
                raise
            changed.add(rel)
        wanted = set(rels) | kept | {MARKER}
        for rel in sorted(set(previous) - wanted):
            if rel.endswith("/") or not rel or rel.startswith(also_keep):
                continue
            with contextlib.suppress(FileNotFoundError):
                (out / rel).unlink()
            changed.add(rel)
            _prune(out, (out / rel).parent)
    return Written(frozenset(changed), len(rels) + len(kept) - len(changed & set(rels)))


def _prune(out: Path, folder: Path) -> None:
    """Remove folders left empty, up to (not including) the output folder."""
    while folder != out and folder.is_relative_to(out):
        try:
            folder.rmdir()
        except OSError:
            return
        folder = folder.parent


def _same(old: Path | str, data: bytes) -> bool:
    try:
        st = os.lstat(old)
        if not stat.S_ISREG(st.st_mode) or st.st_size != len(data):
            return False
        with open(old, "rb") as fh:
            return fh.read() == data
    except OSError:
        return False


def _link(old: Path | str, new: Path | str) -> bool:
    try:
        os.link(old, new)
        return True
    except OSError:
        return False  # another file system, or links not allowed: write it instead


def link_tree(src: Path, dest: Path) -> bool:
    """Hard-link (or copy) a folder of the previous output into the new one."""
    try:
        shutil.copytree(src, dest, copy_function=_link_or_copy)
        return True
    except OSError:
        return False


def _link_or_copy(src: str, dest: str) -> None:
    try:
        os.link(src, dest)
    except OSError:
        shutil.copy2(src, dest)


def _swap(new: Path, out: Path) -> None:
    old = None
    if out.exists():
        old = Path(tempfile.mkdtemp(prefix=f".{out.name}.old-", dir=out.parent))
        os.rename(out, old / "site")
    os.rename(new, out)
    if old is not None:
        shutil.rmtree(old, ignore_errors=True)
