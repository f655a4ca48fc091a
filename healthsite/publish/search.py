"""Search: index the built site with Pagefind (the PyPI package ships its binary).

Runs on the finished output in its temporary directory, before it is swapped in, so a
failed index never publishes a half-searchable site."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

from ..errors import ProblemList
from .output import link_tree
from .vocabulary import write_vocabulary

INDEX_DIR = "pagefind"
EXCLUDED = "sup.cite"  # citation marks, out of the index and its excerpts ("cramps[2]")


def indexer(previous: Path, language: str,
            problems: ProblemList) -> Callable[[Path, frozenset[str]], bool]:
    """The last step of publishing a new output folder (see output.write_site): index it,
    or carry the `previous` output's index over when no page changed."""
    return lambda site_dir, changed: index_or_reuse(site_dir, previous, changed, language,
                                                    problems)


def index_or_reuse(site_dir: Path, previous: Path, changed: frozenset[str], language: str,
                   problems: ProblemList) -> bool:
    """Index the new output, or carry the previous index over when no page changed."""
    old = previous / INDEX_DIR
    if (old / "pagefind.js").is_file() and not any(p.endswith(".html") for p in changed):
        if link_tree(old, site_dir / INDEX_DIR):
            return True
    return index_site(site_dir, language, problems)


def index_site(site_dir: Path, language: str, problems: ProblemList) -> bool:
    """Write the Pagefind index into `site_dir/pagefind`; report and return False on failure.
    With a `language`, every page is indexed as that language; without (""), Pagefind
    makes an index per language from each page's <html lang> (and the search page loads
    its own language's). Each edition's vocabulary goes beside it (see vocabulary.py)."""
    cmd = pagefind_command(site_dir, language, ["--output-subdir", INDEX_DIR])
    try:
        done = subprocess.run(cmd, capture_output=True, text=True, timeout=600)
    except (OSError, subprocess.SubprocessError) as e:
        problems.add("search-index", f"could not run Pagefind: {e}", "site.yaml",
                     hint="pip install 'pagefind[extended]'")
        return False
    if done.returncode != 0 or not (site_dir / INDEX_DIR / "pagefind.js").is_file():
        message = (done.stderr or done.stdout).strip().splitlines()
        problems.add("search-index", "Pagefind failed: " + (message[-1] if message else
                                                            f"exit {done.returncode}"),
                     "site.yaml", hint="pip install 'pagefind[extended]'")
        return False
    finish(site_dir, site_dir / INDEX_DIR)
    return True


def pagefind_command(site: Path, language: str, output: list[str]) -> list[str]:
    """Pagefind indexing the pages in `site` (`output`: where the index goes): every page as
    `language` when there is one, else each in its own <html lang>; citation marks left
    out (the build's and the preview's index alike)."""
    force = ["--force-language", language.split("-")[0].lower()] if language else []
    return [sys.executable, "-m", "pagefind", "--site", str(site), *output, *force,
            "--exclude-selectors", EXCLUDED, "--silent"]


def finish(site: Path, index: Path) -> None:
    """What an index made by Pagefind (`index`, of the pages in `site`) needs besides: its
    languages in order, and each edition's words for "did you mean" (search.js)."""
    _in_order(index / ENTRY)
    write_vocabulary(site, index)


ENTRY = "pagefind-entry.json"


def _in_order(entry: Path) -> None:
    """Pagefind lists a site's languages in its entry file in no set order (a hash map's):
    sort them, so that one site always gives the same bytes. (pagefind.js looks a language
    up by name.)"""
    try:
        data = json.loads(entry.read_bytes())
        languages = data["languages"]
    except (OSError, ValueError, KeyError, TypeError):
        return  # (another Pagefind's entry file: left as it is)
    if isinstance(languages, dict) and len(languages) > 1:
        data["languages"] = dict(sorted(languages.items()))
        entry.write_text(json.dumps(data, ensure_ascii=False, separators=(",", ":")),
                         encoding="utf-8")
