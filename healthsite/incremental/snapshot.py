"""What a written build leaves for the next one, so that a rebuild with nothing changed is a
no-op (like make: outputs newer than every input need no work).

The record (`.cache/build.pickle`) holds a fingerprint of every input of the build: the
SHA-256 of site.yaml and of every file under content/, templates/ and static/ (a file is read
again unless its size, times and inode are as at the last scan: see `scan_inputs`), the
engine's own source and its libraries' versions, the build's date, options and output folder.
It also holds the problems that build reported and the size, modification time and inode of
every file and folder it wrote. A later build whose fingerprint is the same, and whose output
folder still holds exactly those files untouched, reports the same problems and writes
nothing. Anything else (a changed byte, a file added to or removed from the output, a damaged
or foreign record) means a normal build. The record is checksummed and written atomically.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import stat
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..errors import Problem
from ..files import outside, read_regular
from ..load.content import PENDING
from ..parallel import Background
from ..publish.output import FILE_MODE, FOLDER_MODE, folders_of
from ..report import Audit
from . import keys
from .cache import pickled, read_pickle, write_pickle, write_pickled

RECORD = ".cache/build.pickle"
INPUT_DIRS = ("content", "templates", "static")

Manifest = dict[str, tuple[int, int, int]]  # output path: (size, mtime_ns, inode)


@dataclass
class Record:
    """One successful written build, as the next build needs to know it."""

    fingerprint: str
    problems: list[Problem]
    summary: dict[str, float]
    manifest: Manifest = field(default_factory=dict)
    inputs: Known = field(default_factory=dict)  # what the next scan may take on trust
    # pages written since the page memo was saved (by delta.rebuild, which leaves it be):
    # the next build that uses the memo renders them again
    touched: frozenset[str] = frozenset()
    # what rebuilding only changed articles (delta) needs to know of the build as a whole
    options: str = ""  # its output folder, drafts option and day (see pipeline._prior)
    digests: dict[str, str] = field(default_factory=dict)  # every input file's digest
    slugs: dict[str, str] = field(default_factory=dict)  # each article that loaded, by file
    drafts: frozenset[str] = frozenset()  # the slugs not published
    unloadable: frozenset[str] = frozenset()
    grades: dict[str, float] = field(default_factory=dict)  # in the summary's order
    site: dict[str, Any] = field(default_factory=dict)  # the site-wide view of its pages
    facts: tuple[str, ...] = ()  # the files of the articles' facts (delta.save); () if none
    audit: str = ""  # the name of what the report says of the site (`save_audit`), if kept


Known = dict[str, tuple[tuple[int, int, int, int], str]]  # path: (stat, digest)
RACY_NS = 2_000_000_000  # files changed this close to a scan are hashed again next time


@dataclass
class Scan:
    """A site's inputs: the digest of every file (and folder and link) by path, and what
    the next scan may take on trust. Files whose digest is PENDING are in `pending` (their
    stat, and whether it may be trusted next time) until `settle` is told it."""

    digests: dict[str, str]
    known: Known
    pending: dict[str, tuple[tuple[int, int, int, int], bool]] = field(default_factory=dict)

    def settle(self, rel: str, digest: str) -> None:
        """The digest of a file left pending, found by whoever read it."""
        sig, trusted = self.pending.pop(rel)
        self.digests[rel] = digest
        if trusted:
            self.known[rel] = (sig, digest)

    def settle_rest(self, root: Path) -> None:
        """Read and hash the files still pending (one no reader could read: as the scan
        itself would record it)."""
        for rel in list(self.pending):
            try:
                value = hashlib.sha256(read_regular(os.path.join(root, rel))).hexdigest()
            except OSError as e:
                self.pending.pop(rel)
                self.digests[rel] = f"unreadable:{e.errno}"
                continue
            self.settle(rel, value)


def scan_inputs(root: Path, known: Known | None = None,
                defer: Callable[[str], bool] | None = None) -> Scan:
    """Every input file of a site by path with the SHA-256 of its bytes. Folders and
    symbolic links are recorded too, so adding an empty folder named like an article, or
    pointing a link elsewhere, is a change.

    A file whose size, modification and change times and inode are those `known` from the
    last scan keeps its digest without being read (as git's index does); a file changed
    within two seconds of a scan is never taken on trust (a "racy" time stamp).

    A plain file for which `defer` says so, and that is not taken on trust, is not read:
    its digest is PENDING, to be `settle`d by the reader that needs its bytes anyway (on a
    first build, the workers that parse the articles)."""
    scanner = _Scanner(known or {}, time.time_ns(), defer)
    found = {"site.yaml": scanner.digest("site.yaml", os.path.join(root, "site.yaml"))
             if (root / "site.yaml").exists() else "missing"}
    for top in INPUT_DIRS:
        scanner.folder(root, top, found)
    return Scan(found, scanner.trusted, scanner.pending)


class _Scanner:
    """One scan of the inputs: what it may take on trust (`known`), and what it found that
    the next scan may take on trust (`trusted`) or that it left `pending`."""

    def __init__(self, known: Known, start: int, defer: Callable[[str], bool] | None) -> None:
        self.known, self.start, self.defer = known, start, defer
        self.trusted: Known = {}
        self.pending: dict[str, tuple[tuple[int, int, int, int], bool]] = {}

    def folder(self, root: Path, top: str, found: dict[str, str]) -> None:
        """Every folder, link and file under one input folder, into `found`."""
        real = os.path.realpath(os.path.join(root, top))
        for folder, files in _walk(os.path.join(root, top)):
            rel_folder = Path(folder).relative_to(root).as_posix()
            found[rel_folder + "/"] = "link:" + os.readlink(folder) if os.path.islink(folder) \
                else "dir"
            for entry in files:
                found[f"{rel_folder}/{entry.name}"] = self.entry(entry, rel_folder, real)

    def entry(self, entry: os.DirEntry[str], rel_folder: str, real: str) -> str:
        """A folder listing's entry other than a folder: a link (to where), or a file."""
        rel = f"{rel_folder}/{entry.name}"
        # the entry knows from the folder listing whether it is a link (no lstat)
        if not entry.is_symlink():
            return self.digest(rel, entry.path, self.defer is not None and self.defer(rel))
        link = "link:" + os.readlink(entry.path) + ":"
        # a link out of its folder is refused by the build: its target is not read
        return link + ("outside" if outside(entry.path, real) else self.digest(rel, entry.path))

    def digest(self, rel: str, path: str, later: bool = False) -> str:
        """What is at `path`: a folder, a special file (never opened), or a plain file's
        digest (see `_file`); "unreadable:<errno>" when it cannot be known."""
        try:
            st = os.stat(path)
        except OSError as e:
            return f"unreadable:{e.errno}"
        if stat.S_ISDIR(st.st_mode):
            return "dir"
        if not stat.S_ISREG(st.st_mode):  # a named pipe or a device: never opened
            return f"special:{stat.S_IFMT(st.st_mode)}"
        return self._file(rel, path, st, later)

    def _file(self, rel: str, path: str, st: os.stat_result, later: bool) -> str:
        """A plain file's digest: as known, when its stat is; else PENDING when `later`;
        else read and hashed. Kept for the next scan unless changed too recently."""
        sig = (st.st_size, st.st_mtime_ns, st.st_ctime_ns, st.st_ino)
        settled = max(st.st_mtime_ns, st.st_ctime_ns) < self.start - RACY_NS
        hit = self.known.get(rel)
        if hit is not None and hit[0] == sig:
            value = hit[1]
        elif later:
            self.pending[rel] = (sig, settled)
            return PENDING
        else:
            try:
                value = hashlib.sha256(read_regular(path)).hexdigest()
            except OSError as e:
                return f"unreadable:{e.errno}"
        if settled:
            self.trusted[rel] = (sig, value)
        return value


def _walk(top: str) -> Iterator[tuple[str, list[os.DirEntry[str]]]]:
    """os.walk(top), top-down, each folder with its files as directory entries (by name).
    Symbolic links to folders are listed with the files, not followed: the build does not
    read through them (content/ and static/ are walked without following them, and a
    template is not read through a link out of templates/)."""
    stack = [top]
    while stack:
        folder = stack.pop()
        try:
            with os.scandir(folder) as listing:
                entries = sorted(listing, key=lambda e: e.name)
        except OSError:
            continue
        yield folder, [e for e in entries if not _is_dir(e) or e.is_symlink()]
        stack.extend(e.path for e in reversed(entries) if _is_dir(e) and not e.is_symlink())


def _is_dir(entry: os.DirEntry[str]) -> bool:
    try:
        return entry.is_dir()
    except OSError:
        return False


def manifest(out: Path) -> Manifest:
    """Every file and folder in an output folder ("path/" for a folder) with its size,
    modification time and inode; a symbolic link or other special file gets (-1, -1, -1),
    so it never matches."""
    found: Manifest = {"": _stat(os.lstat(out))}
    stack = [("", os.fspath(out))]
    while stack:
        prefix, folder = stack.pop()
        with os.scandir(folder) as entries:
            for entry in entries:
                rel = prefix + entry.name
                st = entry.stat(follow_symlinks=False)
                if stat.S_ISDIR(st.st_mode):
                    found[rel + "/"] = _stat(st)
                    stack.append((rel + "/", entry.path))
                else:
                    found[rel] = _stat(st)
    return found


def swapped(out: Path, previous: Manifest, changed: Iterable[str]) -> Manifest:
    """The manifest of an output folder after `output.update_site`: when anything changed,
    its folders are all new (the spare, swapped in) but its files are the previous output's
    (the same inodes) except the `changed` ones (written or removed), so only those and
    the folders are looked at again."""
    changed = set(changed)
    if not changed:
        return dict(previous)  # nothing was swapped in
    found = {rel: st for rel, st in previous.items()
             if rel and rel[-1] != "/" and rel not in changed}
    top = os.fspath(out)
    for rel in changed:
        with contextlib.suppress(FileNotFoundError):
            found[rel] = _stat(os.lstat(f"{top}/{rel}"))
    for folder in folders_of(found):
        found[folder] = _stat(os.lstat(f"{top}/{folder[:-1]}" if folder else top))
    return found


def still(out: Path, recorded: Manifest) -> Manifest | None:
    """The output folder's manifest when it is exactly as recorded, checked without walking
    it: every recorded file and folder has the same size and modification time (to the
    nanosecond), and the same inode, or else a new one: a copy restored with its times (as
    `tar`, `cp -a` and `rsync -a` restore them, and so GitHub's `actions/cache`, whose tar
    keeps nanoseconds) is the same output, and the manifest returned then has its inodes.
    None when anything differs. A file added or removed changes its folder's modification
    time, so that is seen too (as make and rsync do, a file changed in place with its time
    stamp set back is not)."""
    if not recorded:
        return None
    now: Manifest = {}
    try:
        for rel, expected in recorded.items():
            path = os.path.join(out, rel.rstrip("/")) if rel else out
            found = now[rel] = _stat(os.lstat(path))
            if _NEVER in (expected, found) or found[:2] != expected[:2]:
                return None  # (only the inode may differ)
    except OSError:
        return None
    return recorded if now == recorded else now


def as_left(out: Path, recorded: Manifest) -> Manifest | bool:
    """`still` in a form that is quick to send back from a child process: True when the
    output is as recorded, inodes and all (its manifest is the recorded one), False when it
    is not as recorded, else (a restored copy) its manifest."""
    found = still(out, recorded)
    return True if found is recorded else found if found is not None else False


def files(manifest: Manifest) -> frozenset[str]:
    """The files a manifest lists: not its folders, nor the output folder itself."""
    return frozenset(k for k in manifest if k and not k.endswith("/"))


def _stat(st: os.stat_result) -> tuple[int, int, int]:
    """What is compared of an output file or folder. One whose permissions are not the
    output's (files 0644, folders 0755) never matches, so the next build puts them right:
    a chmod changes neither size, time nor inode."""
    mode = stat.S_IMODE(st.st_mode)
    if stat.S_ISREG(st.st_mode) and mode == FILE_MODE:
        return (st.st_size, st.st_mtime_ns, st.st_ino)
    if stat.S_ISDIR(st.st_mode) and mode == FOLDER_MODE:
        return (0, st.st_mtime_ns, st.st_ino)
    return _NEVER


_NEVER = (-1, -1, -1)  # a link, a special file, or permissions not the output's


@dataclass
class Prior:
    """What is known of the last written build, and how the inputs compare with it."""

    record: Record | None = None
    inputs: Scan | None = None
    key: str = ""  # the fingerprint of this build's inputs, engine and options
    # whether the output is as the record left it (see `as_left`)
    output: Background[Manifest | bool] | None = None
    options: str = ""  # what the fingerprint covers besides the inputs (a written build)

    def settle(self, hashed: dict[str, str], root: Path) -> None:
        """Complete the inputs' digests that the scan left to the articles' loader (its
        `hashed`; any it did not read are read here), then the fingerprint."""
        scan = self.inputs
        if scan is None or not scan.pending:
            return
        for rel, digest in hashed.items():
            if rel in scan.pending:
                scan.settle(rel, digest)
        scan.settle_rest(root)
        if self.options:
            self.key = keys.fingerprint(scan.digests, self.options)

    @property
    def intact(self) -> bool:
        """The output is exactly as the record left it."""
        return self.current is not None

    @property
    def current(self) -> Manifest | None:
        """The output folder's manifest when it is as the record left it (with new inodes
        when it was restored as a copy: see `still`), else None."""
        found = self.output.result() if self.output is not None else False
        if found is True:
            return self.record.manifest if self.record is not None else None
        return found or None

    @property
    def unchanged(self) -> bool:
        return self.record is not None and self.record.fingerprint == self.key and self.intact

    def changed(self) -> str:
        """Why the last written build does not stand as it is (when `unchanged` is false)."""
        if self.inputs is None:
            return "no cache (--no-cache)"
        if self.record is None:
            return "no record of an earlier written build (a first build, or only checking)"
        if self.record.fingerprint != self.key:
            return "inputs, engine or options changed since the last written build"
        return "the output folder is not as the last build left it"


AUDIT = ".cache/audit.pickle"


def save_audit(root: Path, audit: Audit) -> str:
    """Keep what a build's report says of the site, for a quicker build that reports; its
    name (a digest of its contents) goes in the record."""
    body = pickled("audit", audit)
    write_pickled(root / AUDIT, body)
    return hashlib.sha256(body).hexdigest()[:16]


def load_audit(root: Path, record: Record | None) -> Audit | None:
    """The audit the record names, or None when there is none, or not that one."""
    found = read_pickle(root / AUDIT, "audit", named=record.audit) \
        if record is not None and record.audit else None
    return found if isinstance(found, Audit) else None


def load(root: Path) -> Record | None:
    """The last build's record, or None when it is missing, damaged or from another engine."""
    record = read_pickle(root / RECORD, "record")
    return record if isinstance(record, Record) else None


def save(root: Path, record: Record) -> None:
    """Write the record atomically (after the output it describes)."""
    write_pickle(root / RECORD, "record", record)


def forget(root: Path) -> None:
    """Remove the record (before a build that changes the output)."""
    try:
        (root / RECORD).unlink()
    except OSError:
        pass
