"""The installed versions of the engine's libraries (for the engine's fingerprint, and for
the fast paths' gates), read as importlib.metadata reads them but without its import and
look-ups (about 30-40 ms of every build's start)."""

from __future__ import annotations

import functools
import os
import re
import sys
from collections.abc import Iterator


def version(library: str) -> str | None:
    """The installed version of a distribution (of Python itself for "python"), or None."""
    if library == "python":
        return ".".join(map(str, sys.version_info[:3]))
    return installed().get(_normal(library)) or _metadata_version(library)


@functools.cache
def installed() -> dict[str, str]:
    """The version of each distribution from the names of the `name-version.dist-info`
    folders on sys.path, the first found winning, as importlib.metadata finds them. Read
    once per process (`installed.cache_clear()` reads it again)."""
    found: dict[str, str] = {}
    for folder in sys.path:
        for project, release in _dist_infos(folder):
            found.setdefault(_normal(project), release)
    return found


def _dist_infos(folder: str) -> Iterator[tuple[str, str]]:
    """(project, version) of each `name-version.dist-info` folder in `folder` (none when it
    cannot be listed)."""
    try:
        names = os.listdir(folder or ".")
    except OSError:
        return
    for name in names:
        stem = name[: -len(".dist-info")]
        if name.endswith(".dist-info") and stem.count("-") == 1:
            project, release = stem.split("-")
            yield project, release


def _normal(name: str) -> str:
    return re.sub(r"[-_.]+", "_", name).lower()  # as PEP 503 and wheel file names compare


def _metadata_version(library: str) -> str | None:
    """A distribution's version as importlib.metadata finds it (other kinds of install)."""
    from importlib.metadata import PackageNotFoundError
    from importlib.metadata import version as found

    try:
        return found(library)
    except PackageNotFoundError:
        return None
