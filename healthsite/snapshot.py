"""What a written build leaves for the next one, so that a rebuild with nothing changed is a
no-op (like make: outputs newer than every input need no work).

The record (`.cache/build.pickle`) holds a fingerprint of every input of the build: the bytes
of site.yaml and of every file under content/, templates/ and static/ (hashed, never judged
by time stamps), the engine's own source and its libraries' versions, the build's date and
options. It also holds the problems that build reported and the size, modification time and
inode of every file it wrote. A later build whose fingerprint is the same, and whose output
folder still holds exactly those files untouched, reports the same problems and writes
nothing. Anything else (a changed byte, a file added to or removed from the output, a damaged
or foreign record) means a normal build. The record is checksummed, written atomically, and
read only by the build of the same output folder.
"""

from __future__ import annotations

import hashlib
import os
import stat
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

from .cache import engine_fingerprint, read_pickle, write_pickle
from .errors import Problem

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


def scan_inputs(root: Path) -> dict[str, str]:
    """Every input file of a site by path: the SHA-256 of its bytes. Folders and symbolic
    links are recorded too, so adding an empty folder named like an article, or pointing a
    link elsewhere, is a change."""
    found: dict[str, str] = {}
    config = root / "site.yaml"
    found["site.yaml"] = _digest(config) if config.exists() else "missing"
    for top in INPUT_DIRS:
        seen: set[str] = set()
        for folder, dirs, files in os.walk(root / top, followlinks=True):
            real = os.path.realpath(folder)
            if real in seen:  # a link loop: already hashed
                dirs[:] = []
                continue
            seen.add(real)
            dirs.sort()
            rel_folder = Path(folder).relative_to(root).as_posix()
            found[rel_folder + "/"] = "link:" + os.readlink(folder) if os.path.islink(folder) \
                else "dir"
            for name in sorted(files):
                path = os.path.join(folder, name)
                link = "link:" + os.readlink(path) + ":" if os.path.islink(path) else ""
                found[f"{rel_folder}/{name}"] = link + _digest(Path(path))
    return found


def _digest(path: Path) -> str:
    try:
        if path.is_dir():
            return "dir"
        with open(path, "rb") as fh:
            return hashlib.sha256(fh.read()).hexdigest()
    except OSError as e:
        return f"unreadable:{e.errno}"


def fingerprint(inputs: dict[str, str], options: str) -> str:
    """One digest of the inputs, the engine and the options that shape the output."""
    h = hashlib.sha256(f"{engine_fingerprint()}\0{options}\0".encode())
    for path in sorted(inputs):
        h.update(f"{path}\0{inputs[path]}\0".encode())
    return h.hexdigest()


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


def restat(out: Path, files: Iterable[str]) -> Manifest:
    """The manifest of the given files (those that exist) and of every folder holding them;
    equal to `manifest(out)` when they are all the folder holds, without walking it."""
    found: Manifest = {}
    folders = {""}
    for rel in files:
        try:
            found[rel] = _stat(os.lstat(os.path.join(out, rel)))
        except FileNotFoundError:
            continue
        parts = rel.split("/")[:-1]
        folders.update("/".join(parts[:i]) + "/" for i in range(1, len(parts) + 1))
    for folder in folders:
        found[folder] = _stat(os.lstat(os.path.join(out, folder.rstrip("/")) if folder
                                       else out))
    return found


def still(out: Path, recorded: Manifest) -> bool:
    """Whether the output folder is exactly as recorded, checked without walking it: every
    recorded file and folder has the same size, modification time and inode. A file added
    or removed changes its folder's modification time, so that is seen too (as make and
    rsync do, a file changed in place with its time stamp set back is not)."""
    if not recorded:
        return False
    try:
        for rel, expected in recorded.items():
            path = os.path.join(out, rel.rstrip("/")) if rel else out
            if _stat(os.lstat(path)) != expected:
                return False
    except OSError:
        return False
    return True


def _stat(st: os.stat_result) -> tuple[int, int, int]:
    if stat.S_ISREG(st.st_mode):
        return (st.st_size, st.st_mtime_ns, st.st_ino)
    if stat.S_ISDIR(st.st_mode):
        return (0, st.st_mtime_ns, st.st_ino)
    return (-1, -1, -1)


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
