"""Stage 7 (publish): write the site atomically, only ever inside a directory the build owns.

Every write goes into a folder that is not the published one and is then swapped in with
one atomic rename (Linux's RENAME_EXCHANGE), so a build stopped at any moment (killed,
out of disk) leaves the published folder entirely as it was or entirely new. A full build
fills a new folder (`Staging`); an update (`update_site`) brings the previous generation
of the output, kept next to it as `.<out>.spare`, up to date and swaps it in. The spare's
unchanged files are hard links to the published ones, so an update costs what changed
plus one pass over the spare's folders, not a copy of the site. Files are always 0644 and
folders 0755, whatever the umask.
"""

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
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Any

MARKER = ".healthsite-output"
# (an output whose marker says otherwise was made by an engine that left modes to the umask)
MARKER_TEXT = b"This directory is written by healthsite; it is replaced on every build " \
    b"(files 0644, folders 0755).\n"
# folders of the project the site may be neither written into nor written over
OWNED_DIRS = ("content", "templates", "static", "healthsite", "tests", ".git", ".cache")
FILE_MODE, FOLDER_MODE = 0o644, 0o755


class OutputError(Exception):
    """The output directory is unsafe, busy or cannot be written; the message says why."""


def check_out_dir(root: Path, out: Path) -> None:
    """Refuse output directories the build does not own or that would destroy sources."""
    if out.is_symlink():
        raise OutputError(f"refusing to write the site to {out}: it is a symbolic link (to "
                          f"{os.readlink(out)}); give the folder it points to as --out, or "
                          "remove the link")
    root, out = root.resolve(), out.resolve()
    why = _overlap(root, out) or _hidden(root, out) or ("it is a file" if out.is_file() else "")
    if why:
        raise OutputError(f"refusing to write the site to {out}: {why}")
    if _foreign(out):
        raise OutputError(f"refusing to replace {out}: it is not empty and was not made by "
                          "healthsite (choose another --out, or empty it yourself)")


def _overlap(root: Path, out: Path) -> str:
    """Why writing to `out` would destroy the project or one of its own folders, or ""."""
    if root.is_relative_to(out):  # (or is `out`)
        return "it holds the project itself"
    for name in OWNED_DIRS:
        d = (root / name).resolve()
        if out.is_relative_to(d) or d.is_relative_to(out):
            return f"it would overwrite {name}/"
    return ""


def _foreign(out: Path) -> bool:
    """Whether `out` is a folder with something in it that healthsite did not make."""
    return out.is_dir() and any(out.iterdir()) and not (out / MARKER).exists()


def _hidden(root: Path, out: Path) -> str:
    """Why `out`, inside the project, is in a hidden folder, or ""."""
    if not out.is_relative_to(root):
        return ""
    hidden = [p for p in out.relative_to(root).parts if p.startswith(".")]
    return f"{hidden[0]} is a hidden folder (caches and tools keep private files in those)" \
        if hidden else ""


def cannot(out: Path, e: OSError) -> str:
    """The one-line message for an output folder that could not be written."""
    what = f" ({e.filename})" if e.filename and str(e.filename) != str(out) else ""
    return f"cannot write the site to {out}: {e.strerror or e}{what}; the previous site " \
        "was left as it was"


def safe_rel(path: str) -> PurePosixPath:
    """An output path that cannot leave the output directory."""
    p = PurePosixPath(path)
    if p.is_absolute() or ".." in p.parts or not p.parts or "\0" in path:
        raise OutputError(f"refusing to write '{path}': it would leave the output directory")
    return p


def spare_of(out: Path) -> Path:
    """Where the previous generation of an output folder is kept (see `update_site`)."""
    return out.parent / f".{out.name}.spare"


@contextmanager
def build_lock(out: Path) -> Iterator[None]:
    """Only one build may write a given output directory at a time. Leftovers of builds
    that were stopped are removed once the lock is held (see `_clean`)."""
    lock_path = out.parent / f".{out.name}.lock"
    try:
        out.parent.mkdir(parents=True, exist_ok=True)
        fh = open(lock_path, "w")
    except OSError as e:
        raise OutputError(cannot(out, e)) from None
    with fh:
        try:
            fcntl.flock(fh, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError as e:
            if e.errno in (errno.EAGAIN, errno.EACCES):
                raise OutputError(f"another build is writing {out}; try again when it ends") \
                    from None
            raise OutputError(cannot(out, e)) from None
        try:
            _clean(out)
            yield
        finally:
            fcntl.flock(fh, fcntl.LOCK_UN)


def _clean(out: Path) -> None:
    """Remove what builds that were stopped left next to the output (new folders never
    swapped in, old ones not yet removed): with the lock held, no build is using them. An
    output left missing between two renames (where atomic exchange is not available) is
    put back first."""
    prefix = f".{out.name}."
    try:
        names = os.listdir(out.parent)
    except OSError:
        return
    stale = sorted(out.parent / n for n in names if n.startswith((prefix + "new-",
                                                                    prefix + "old-")))
    if not os.path.lexists(out):
        _put_back(out, stale)
    for folder in stale:
        shutil.rmtree(folder, ignore_errors=True)


def _put_back(out: Path, stale: list[Path]) -> None:
    """Put back the output a build stopped between two renames left in `stale`."""
    for folder in stale:
        if (folder / "site" / MARKER).is_file():
            with contextlib.suppress(OSError):
                os.rename(folder / "site", out)
                break


# A last step on a new output folder before it is swapped in (e.g. the search index): given
# the folder, the paths written or removed and every file the site has; whether it worked.
Finish = Callable[[Path, frozenset[str], frozenset[str]], bool]


@dataclass(frozen=True)
class Written:
    """What a write did: files whose bytes changed (or were removed), and files carried
    over unchanged."""

    changed: frozenset[str]
    unchanged: int


def write_site(root: Path, out: Path, files: dict[str, bytes],
               finish: Finish | None = None,
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
            self.tmp.chmod(FOLDER_MODE)
        except OSError as e:
            self._lock.__exit__(None, None, None)
            raise OutputError(cannot(out, e)) from None
        except BaseException:
            self._lock.__exit__(None, None, None)
            raise
        self._new, self._old = str(self.tmp), str(out)
        self._folders = {self._new}
        self._modes = _Modes()
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
            self._folder(folder)
            self._modes.mkdir(folder)
            self._folders.add(folder)

    def _place(self, rel: str, data: bytes | None, known_same: frozenset[str]) -> None:
        self._placed.add(rel)
        if data is None:  # unchanged, left out of the files: linked (or copied) over
            target = os.path.join(self._new, rel)
            self._folder(target)
            _carry(os.path.join(self._old, rel), target)
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
        self._modes.create(target, data)
        return True

    def publish(self, files: dict[str, bytes],
                kept: frozenset[str] = frozenset(),
                finish: Finish | None = None,
                known_same: frozenset[str] = frozenset()) -> Written:
        """Write whatever `put` was not given of `files` and `kept`, run `finish`, and swap
        the folder in; on any failure the folder is removed and the output left alone."""
        try:
            self._stop()
            self._place_rest(files, kept, known_same)
            if finish is not None:
                self._finish(finish)
            self._modes.create(os.path.join(self._new, MARKER), MARKER_TEXT)
            _swap(self.tmp, self.out)
        except OSError as e:
            shutil.rmtree(self.tmp, ignore_errors=True)
            raise OutputError(cannot(self.out, e)) from None
        except BaseException:
            shutil.rmtree(self.tmp, ignore_errors=True)
            raise
        finally:
            self._lock.__exit__(None, None, None)
        return Written(frozenset(self._changed), self._unchanged)

    def _place_rest(self, files: dict[str, bytes], kept: frozenset[str],
                    known_same: frozenset[str]) -> None:
        """Write (or link) the files of `files` and `kept` not yet placed, in path order."""
        rels: dict[str, bytes | None] = {safe_rel(k).as_posix(): v for k, v in files.items()}
        rels.update((safe_rel(k).as_posix(), None) for k in kept)
        for rel, data in sorted(rels.items()):
            if rel not in self._placed:
                self._place(rel, data, known_same)

    def _finish(self, finish: Finish) -> None:
        """Run the final step on the folder and give what it added the output's modes."""
        if not finish(self.tmp, frozenset(self._changed), frozenset(self._placed)):
            raise OutputError("the site was not published because a final step failed")
        _normalise(self._new, {rel.split("/", 1)[0] for rel in self._placed})

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
                also_keep: tuple[str, ...] = (),
                finish: Finish | None = None) -> Written:
    """Bring an output folder that is exactly as the last build left it (`previous`, its
    manifest) up to date: the files whose bytes changed are written, `kept` files (and any
    under the `also_keep` folders) stay, files the site no longer has go. Nothing is
    written into the published folder: its previous generation, kept next to it
    (`spare_of`), is made to hold exactly the new site (its unchanged files hard links to
    the published ones) and the two are swapped with one atomic rename; the published
    folder then becomes the spare. Without a spare (the first update), one is made of hard
    links. `finish` (e.g. the search index) runs on the folder before the swap, with the
    paths written or removed; nothing is swapped if it fails. Returns what changed
    (written or removed; not what `finish` changed); nothing is done when nothing did.
    The caller forgets its record of the output first, so a build interrupted here is
    followed by a full, verified write (and the spare, whatever state it was left in, is
    made right again by the next update)."""
    check_out_dir(root, out)
    rels = {safe_rel(k).as_posix(): v for k, v in files.items()}
    with build_lock(out):
        try:
            want, written = _changes(str(out), rels, previous)
            _keep(want, kept, previous, also_keep)
            removed = _removed(previous, want)
            if written or removed:
                _renew(out, want, previous, _finishing(
                    finish, frozenset(written | removed), frozenset(want), also_keep))
        except OSError as e:
            raise OutputError(cannot(out, e)) from None
    return Written(frozenset(written | removed), len(rels) + len(kept) - len(written))


def _changes(live: str, rels: dict[str, bytes],
             previous: dict[str, tuple[int, int, int]]) -> tuple[dict[str, bytes | None], set[str]]:
    """What an update wants of each of the site's files (None: the published file, linked;
    else its new bytes), and the files to write."""
    want: dict[str, bytes | None] = {}
    written: set[str] = set()
    for rel, data in rels.items():
        if rel in previous and _same(os.path.join(live, rel), data):
            want[rel] = None  # the published file, linked
        else:
            want[rel] = data
            written.add(rel)
    return want, written


def _keep(want: dict[str, bytes | None], kept: frozenset[str],
          previous: dict[str, tuple[int, int, int]], also_keep: tuple[str, ...]) -> None:
    """Add to `want` the published files that stay as they are (`kept`, those under the
    `also_keep` folders) and the output's marker."""
    for rel in kept:
        want.setdefault(rel, None)
    if also_keep:
        for rel in previous:
            if rel.startswith(also_keep) and not rel.endswith("/"):
                want.setdefault(rel, None)
    want[MARKER] = None if MARKER in previous else MARKER_TEXT


def _removed(previous: dict[str, tuple[int, int, int]],
             want: dict[str, bytes | None]) -> set[str]:
    """The published files the site no longer has."""
    return {rel for rel in previous if rel and not rel.endswith("/") and rel not in want}


def _finishing(finish: Finish | None, changed: frozenset[str], files: frozenset[str],
               folders: tuple[str, ...]) -> Callable[[str], None]:
    """`finish` as the last step of filling a folder: an OutputError when it fails; what it
    wrote in `folders` (those it keeps up to date) given the output's modes."""
    def step(stage: str) -> None:
        if finish is None:
            return
        if not finish(Path(stage), changed, files):
            raise OutputError("the site was not published because a final step failed")
        for folder in folders:
            if os.path.isdir(os.path.join(stage, folder)):
                _normalise_tree(os.path.join(stage, folder))
    return step


def _renew(out: Path, want: dict[str, bytes | None],
           previous: dict[str, tuple[int, int, int]], finish: Callable[[str], None]) -> None:
    """Make the spare hold `want` (bytes to write, or None for the published file), run
    `finish` on it and swap it in; the published folder becomes the spare."""
    spare = spare_of(out)
    modes = _Modes()
    stage, fresh = _stage(out, spare)
    try:
        _fill(stage, str(out), want, previous, modes)
        finish(stage)
        _exchange(stage, str(out))
    except BaseException:
        if fresh:  # (a spare left half made is made right by the next update)
            shutil.rmtree(stage, ignore_errors=True)
        raise
    if fresh:
        os.rename(stage, spare)


def _stage(out: Path, spare: Path) -> tuple[str, bool]:
    """The folder an update is made in: the spare, or a new folder when there is none
    (anything else by its name is removed); and whether it is new."""
    if spare.is_dir() and not spare.is_symlink():
        return str(spare), False
    if os.path.lexists(spare):
        _remove(spare)
    stage = tempfile.mkdtemp(prefix=f".{out.name}.new-", dir=out.parent)
    os.chmod(stage, FOLDER_MODE)
    return stage, True


def _fill(stage: str, live: str, want: dict[str, bytes | None],
          previous: dict[str, tuple[int, int, int]], modes: _Modes) -> None:
    """Make the folder `stage` hold exactly `want`, whatever it held. (Plain strings and
    one pass each: at 10,000 pages this is what an update costs beyond its changes.)"""
    folders = folders_of(want)
    stage_ = stage + "/"
    # a spare from an engine that left modes to the umask: its folders are put right too
    # (its files stay only if they are the published ones, whose modes are right)
    foreign = not _holds(stage_ + MARKER, MARKER_TEXT)
    if foreign:
        _chmod(stage, FOLDER_MODE)
    have, made = _prune(stage_, want, folders, foreign)
    for folder in sorted(folders - made):
        modes.mkdir(stage_ + folder)
    live_ = live + "/"
    for rel, data in want.items():  # then put in what is missing or different
        if data is not None:
            modes.create(stage_ + rel, data)  # (a file there is unlinked first, never written)
            continue
        found = have.get(rel)
        if found == previous[rel][2]:
            continue  # (already a link to the published file)
        if found is not None:
            os.unlink(stage_ + rel)
        _carry(live_ + rel, stage_ + rel)


def _prune(stage_: str, want: dict[str, bytes | None], folders: set[str],
           foreign: bool) -> tuple[dict[str, int], set[str]]:
    """Remove from the folder `stage_` what the new site does not have; the files that may
    stay (their inodes) and the folders kept."""
    have: dict[str, int] = {}
    made = {""}
    stack = [""]
    while stack:
        kept = _sweep(stage_, stack.pop(), want, folders, foreign, have)
        made.update(kept)
        stack.extend(kept)
    return have, made


def _sweep(stage_: str, prefix: str, want: dict[str, bytes | None], folders: set[str],
           foreign: bool, have: dict[str, int]) -> list[str]:
    """`_prune` one folder, `prefix`: note in `have` the files that may stay (by inode),
    remove the others; the sub-folders to keep (and look into)."""
    kept: list[str] = []
    with os.scandir(stage_ + prefix) as listing:
        for entry in listing:
            rel = prefix + entry.name
            if not entry.is_dir(follow_symlinks=False):
                if rel in want and entry.is_file(follow_symlinks=False):
                    have[rel] = entry.inode()
                else:
                    os.unlink(entry.path)
            elif rel + "/" in folders:
                kept.append(rel + "/")
                if foreign:
                    _chmod(entry.path, FOLDER_MODE)
            else:
                shutil.rmtree(entry.path)
    return kept


def folders_of(paths: Iterable[str]) -> set[str]:
    """Every folder (as "a/b/", and "" for the top) that holds one of `paths`."""
    found = {""}
    for rel in paths:
        folder = rel[: rel.rfind("/") + 1]
        while folder not in found:
            found.add(folder)
            folder = folder[: folder.rfind("/", 0, -1) + 1]
    return found


class _Modes:
    """Files made 0644 and folders 0755 whatever the process's umask (with a system call
    more only when the umask would take away some of those bits)."""

    def __init__(self) -> None:
        mask = _umask()
        self.fix_files, self.fix_folders = bool(mask & FILE_MODE), bool(mask & FOLDER_MODE)

    def mkdir(self, folder: str) -> None:
        try:
            os.mkdir(folder, FOLDER_MODE)
        except FileExistsError:
            if not os.path.isdir(folder):
                raise
            return
        if self.fix_folders:
            os.chmod(folder, FOLDER_MODE)

    def create(self, target: str, data: bytes) -> None:
        """Write a new file. One already there (a hard link to a published file, perhaps)
        is unlinked first: the bytes of a file that may be published are never changed."""
        flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC
        try:
            fd = os.open(target, flags, FILE_MODE)
        except FileExistsError:
            os.unlink(target)
            fd = os.open(target, flags, FILE_MODE)
        with open(fd, "wb") as fh:
            if self.fix_files:
                os.fchmod(fd, FILE_MODE)
            fh.write(data)


def _umask() -> int:
    """The process's umask, read without changing it where Linux allows."""
    try:
        with open("/proc/self/status") as fh:
            for line in fh:
                if line.startswith("Umask:"):
                    return int(line.split()[1], 8)
    except (OSError, ValueError):
        pass
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def _normalise(folder: str, ours: set[str]) -> None:
    """Give files 0644 and folders 0755 in what a final step (the search index) added to a
    new output folder: the top-level entries not in `ours`."""
    for name in os.listdir(folder):
        if name in ours:
            continue
        path = os.path.join(folder, name)
        if os.path.isdir(path) and not os.path.islink(path):
            _normalise_tree(path)
        else:
            _chmod(path, FILE_MODE)


def _normalise_tree(path: str) -> None:
    """Give the files in a folder 0644 and its folders (itself too) 0755."""
    for base, dirs, names in os.walk(path):
        _chmod(base, FOLDER_MODE)
        for n in dirs:
            _chmod(os.path.join(base, n), FOLDER_MODE)
        for n in names:
            _chmod(os.path.join(base, n), FILE_MODE)


def _chmod(path: str, mode: int) -> None:
    st = os.lstat(path)
    if not stat.S_ISLNK(st.st_mode) and stat.S_IMODE(st.st_mode) != mode:
        os.chmod(path, mode)


def _holds(path: str, data: bytes) -> bool:
    try:
        with open(path, "rb") as fh:
            return fh.read(len(data) + 1) == data
    except OSError:
        return False


def _same(old: Path | str, data: bytes) -> bool:
    try:
        st = os.lstat(old)
        if not stat.S_ISREG(st.st_mode) or st.st_size != len(data) \
                or stat.S_IMODE(st.st_mode) != FILE_MODE:
            return False
        with open(old, "rb") as fh:
            return fh.read() == data
    except OSError:
        return False


def _carry(before: str, target: str) -> None:
    """Hard-link a file of the previous output into a new folder, or copy it (0644) where
    it cannot be linked."""
    if not _link(before, target):
        shutil.copyfile(before, target)
        os.chmod(target, FILE_MODE)


def _link(old: Path | str, new: Path | str) -> bool:
    """Hard-link a file of the previous output into the new one; False (write or copy it
    instead) when it cannot be, or when its permissions are not the output's (someone
    changed them: the new file must not share them)."""
    try:
        if stat.S_IMODE(os.lstat(old).st_mode) != FILE_MODE:
            return False
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


def link_file(src: Path, dest: Path) -> bool:
    """Hard-link (or copy) one file of the previous output into the new one."""
    try:
        _link_or_copy(str(src), str(dest))
        return True
    except OSError:
        return False


def _link_or_copy(src: str, dest: str) -> None:
    try:
        os.link(src, dest)
    except OSError:
        shutil.copy2(src, dest)


def _swap(new: Path, out: Path) -> None:
    """Put a complete new output folder in place of the published one in one atomic step;
    the published one becomes the spare (an older spare is removed)."""
    if not os.path.lexists(out):
        os.rename(new, out)
        return
    _exchange(str(new), str(out))  # `new` now holds the previous output
    spare = spare_of(out)
    if os.path.lexists(spare):
        old = Path(tempfile.mkdtemp(prefix=f".{out.name}.old-", dir=out.parent))
        os.rename(spare, old / "spare")
        os.rename(new, spare)
        shutil.rmtree(old, ignore_errors=True)
    else:
        os.rename(new, spare)


def _remove(path: Path) -> None:
    if path.is_dir() and not path.is_symlink():
        shutil.rmtree(path)
    else:
        path.unlink()


_RENAMEAT2: list[Any] = []


def _exchange(a: str, b: str) -> None:
    """Swap two folders' names in one atomic step (renameat2 with RENAME_EXCHANGE); where
    the system cannot, with three renames (a build stopped between them leaves the output
    missing and its previous version in `.<out>.old-*/site`, put back by the next build's
    `_clean`)."""
    call = _renameat2()
    if call is not None and _exchanged(call, a, b):
        return
    parent = os.path.dirname(b)
    name = os.path.basename(b)
    hold = tempfile.mkdtemp(prefix=f".{name}.old-", dir=parent)
    os.rename(b, os.path.join(hold, "site"))
    os.rename(a, b)
    os.rename(os.path.join(hold, "site"), a)
    os.rmdir(hold)


def _renameat2() -> Any:
    """libc's renameat2, or None where there is none (looked up once)."""
    if not _RENAMEAT2:
        try:
            import ctypes

            libc = ctypes.CDLL(None, use_errno=True)
            _RENAMEAT2.append(libc.renameat2)
        except (OSError, AttributeError):
            _RENAMEAT2.append(None)
    return _RENAMEAT2[0]


def _exchanged(call: Any, a: str, b: str) -> bool:
    """Swap two folders' names with renameat2 (`call`); False where the file system
    cannot."""
    import ctypes

    at_fdcwd, rename_exchange = -100, 2
    if call(at_fdcwd, os.fsencode(a), at_fdcwd, os.fsencode(b), rename_exchange) == 0:
        return True
    code = ctypes.get_errno()
    if code not in (errno.EINVAL, errno.ENOSYS, errno.EOPNOTSUPP):
        raise OSError(code, os.strerror(code), b)
    return False
