"""`healthsite init DIR`: a new site that builds at once.

Owns the copy of the starter site shipped in the package (`healthsite/scaffold/`: a commented
site.yaml, two sample articles with sources and care cards, a glossary, the about, editorial
policy, disclaimer and contact pages, the GitHub workflow, a .gitignore and an editor's README)
into an empty folder, with the site's title, today's date (the articles' `reviewed:`) and the
engine's version (the workflow's pin) filled in. The look comes from the packaged theme
(`healthsite/theme/`), so the new site has no templates of its own until it overrides one."""

from __future__ import annotations

import datetime as dt
import json
import re
from dataclasses import dataclass
from importlib import metadata, resources
from importlib.abc import Traversable
from pathlib import Path

# Names that packaging tools drop or hide (dot files), stored without their dot.
_RENAMED = {"gitignore": ".gitignore", "github": ".github"}
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


class InitError(Exception):
    """The folder cannot take a new site (the message says why and what to do)."""


@dataclass(frozen=True)
class Starter:
    """What is filled into the starter files."""

    title: str
    today: dt.date
    version: str

    def fill(self, text: str) -> str:
        """The starter file's text with its markers replaced (YAML values quoted as YAML)."""
        values = {
            "__TITLE_YAML__": json.dumps(self.title),
            "__PUBLISHER_YAML__": json.dumps(f"{self.title} editorial team"),
            "__TITLE__": self.title,
            "__TODAY__": self.today.isoformat(),
            "__VERSION__": self.version,
        }
        for marker, value in values.items():
            text = text.replace(marker, value)
        return text


def default_title(target: Path) -> str:
    """A title from the folder's name: `rls-guide` gives "Rls guide"."""
    words = re.sub(r"[-_.]+", " ", target.resolve().name).strip()
    return words[:1].upper() + words[1:] if words else "Health guide"


def engine_version() -> str:
    try:
        return metadata.version("healthsite")
    except metadata.PackageNotFoundError:  # run from a checkout that was never installed
        return "0.1.0"


def init_site(target: Path, title: str | None = None, today: dt.date | None = None) -> list[Path]:
    """Write the starter site into `target` (created if missing; it must be empty) and return
    the files written, relative to it."""
    _check_target(target)
    if title is not None and (not title.strip() or _CONTROL.search(title)):
        raise InitError("the title must be one line of text")
    starter = Starter(title or default_title(target), today or dt.date.today(),
                      engine_version())
    written: list[Path] = []
    for rel, source in _files(resources.files("healthsite") / "scaffold", Path()):
        dest = target / rel
        dest.parent.mkdir(parents=True, exist_ok=True)
        dest.write_text(starter.fill(source.read_text(encoding="utf-8")), encoding="utf-8")
        written.append(rel)
    return written


def _check_target(target: Path) -> None:
    if target.is_symlink() or (target.exists() and not target.is_dir()):
        raise InitError(f"{target} is not a folder; give a new folder's name")
    if target.is_dir() and any(target.iterdir()):
        raise InitError(f"{target} is not empty; init writes a new site into an empty or new "
                        f"folder (to start from the sample in an existing project, init a new "
                        f"folder and copy what you need)")


def _files(folder: Traversable, rel: Path) -> list[tuple[Path, Traversable]]:
    """Every starter file under `folder`, with the path it takes in the new site."""
    found: list[tuple[Path, Traversable]] = []
    for entry in sorted(folder.iterdir(), key=lambda e: e.name):
        if entry.name.startswith((".", "__")):  # editors' and Python's own files
            continue
        name = rel / _RENAMED.get(entry.name, entry.name)
        found += _files(entry, name) if entry.is_dir() else [(name, entry)]
    return found
