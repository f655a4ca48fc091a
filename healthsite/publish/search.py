"""Search: index the built site with Pagefind (the PyPI package ships its binary), in shards.

Pagefind has no incremental mode: a run indexes every page it is given, about 1.5 ms a page
on this project's 2-core machine, and holds the whole index in memory (1.9 GB for 10,000
pages). So each edition's pages are split by a stable hash of their paths into shards of
at most about `SHARD_PAGES` pages, each indexed by its own run into its own folder, and
the search page merges them at query time (Pagefind's `mergeIndex`, in search.js). A build
indexes again only the shards whose pages changed, were added or went, and links the
others over from the previous output; on a cold build the runs share the processors.

Shard 0 of every edition is the main index, `pagefind/` itself (with several editions, one
run indexes each of its pages in its own <html lang>, as Pagefind does for a whole site);
shard i of an edition is `pagefind/shards/<locale>.<i>/`, indexed as the edition's
language. A site of at most `SHARD_PAGES` pages per edition therefore has the one index it
always had. `pagefind/shards.json` names each edition's other shards (for search.js) and
each shard's digest: Pagefind's version, its options and the shard's pages (for reuse),
and how many pages each shard's index of each edition holds (search.js weighs words by the
whole edition's counts, so the shards rank results as one index would).

Runs on the finished output in its temporary directory, before it is swapped in, so a
failed index never publishes a half-searchable site."""

from __future__ import annotations

import functools
import hashlib
import importlib
import json
import os
import shutil
import subprocess
import sys
import tempfile
import zlib
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .. import versions
from ..errors import ProblemList
from .output import Written, link_file, link_tree, update_site
from .vocabulary import file_name, ordered, page_words

if TYPE_CHECKING:
    from ..load.config import SiteConfig

INDEX_DIR = "pagefind"
SHARD_DIR = "shards"  # (inside INDEX_DIR)
MANIFEST = "shards.json"
WORDS = "words.json"  # a shard's words and their counts (for the vocabulary)
EXCLUDED = "sup.cite"  # citation marks, out of the index and its excerpts ("cramps[2]")
SHARD_PAGES = 512  # at most about this many pages a shard (an edit indexes one shard again)
TIMEOUT_S = 600
BODY = "data-pagefind-body"


@dataclass(frozen=True)
class Edition:
    """One language edition as the index sees it: its pages' folder ("" or "es/") and its
    locale ("en-GB")."""

    prefix: str
    locale: str

    @property
    def key(self) -> str:
        """What search.js knows it by: the pages' <html lang>, in lower case."""
        return self.locale.lower()

    @property
    def language(self) -> str:
        """Pagefind's language for it (ISO 639-1)."""
        return self.locale.split("-")[0].lower()


def editions_of(config: SiteConfig) -> tuple[Edition, ...]:
    """The site's editions, the default first."""
    return tuple(Edition(e.prefix, e.locale) for e in config.all_editions)


@dataclass(frozen=True)
class Shard:
    """Pages indexed by one Pagefind run, into one folder: `name` "" is `pagefind/` itself
    (shard 0 of every edition), else `pagefind/shards/<name>/`."""

    name: str
    pages: tuple[str, ...]  # the HTML files, relative to the site, sorted
    language: str  # every page indexed as this language, or "": each in its <html lang>

    def folder(self, index: Path) -> Path:
        return index / SHARD_DIR / self.name if self.name else index

    def digest(self) -> str:
        """What the shard's index is made from but the pages' bytes."""
        what = [_version(), self.language, EXCLUDED, *self.pages]
        return hashlib.sha256("\n".join(what).encode()).hexdigest()[:20]


def shard_count(pages: int) -> int:
    """How many shards an edition of `pages` HTML files is split into: a power of two, so
    that a site growing past a bound splits each shard in two."""
    count = 1
    while pages > count * SHARD_PAGES:
        count *= 2
    return count


def plan(pages: Iterable[str], editions: tuple[Edition, ...]) -> list[Shard]:
    """The shards of a site's HTML files (relative paths): each edition's pages split by a
    stable hash of their paths; shard 0 of every edition together is the main index."""
    by_edition: dict[Edition, list[str]] = {e: [] for e in editions}
    others = sorted((e for e in editions if e.prefix), key=lambda e: -len(e.prefix))
    for page in pages:
        edition = next((e for e in others if page.startswith(e.prefix)), editions[0])
        by_edition[edition].append(page)
    main: list[str] = []
    shards: list[Shard] = []
    for edition, own in by_edition.items():
        count = shard_count(len(own))
        split: list[list[str]] = [[] for _ in range(count)]
        for page in own:
            split[zlib.crc32(page.encode()) % count].append(page)
        main += split[0]
        shards += [Shard(f"{edition.key}.{i}", tuple(sorted(split[i]), ), edition.language)
                   for i in range(1, count) if split[i]]
    one = editions[0].language if len(editions) == 1 else ""
    return [Shard("", tuple(sorted(main)), one), *shards]


class Indexer:
    """The last step of publishing a new output folder (an output.Finish: see
    output.write_site and update_site): index it, carrying over from the `previous` output
    the shards none of whose pages changed (`in_place`: the folder already holds the
    previous index, linked). Remembers which shards it made again (or removed), so the
    build's record of the output can be brought up to date without listing it again."""

    def __init__(self, previous: Path, editions: tuple[Edition, ...], problems: ProblemList,
                 in_place: bool = False) -> None:
        self.previous = previous
        self.editions = editions
        self.problems = problems
        self.in_place = in_place
        self.made: set[str] = set()  # the shards indexed again or removed ("": the main)
        self.ran = False  # (its own files are written anew every time it runs)

    def __call__(self, site_dir: Path, changed: frozenset[str], files: frozenset[str]) -> bool:
        self.ran = True
        html = sorted(f for f in files if f.endswith(".html") and not f.startswith(INDEX_DIR))
        why = index_site(site_dir, site_dir / INDEX_DIR, self.previous / INDEX_DIR, changed,
                         self.editions, in_place=self.in_place, pages=html, made=self.made,
                         old_pages=self.previous)
        if why:
            self.problems.add("search-index", why, "site.yaml",
                              hint="pip install 'pagefind[extended]'")
        return not why

    def changes(self, out: Path, before: Iterable[str]) -> set[str]:
        """The files of the index in `out` that the indexing wrote or removed (paths in the
        output), given the files it had `before`: those of the shards made again, and the
        index's own files (its manifest, the vocabularies)."""
        top = INDEX_DIR + "/"
        shard_top = top + SHARD_DIR + "/"
        folders = tuple(f"{shard_top}{name}/" for name in self.made if name)

        def touched(rel: str) -> bool:
            if not rel.startswith(top) or rel.endswith("/"):
                return False
            if rel.startswith(shard_top):
                return rel.startswith(folders) if folders else False
            return "/" not in rel[len(top):] or "" in self.made

        found = {rel for rel in before if touched(rel)}
        index = out / INDEX_DIR
        for entry in os.scandir(index):
            if entry.is_file(follow_symlinks=False):
                found.add(top + entry.name)
            elif entry.name != SHARD_DIR and "" in self.made:
                found.update(_files_in(Path(entry.path), top + entry.name + "/"))
        for folder in folders:
            found.update(_files_in(out / folder, folder))
        return found


def update(root: Path, out: Path, files: dict[str, bytes], kept: frozenset[str],
           previous: dict[str, tuple[int, int, int]], search: bool,
           index: Indexer | None) -> tuple[Written, set[str]]:
    """Update an intact output (output.update_site) with the site's search index (`search`)
    kept, and brought up to date in the update's folder by `index` (an in-place Indexer;
    None: no page changed); what was written, and every file the update changed (written,
    removed, or made again by the index), for the build's record of the output."""
    written = update_site(root, out, files, kept, previous,
                          also_keep=(INDEX_DIR + "/",) if search else (), finish=index)
    changed = set(written.changed)
    if index is not None and index.ran:  # (the shards it made again, its own files)
        changed |= index.changes(out, previous)
    return written, changed


def _files_in(folder: Path, prefix: str) -> set[str]:
    """The files in a folder and its sub-folders, as `prefix` + their relative paths."""
    found: set[str] = set()
    for base, _, names in os.walk(folder):
        rel = os.path.relpath(base, folder)
        inner = prefix if rel == "." else prefix + rel.replace(os.sep, "/") + "/"
        found.update(inner + n for n in names)
    return found


def indexer(previous: Path, editions: tuple[Edition, ...], problems: ProblemList,
            in_place: bool = False) -> Indexer:
    """An `Indexer` (see there)."""
    return Indexer(previous, editions, problems, in_place)


Runner = Callable[[list[str]], "subprocess.Popen[str]"]


def index_site(site: Path, index: Path, previous: Path | None,
               changed: frozenset[str] | None, editions: tuple[Edition, ...],
               start: Runner | None = None, in_place: bool = False,
               pages: list[str] | None = None, made: set[str] | None = None,
               old_pages: Path | None = None) -> str:
    """Write the search index of the pages in `site` into `index`, its shards whose pages
    are the same as in the `previous` index (none of them in `changed`; None: unknown)
    linked over, or left as they are when `index` already holds the previous index's files
    as links (`in_place`: those are unlinked, never written); why it failed, or "".
    `start` starts a Pagefind command (the preview's runs at a lower priority); `pages`
    are the site's HTML files, when known (else the folder is walked); the shards made
    again or removed are added to `made`. `old_pages`: the folder of the pages the
    previous index was made from, when they are still as they were (then a shard's words
    are its previous words less its changed pages' old words plus their new ones)."""
    shards = plan(_html_files(site) if pages is None else pages, editions)
    before = _manifest(previous)
    made = set() if made is None else made
    if in_place:
        made.update(_clear_gone(index, shards))
    fresh = [s for s in shards
             if not (_same(s, before, previous, changed)
                     and (_holds_index(s.folder(index)) if in_place
                          else _carry(s, previous, index)))]
    if in_place:
        for shard in fresh:
            _clear(shard, index)
    made.update(s.name for s in fresh)

    def count(shard: Shard, searchable: dict[str, str]) -> list[list[object]]:
        if previous is None or old_pages is None or changed is None \
                or before.get(shard.name) != shard.digest():
            return _words(searchable.values())
        prior = _read_words(shard.folder(previous))
        if prior is None:
            return _words(searchable.values())
        return _updated(prior, site, old_pages, [p for p in shard.pages if p in changed])

    words = _index(site, index, fresh, start or _start, count)
    if isinstance(words, str):
        return words
    for shard in shards:  # a reused shard's words were linked over with it
        if shard not in fresh:
            words[shard.name] = _read_words(shard.folder(index)) or []
    indexed = [s for s in shards if s.name == "" or words.get(s.name) is not None]
    finish(index, indexed, editions, words, {s.name for s in fresh})
    return ""


def _html_files(site: Path) -> list[str]:
    """The site's HTML files (relative paths, sorted), the index's folder left out (and the
    preview's index folders: see serve/search.py). Folders are read with scandir, paths
    joined as strings: 10,066 pages take 0.07 s, where os.walk and relpath took 0.16-0.21."""
    found: list[str] = []
    folders = [(str(site), "")]
    while folders:
        path, prefix = folders.pop()
        with os.scandir(path) as entries:
            for entry in entries:
                name = entry.name
                if entry.is_dir(follow_symlinks=False):
                    if prefix or (name != INDEX_DIR and not name.startswith(".search-")):
                        folders.append((entry.path, prefix + name + "/"))
                elif name.endswith(".html"):
                    found.append(prefix + name)
    return sorted(found)


def _manifest(previous: Path | None) -> dict[str, str]:
    """The previous index's shards and their digests ({} when unknown)."""
    if previous is None:
        return {}
    try:
        data = json.loads((previous / MANIFEST).read_bytes())
        shards = data["shards"]
    except (OSError, ValueError, KeyError, TypeError):
        return {}
    return {k: v for k, v in shards.items() if isinstance(v, str)} \
        if isinstance(shards, dict) else {}


def _same(shard: Shard, before: dict[str, str], previous: Path | None,
          changed: frozenset[str] | None) -> bool:
    """Whether the previous index has this shard, made of the same pages, none changed."""
    return (previous is not None and changed is not None
            and before.get(shard.name) == shard.digest() and changed.isdisjoint(shard.pages)
            and _holds_index(shard.folder(previous)))


def _holds_index(folder: Path) -> bool:
    return (folder / "pagefind.js").is_file()


def _carry(shard: Shard, previous: Path | None, index: Path) -> bool:
    """Link a shard's index over from the previous index; whether it was."""
    assert previous is not None
    old = shard.folder(previous)
    if shard.name:
        return link_tree(old, shard.folder(index))
    index.mkdir(parents=True, exist_ok=True)  # (the main index: carried first, see plan)
    for entry in os.scandir(old):
        if entry.name in (SHARD_DIR, MANIFEST) or entry.name.startswith("vocabulary."):
            continue
        if not (link_tree(Path(entry.path), index / entry.name) if entry.is_dir()
                else link_file(Path(entry.path), index / entry.name)):
            shutil.rmtree(index, ignore_errors=True)
            return False
    return True


def _clear(shard: Shard, index: Path) -> None:
    """Remove a shard's index (the main one's: all but the other shards)."""
    if shard.name:
        shutil.rmtree(shard.folder(index), ignore_errors=True)
        return
    if index.is_dir():
        for entry in os.scandir(index):
            if entry.name == SHARD_DIR:
                continue
            if entry.is_dir(follow_symlinks=False):
                shutil.rmtree(entry.path, ignore_errors=True)
            else:
                os.unlink(entry.path)


def _clear_gone(index: Path, shards: list[Shard]) -> list[str]:
    """Remove the shards the site no longer has; their names."""
    names = {s.name for s in shards}
    folder = index / SHARD_DIR
    gone = []
    if folder.is_dir():
        for entry in os.scandir(folder):
            if entry.name not in names:
                shutil.rmtree(entry.path, ignore_errors=True)
                gone.append(entry.name)
    return gone


def _index(site: Path, index: Path, shards: list[Shard], start: Runner,
           count: Callable[[Shard, dict[str, str]], list[list[object]]]
           ) -> dict[str, list[list[object]] | None] | str:
    """Run Pagefind on each shard, as many at a time as there are processors (the next
    shard's pages are read while they run); each shard's words (None: it has no page to
    index), or why a run failed."""
    words: dict[str, list[list[object]] | None] = {}
    running: list[tuple[Path, subprocess.Popen[str], Path]] = []
    why = ""
    try:
        for shard in shards:
            pages = _searchable(site, shard)
            if not pages and shard.name:
                words[shard.name] = None
                continue  # (the main index always: search.js loads it)
            tmp = _linked(site, list(pages) or shard.pages, index)
            while len(running) >= (os.cpu_count() or 1) and not why:
                why = _wait(running)
            if why:
                shutil.rmtree(tmp, ignore_errors=True)
                break
            cmd = pagefind_command(tmp, shard.language,
                                   ["--output-path", str(shard.folder(index))])
            try:
                running.append((shard.folder(index), start(cmd), tmp))
            except BaseException:
                shutil.rmtree(tmp, ignore_errors=True)
                raise
            words[shard.name] = count(shard, pages)  # (while Pagefind runs)
        while running and not why:
            why = _wait(running)
    except OSError as e:
        why = f"could not run Pagefind: {e}"
    finally:
        for _, proc, tmp in running:
            proc.kill()
            proc.communicate()
            shutil.rmtree(tmp, ignore_errors=True)
    return why or words


def _wait(running: list[tuple[Path, subprocess.Popen[str], Path]]) -> str:
    """Wait for the oldest run (into `out`, of the pages linked in `tmp`): why it failed,
    or ""."""
    out, proc, tmp = running.pop(0)
    try:
        return _outcome(proc, out)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def _searchable(site: Path, shard: Shard) -> dict[str, str]:
    """The shard's pages Pagefind indexes, with their text: those with an indexed body
    (Pagefind leaves the others out of a site that has one)."""
    pages = {}
    for rel in shard.pages:
        text = (site / rel).read_text(encoding="utf-8", errors="replace")
        if BODY in text:
            pages[rel] = text
    return pages


def _words(texts: Iterable[str]) -> list[list[object]]:
    """The words of pages (their HTML) and their counts, per language (see vocabulary.py)."""
    words: dict[str, Counter[str]] = {}
    for text in texts:
        language, counted = page_words(text)
        words.setdefault(language.lower(), Counter()).update(counted)
    return _listed(words)


def _updated(prior: list[list[object]], site: Path, old_site: Path,
             changed: list[str]) -> list[list[object]]:
    """A shard's words from its previous words: less the `changed` pages' old words (in
    `old_site`), plus their new ones (the same as counting every page again)."""
    words: dict[str, Counter[str]] = {}
    for language, pairs in prior:
        words[str(language)] = Counter({str(w): int(n) for w, n in pairs})  # type: ignore[attr-defined]
    for rel in changed:
        if (old_site / rel).is_file():
            language, counted = _page_words(old_site / rel)
            words.setdefault(language.lower(), Counter()).subtract(counted)
        if (site / rel).is_file():
            language, counted = _page_words(site / rel)
            words.setdefault(language.lower(), Counter()).update(counted)
    return _listed(words)


def _page_words(path: Path) -> tuple[str, Counter[str]]:
    return page_words(path.read_text(encoding="utf-8", errors="replace"))


def _listed(words: dict[str, Counter[str]]) -> list[list[object]]:
    """Words and counts as a shard's words file lists them: per language, sorted; no word
    counted less than once, no language without words."""
    listed: list[list[object]] = []
    for language, counts in sorted(words.items()):
        pairs = sorted((w, n) for w, n in counts.items() if n > 0)
        if pairs:
            listed.append([language, pairs])
    return listed


def _linked(site: Path, pages: Iterable[str], index: Path) -> Path:
    """A temporary folder in the `index` folder (on the site's file system, out of its
    pages' way) holding hard links to `pages` at their paths (so a page replaced while
    Pagefind runs is read as it was)."""
    index.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=".pages-", dir=index))
    for rel in pages:
        target = tmp / rel
        target.parent.mkdir(parents=True, exist_ok=True)
        if not link_file(site / rel, target):
            raise OSError(f"cannot link {rel} for the search index")
    return tmp


def _start(cmd: list[str]) -> subprocess.Popen[str]:
    return subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


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


def pagefind_command(site: Path, language: str, output: list[str]) -> list[str]:
    """Pagefind indexing the pages in `site` (`output`: where the index goes): every page as
    `language` when there is one, else each in its own <html lang>; citation marks left
    out (the build's and the preview's index alike)."""
    force = ["--force-language", language] if language else []
    return [*_pagefind(), "--site", str(site), *output, *force,
            "--exclude-selectors", EXCLUDED, "--silent"]


@functools.cache
def _pagefind() -> tuple[str, ...]:
    """Pagefind's binary, from the package that ships it (`get_executable`, its public
    function), or the Python package's command, which finds it (0.15 s slower a run)."""
    for name in ("pagefind_bin_extended", "pagefind_bin"):
        try:
            return (str(importlib.import_module(name).get_executable()),)
        except (ImportError, AttributeError, OSError, FileNotFoundError):
            continue
    return (sys.executable, "-m", "pagefind")


def finish(index: Path, shards: list[Shard], editions: tuple[Edition, ...],
           words: dict[str, list[list[object]] | None], fresh: set[str]) -> None:
    """What the shards' indexes need besides: each `fresh` one its words (a reused one has
    them already), the main one its languages in
    order, the manifest (each edition's other shards, every shard's digest) and each
    edition's words for "did you mean" (search.js)."""
    languages: dict[str, list[str]] = {e.key: [] for e in editions}
    for shard in shards:
        if shard.name in fresh:
            _replace(shard.folder(index) / WORDS, _json(words.get(shard.name) or []))
        if shard.name:
            languages.setdefault(shard.name.rsplit(".", 1)[0], []).append(shard.name)
    if "" in fresh:
        _in_order(index / ENTRY)
    manifest = {"languages": languages, "pages": _page_counts(index, shards, editions),
                "shards": {s.name: s.digest() for s in shards},
                "fragments": {s.name: _fragments(s.folder(index)) for s in shards if s.name}}
    _replace(index / MANIFEST, _json(manifest))
    write_vocabulary(index, [words.get(s.name) or [] for s in shards])


FRAGMENT = ".pf_fragment"


def _fragments(folder: Path) -> str:
    """The ids of the pages a shard's index holds (Pagefind's names of their fragment files),
    sorted, separated by spaces: search.js tells by a result's id which shard found it, and
    so searches every shard at once. Empty when they cannot be listed (search.js then
    searches shard by shard)."""
    try:
        with os.scandir(folder / "fragment") as entries:
            return " ".join(sorted(e.name[:-len(FRAGMENT)] for e in entries
                                   if e.name.endswith(FRAGMENT)))
    except OSError:
        return ""


def _page_counts(index: Path, shards: list[Shard], editions: tuple[Edition, ...]
                 ) -> dict[str, dict[str, int]]:
    """How many pages each shard's index of each edition holds, as Pagefind counted them
    (its entry file): search.js weighs a word as one index of the edition would, from the
    edition's page count (its shards' together) and the pages having the word."""
    counts: dict[str, dict[str, int]] = {e.key: {} for e in editions}
    for shard in shards:
        data = _entry(shard.folder(index) / ENTRY)
        try:
            found = {str(k): int(v["page_count"]) for k, v in data["languages"].items()} \
                if data is not None else {}
        except (ValueError, KeyError, TypeError, AttributeError):
            continue  # (another Pagefind's: search.js then weighs nothing again)
        for edition in editions:
            if shard.name and not shard.name.startswith(edition.key + "."):
                continue
            n = found.get(edition.language,
                          sum(v for k, v in found.items() if k.split("-")[0] == edition.language))
            if n:
                counts[edition.key][shard.name] = n
    return counts


def write_vocabulary(index: Path, shards: list[list[list[object]]]) -> None:
    """Each edition's words, from every shard's, most frequent first."""
    editions: dict[str, Counter[str]] = {}
    for counts in shards:
        for language, pairs in counts:
            total = editions.setdefault(str(language), Counter())
            for word, n in pairs:  # type: ignore[attr-defined]
                total[word] += n
    for old in index.glob(file_name("*")):
        old.unlink()
    for language, total in sorted(editions.items()):
        if total:
            _replace(index / file_name(language), _json(ordered(total)))


def _read_words(folder: Path) -> list[list[object]] | None:
    try:
        data = json.loads((folder / WORDS).read_bytes())
    except (OSError, ValueError):
        return None
    return data if isinstance(data, list) else None


def _replace(path: Path, text: str) -> None:
    """Write a file anew (unlinked first: it may be a link to a published file)."""
    path.unlink(missing_ok=True)
    path.write_text(text, encoding="utf-8")


def _json(data: object) -> str:
    return json.dumps(data, ensure_ascii=False, separators=(",", ":"), sort_keys=True)


def _version() -> str:
    """Pagefind's version (an index made by another is made again)."""
    return versions.version("pagefind") or "?"


ENTRY = "pagefind-entry.json"


def _in_order(entry: Path) -> None:
    """Pagefind lists a site's languages in its entry file in no set order (a hash map's):
    sort them, so that one site always gives the same bytes. (pagefind.js looks a language
    up by name.)"""
    data = _entry(entry)
    if data is not None and len(data["languages"]) > 1:
        data["languages"] = dict(sorted(data["languages"].items()))
        _replace(entry, json.dumps(data, ensure_ascii=False, separators=(",", ":")))


def _entry(path: Path) -> dict[str, Any] | None:
    """A Pagefind entry file's data, when it has a map of languages (None: unreadable, or
    another Pagefind's, which is left as it is)."""
    try:
        data = json.loads(path.read_bytes())
    except (OSError, ValueError):
        return None
    if isinstance(data, dict) and isinstance(data.get("languages"), dict):
        return data
    return None
