"""Stage 1 (load): find the content files, read them safely, and turn them into Articles."""

from __future__ import annotations

import datetime as dt
import functools
import hashlib
import os
import re
import unicodedata
from collections.abc import Callable, Collection
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import Any, NamedTuple

from slugify import slugify as transliterated

from ..errors import Problem, ProblemList, shown
from ..files import outside, printable, read_regular, undecodable
from ..parallel import map_indexed
from . import schema as s
from .config import LANGUAGE_CODE, SLUG_CHARS, SLUG_MAX, SiteConfig, known_locale, name_problem
from .frontmatter import FrontMatter, parse_front_matter, split
from .yamlio import Located, YamlError, parse

CONTENT_DIR = "content"
# a digest the input scan left to be worked out by whoever reads the file anyway (see
# snapshot.scan_inputs and load_articles)
PENDING = "pending"
GLOSSARY_FILE = "content/glossary.yaml"
MAX_BYTES = 2_000_000
# URL names the site itself uses; an article may not take them.
RESERVED = frozenset({"topics", "glossary", "static", "search", "topic-map", "404", "index",
                      "sitemap", "feed", "robots", "pagefind"})


@dataclass(frozen=True)
class Article:
    """One content file: where it lives, where it publishes, its front matter and body."""

    path: str
    slug: str
    url: str
    out_path: str
    meta: FrontMatter
    raw_body: str | Callable[[], str] = field(compare=False, repr=False)  # or its reader
    body_line: int
    source: str = ""  # a digest of the file's path, bytes and parse settings
    meta_key: str = ""  # a digest of the front matter's values
    lang: str = ""  # its edition: "" (the default language) or the code of another

    @property
    def original(self) -> str:
        """The file a translation translates (content/es/x.md: content/x.md); "" for a page
        of the default edition."""
        return f"{CONTENT_DIR}/{self.path[len(CONTENT_DIR) + len(self.lang) + 2:]}" \
            if self.lang else ""

    @property
    def topic_keys(self) -> tuple[str, ...]:
        """Its topics as the topic graph knows them: "es/iron" for a translation's "iron"
        (see `topic_key`)."""
        return tuple(topic_key(self.lang, t) for t in self.meta.topics) if self.lang \
            else self.meta.topics

    @property
    def body(self) -> str:
        """The Markdown body (read from the parse cache the first time, if kept there)."""
        if not isinstance(self.raw_body, str):
            object.__setattr__(self, "raw_body", self.raw_body())
        assert isinstance(self.raw_body, str)
        return self.raw_body

    @property
    def title(self) -> str:
        return self.meta.title

    @property
    def is_article(self) -> bool:
        return self.meta.kind == "article"


@dataclass(frozen=True)
class GlossaryEntry:
    """A term readers may not know, with its other names and a plain definition."""

    term: str
    definition: str
    also: tuple[str, ...]
    id: str


GLOSSARY_ITEM = {
    "term": s.Field("str", "the word or phrase", required=True),
    "definition": s.Field("str", "one or two plain sentences", required=True),
    "also": s.Field("list", "other names: abbreviations, lay or medical words", default=list),
}


def topic_key(lang: str, topic: str) -> str:
    """What a topic is known by in the topic graph in an edition ("" is the default)."""
    return f"{lang}/{topic}" if lang else topic


def edition_of(rel: str, codes: Collection[str]) -> str:
    """The edition of the content file `rel`: the code of the folder under content/ it is
    in when that is one of `codes` (the other editions'), else "" (the default)."""
    parts = rel.split("/", 2)
    return parts[1] if len(parts) == 3 and parts[1] in codes else ""


def read_text(path: Path, rel: str, problems: ProblemList) -> str | None:
    """Read a UTF-8 text file (BOM and CRLF allowed); report anything else."""
    data = _read(os.fspath(path), rel, problems)
    return decode_text(data, rel, problems) if data is not None else None


def decode_text(data: bytes, rel: str, problems: ProblemList) -> str | None:
    """The text of a file's bytes (UTF-8, BOM and CRLF allowed); report anything else."""
    if len(data) > MAX_BYTES:
        problems.add("too-large", f"the file is {len(data):,} bytes; the limit is {MAX_BYTES:,}",
                     rel, hint="split it into several articles")
        return None
    if b"\0" in data:
        problems.add("encoding", "this is a binary file, not Markdown text", rel,
                     hint="a picture keeps its own suffix (.png, .jpg, .gif, .webp, .svg)")
        return None
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as e:
        before = data[: e.start]
        line = before.count(b"\n") + 1
        col = len(before) - (before.rfind(b"\n") + 1) + 1
        problems.add("encoding", f"the file is not valid UTF-8 (byte 0x{data[e.start]:02x})",
                     rel, line, col, hint="save the file as UTF-8")
        return None
    return text.replace("\r\n", "\n").replace("\r", "\n")


@dataclass(frozen=True)
class Parsed:
    """One content file, read and validated on its own: what the parse cache keeps (the
    body may be kept apart: then it is None here)."""

    meta: FrontMatter | None
    body: str | None
    body_line: int
    problems: tuple[Problem, ...]
    meta_key: str = ""  # a digest of the front matter's values (not where they are)


def parse_file(data: bytes, rel: str, topics: set[str], interval_months: int) -> Parsed:
    """Decode, split and validate one content file (nothing here depends on other files or
    on the date, so the result can be kept by the file's digest)."""
    found = ProblemList()
    text = decode_text(data, rel, found)
    part = split(text, rel, found) if text is not None else None
    meta = parse_front_matter(part, rel, topics, interval_months, found) if part else None
    return Parsed(meta, part.body if part else "", part.body_line if part else 1,
                  tuple(found.items()),
                  hashlib.sha256(repr(meta).encode()).hexdigest() if meta else "")


def slug_problem(slug: str) -> str:
    """Why `slug` cannot be a URL name, or an empty string when it can."""
    why = name_problem(slug)
    if why:
        return why
    if not slug or set(slug) - SLUG_CHARS or slug.startswith("-") or slug.endswith("-"):
        return f"'{shown(slug)}' is not a valid slug: use lowercase a-z, 0-9 and single hyphens"
    if slug in RESERVED:
        return f"'{slug}' is a name the site itself uses"
    return ""


def nfc(text: str) -> str:
    """`text` in Unicode's composed form (NFC): "café" typed as e + a combining accent
    (NFD, as macOS writes file names) is the same name as "café" typed at once."""
    return text if text.isascii() else unicodedata.normalize("NFC", text)


def new_slug(title: str) -> str:
    """A slug for a new article titled `title` in any script: its words in lowercase ASCII
    joined by hyphens (accents dropped; Cyrillic, Greek, Chinese and others transliterated
    by python-slugify, whose tables are Unidecode's), cut at a word to SLUG_MAX characters,
    never a name the site or Windows keeps."""
    slug = transliterated(title, replacements=[["&", " and "]])
    if len(slug) > SLUG_MAX:  # (cut at a word here: slugify's word_boundary skips words)
        cut = slug[: SLUG_MAX + 1]
        slug = (cut[: cut.rfind("-")] if "-" in cut[1:] else cut[:SLUG_MAX]).strip("-")
    slug = slug or "article"
    return slug if not slug_problem(slug) else f"{slug[: SLUG_MAX - 8]}-article"


@dataclass(frozen=True)
class Corpus:
    """The articles that loaded, and the files that exist but could not be loaded (their
    problems are already reported, so links to them are not reported again)."""

    articles: tuple[Article, ...]
    unloadable: frozenset[str]
    hashed: dict[str, str] = field(default_factory=dict)  # digests of files it read first


def content_files(root: Path) -> list[str]:
    """Every content/**/*.md path (relative to the site, sorted by path parts), as
    pathlib's rglob finds them: symbolic links to folders are not followed, hidden files
    and folders are left out, and a folder named like a file is listed (and reported when
    read)."""
    found: list[str] = []
    base = root / CONTENT_DIR
    for folder, dirs, files in os.walk(base):
        rel = Path(folder).relative_to(root).as_posix()
        found += [f"{rel}/{name}" for name in (*files, *dirs)
                  if name.endswith(".md") and not name.startswith(".")]
        # hidden files and folders are an editor's or a tool's (".#a.md" is an Emacs lock)
        dirs[:] = [d for d in dirs if not os.path.islink(os.path.join(folder, d))
                   and not d.startswith(".")]
    return sorted(found, key=lambda p: p.split("/"))


_DRAFT = re.compile(r"^draft:[ \t]*(?:true|True|TRUE|yes|Yes|YES|on|On|ON)[ \t]*(?:#.*)?$", re.M)


def unloadable_drafts(root: Path, unloadable: Collection[str]) -> set[str]:
    """The content files among `unloadable` whose front matter says `draft: true` although
    it could not be read whole (a draft being written: its problems never stop a build)."""
    found = set()
    for rel in unloadable:
        if not rel.endswith(".md"):
            continue
        try:  # (a named pipe, a device or a link out is never read: see files.read_regular)
            path = os.path.join(root, rel)
            if os.path.islink(path) and outside(path, os.path.realpath(root / CONTENT_DIR)):
                continue
            head = read_regular(path)[:MAX_BYTES].decode("utf-8", "replace")
        except OSError:
            continue
        match = re.match(r"\A\ufeff?---[ \t]*\r?\n(.*?)^---[ \t]*$", head, re.S | re.M)
        if _DRAFT.search(match.group(1) if match else head[:4000]):
            found.add(rel)
    return found


def check_language_folders(config: SiteConfig, paths: list[str],
                           problems: ProblemList) -> set[str]:
    """Report each folder of content/ named like a language that is not one of the site's
    other editions (content/fr/ with no 'fr' in languages:, or the default's own code):
    its pages would be published as the default language's. Returns those folders' names
    (their files are not loaded)."""
    codes = {e.code: e for e in config.all_editions}
    seen: set[str] = set()
    away: set[str] = set()
    for rel in paths:
        parts = rel.split("/", 2)
        if len(parts) < 3 or parts[1] in seen:
            continue
        seen.add(parts[1])
        edition = codes.get(parts[1])
        if edition is not None and not edition.default:
            continue
        if edition is not None or looks_like_language(parts[1]):
            away.add(parts[1])
        if edition is not None:
            problems.add("unknown-language", f"content/{parts[1]}/ is named after the default "
                         f"language ('{edition.code}'), whose pages go directly in content/",
                         f"{CONTENT_DIR}/{parts[1]}", hint="move its files up into content/")
        elif looks_like_language(parts[1]):
            problems.add("unknown-language", f"content/{parts[1]}/ is named like a language, "
                         f"but '{parts[1]}' is not one of the site's languages", f"{CONTENT_DIR}/"
                         f"{parts[1]}", hint=f"add it to languages: in site.yaml (code: {parts[1]}"
                         ", name: ...), or rename the folder")
    return away


def looks_like_language(name: str) -> bool:
    """Whether a folder's name is a language code Babel knows (fr, cy, pt-br)."""
    return bool(LANGUAGE_CODE.match(name)) and known_locale(name)


@dataclass(frozen=True)
class ParseMemo:
    """What earlier builds left for load_articles. `cache` maps a digest of (path, bytes,
    topics, review interval) to the file parsed; it is read and filled, so an unchanged
    file is not parsed again. `digests` may give the SHA-256 of files already read (then an
    unchanged file is not even read), or PENDING for a file the input scan left to be
    hashed here, where it is read anyway (its digest is then in the corpus's `hashed`). A
    cached entry without its body gets it from `bodies` when first asked (or, if that lost
    it, from the file)."""

    cache: dict[str, Parsed] | None = None
    digests: dict[str, str] | None = None
    bodies: Callable[[str], str | None] | None = None


def load_articles(config: SiteConfig, today: dt.date, problems: ProblemList,
                  memo: ParseMemo | None = None,
                  meanwhile: Callable[[], object] | None = None) -> Corpus:
    """Every content/**/*.md file as an Article, sorted by slug; bad files are reported.
    Files are looked up in `memo`, and parsed only when not found there (see ParseMemo).
    `meanwhile` is done while worker processes parse, if they do."""
    memo = memo or ParseMemo()  # (none: every file is read and parsed)
    run = _Run(config, today, problems, {t.slug for t in config.topics},
               parse_settings(config), memo.bodies)
    paths = content_files(config.root)
    away = check_language_folders(config, paths, problems)  # (reported: not loaded)
    found = _found(run, [p for p in paths if p.split("/", 2)[1] not in away],
                   memo.digests or {}, memo.cache)
    # files not parsed before are read (if not read above), hashed (if their digest is not
    # known) and parsed across all cores when there are many
    todo = [i for i, entry in enumerate(found) if entry.hit is None]
    parsed = map_indexed(lambda j: _parse_fresh(run, found[todo[j]]), len(todo),
                         meanwhile=meanwhile)
    articles, used, hashed = _made(run, found, dict(zip(todo, parsed, strict=True)))
    if memo.cache is not None:
        memo.cache.clear()
        memo.cache.update(used)
    return _corpus(paths, articles, hashed)


@dataclass(frozen=True)
class _Run:
    """What every file of one load_articles run is parsed and checked with."""

    config: SiteConfig
    today: dt.date
    problems: ProblemList
    topics: set[str]  # the topics' slugs
    settings: str  # parse_settings(config)
    bodies: Callable[[str], str | None] | None  # the bodies kept apart from cached parses

    @functools.cached_property
    def codes(self) -> frozenset[str]:
        """The codes of the editions other than the default (worked out once a run: asked
        for every article)."""
        return frozenset(e.code for e in self.config.all_editions if not e.default)

    def parse(self, data: bytes, name: str) -> Parsed:
        return parse_file(data, name, self.topics, self.config.review_interval_months)


def _corpus(paths: list[str], articles: dict[str, Article], hashed: dict[str, str]) -> Corpus:
    """The Corpus of the articles made, by slug, from the content files at `paths`."""
    loaded = {a.path for a in articles.values()}
    failed = set(map(nfc, paths)) - loaded
    return Corpus(tuple(articles[k] for k in sorted(articles)),
                  frozenset(failed | {PurePosixPath(p).stem for p in failed}), hashed)


class _Found(NamedTuple):
    """A content file to load: its path in the site (as on disk, and in NFC), its path to
    read, its parse key ("" when its digest is not known yet), its parse from the cache,
    and its bytes if they were read already."""

    rel: str
    name: str
    path: str
    key: str
    hit: Parsed | None
    data: bytes | None


def _found(run: _Run, paths: list[str], known: dict[str, str],
           cache: dict[str, Parsed] | None) -> list[_Found]:
    """The content files that can be loaded, each with its cached parse if there is one;
    a name that is not UTF-8, a second name for one file, or a link out of content/ is
    reported and left out."""
    content_dir = os.path.realpath(run.config.root / CONTENT_DIR)
    # a file is known by its name in NFC (as links to it are read): the name on disk is
    # only for reading it, and two names that differ only in their Unicode form are one
    names: dict[str, str] = {}  # NFC name: the first file on disk with it
    found: list[_Found] = []
    for rel in paths:
        name = _name(rel, names, run.problems)
        entry = _entry(run, rel, name, known.get(rel), cache, content_dir) if name else None
        if entry is not None:
            found.append(entry)
    return found


def _entry(run: _Run, rel: str, name: str, digest: str | None,
           cache: dict[str, Parsed] | None, content_dir: str) -> _Found | None:
    """One content file to load, with its cached parse if the scan's digest (or, without
    one, the file read and hashed now) finds one; None when it is left out (reported)."""
    path = f"{os.fspath(run.config.root)}/{rel}"  # (rel is relative and clean)
    if _links_out(path, digest, content_dir):
        run.problems.add("io", "a symbolic link that points outside content/", name,
                         hint="copy the file into content/ instead")
        return None
    if digest == PENDING or cache is None:  # nothing to look up: read and hash it later
        return _Found(rel, name, path, "", None, None)
    data = None
    if not _scanned(digest):
        data = _read(path, name, run.problems)
        if data is None:
            return None
        digest = hashlib.sha256(data).hexdigest()
    assert digest is not None  # (scanned, or just hashed)
    key = parse_key(name, run.settings, digest)
    return _Found(rel, name, path, key, cache.get(key), data)


def _scanned(digest: str | None) -> bool:
    """Whether the input scan hashed the file: a plain file (links are marked)."""
    return digest is not None and len(digest) == 64


def _links_out(path: str, digest: str | None, content_dir: str) -> bool:
    """Whether a file the scan did not hash is a symbolic link out of content/."""
    return not _scanned(digest) and digest != PENDING and os.path.islink(path) \
        and outside(path, content_dir)


def _name(rel: str, names: dict[str, str], problems: ProblemList) -> str | None:
    """A content file's name in NFC, recorded in `names`; None (reported) when it is not
    UTF-8 or another file already has it in another Unicode form."""
    if undecodable(rel):
        problems.add("encoding", "the file name is not UTF-8 text", printable(rel),
                     hint="rename the file (its name is its address)")
        return None
    name = nfc(rel)
    if name in names:
        forms = " and ".join(r.encode("ascii", "backslashreplace").decode()
                             for r in (names[name], rel))
        problems.add("duplicate-slug", f"another file has this name, in another Unicode "
                     f"form ({shown(forms)})", name, 1, 1,
                     hint="remove one of them: on a Mac they are one file")
        return None
    names[name] = rel
    return name


def _parse_fresh(run: _Run, entry: _Found) -> tuple[str, Parsed | None]:
    """A file not parsed before, read (if it was not), hashed (if its digest is not known:
    else "") and parsed; ("", None) when it cannot be read (it is read again, and
    reported, by _settle)."""
    data = entry.data if entry.data is not None else \
        _read(entry.path, entry.name, ProblemList())
    if data is None:
        return "", None
    return "" if entry.key else hashlib.sha256(data).hexdigest(), run.parse(data, entry.name)


def _made(run: _Run, found: list[_Found], fresh: dict[int, tuple[str, Parsed | None]]
          ) -> tuple[dict[str, Article], dict[str, Parsed], dict[str, str]]:
    """The articles the files make, by slug; the parses used, by key; and the digests of
    files hashed here (those the input scan left pending)."""
    articles: dict[str, Article] = {}
    used: dict[str, Parsed] = {}
    hashed: dict[str, str] = {}
    for i, entry in enumerate(found):
        settled = _settle(run, entry, fresh.get(i), hashed)
        if settled is None:
            continue
        key, parsed = settled
        used[key] = parsed
        run.problems.extend(parsed.problems)
        article = _article_of(run, entry, key, parsed)
        if article is None:
            continue
        if article.slug in articles:
            run.problems.add("duplicate-slug", f"'{article.slug}' is already used by "
                             f"{articles[article.slug].path}", entry.rel, 1, 1,
                             hint="rename one of the files or set a different slug:")
            continue
        articles[article.slug] = article
    return articles, used, hashed


def _settle(run: _Run, entry: _Found, fresh: tuple[str, Parsed | None] | None,
            hashed: dict[str, str]) -> tuple[str, Parsed] | None:
    """A file's parse key and parse: from the cache, else as parsed just now (or, if it
    could not be read there, read and parsed here: None, reported, if it cannot be). The
    digest of a file hashed here goes into `hashed`."""
    if entry.hit is not None:
        return entry.key, entry.hit
    assert fresh is not None  # (every file not in the cache was parsed)
    digest, parsed = fresh
    if parsed is None:  # unreadable where it was parsed: try here, reporting why
        data = _read(entry.path, entry.name, run.problems)
        if data is None:
            return None
        digest, parsed = hashlib.sha256(data).hexdigest(), run.parse(data, entry.name)
    if entry.key:
        return entry.key, parsed
    hashed[entry.rel] = digest
    return parse_key(entry.name, run.settings, digest), parsed


def _article_of(run: _Run, entry: _Found, key: str, parsed: Parsed) -> Article | None:
    """make_article, with the body read from `run.bodies` when first asked if the parse
    was kept without it."""
    slug = _article_slug(entry.name, parsed.meta, run.today, run.problems, run.codes)
    if slug is None:
        return None
    body: str | Callable[[], str] = parsed.body if parsed.body is not None else \
        functools.partial(_body, run.bodies, key, entry.path, entry.name, run.topics, run.config)
    return _article(entry.name, key, parsed, slug, run.config.base_path, body)


def parse_settings(config: SiteConfig) -> str:
    """A digest of the settings a content file's parse depends on (hashed once: the topic
    list is long, and each file's key covers it)."""
    topics = sorted(t.slug for t in config.topics)
    return hashlib.sha256(repr((topics, config.review_interval_months)).encode()).hexdigest()


def parse_key(rel: str, settings: str, digest: str) -> str:
    """The parse cache's key for a file: its path, the parse settings and its bytes' digest."""
    return hashlib.sha256(f"{rel}\0{settings}\0{digest}".encode()).hexdigest()


def make_article(rel: str, key: str, parsed: Parsed, base_path: str, today: dt.date,
                 problems: ProblemList) -> Article | None:
    """The Article a parsed file of a one-language site makes (None, reported, when it has
    no usable front matter or slug; see `load_articles` for a site in several). `key` is its
    parse key. The article's path is `rel` in NFC (see `nfc`), as links to it are written."""
    rel = nfc(rel)
    slug = _article_slug(rel, parsed.meta, today, problems)
    if slug is None:
        return None
    return _article(rel, key, parsed, slug, base_path, parsed.body or "")


def _article_slug(rel: str, meta: FrontMatter | None, today: dt.date,
                  problems: ProblemList, codes: Collection[str] = ()) -> str | None:
    """The slug of the article at `rel` (in NFC); None (reported) when it has no usable
    front matter or slug. A review date in the future is reported. A translation's slug
    starts with its edition's folder ("es/x"), so that each edition has its own names."""
    if meta is None:
        return None
    if meta.reviewed > today:
        line, col = meta.at("reviewed")
        problems.add("bad-date", f"'reviewed' date {meta.reviewed} is in the future", rel,
                     line, col, hint="use the date the review actually happened")
    slug = meta.slug or rel[rel.rfind("/") + 1: -len(".md")]  # the file's stem
    lang = edition_of(rel, codes)
    why = slug_problem(slug) or (f"'{slug}' is the folder of the site's '{slug}' edition"
                                 if slug in codes else "")
    if why:
        problems.add("bad-slug", why, rel, 1, 1,
                     hint="rename the file, or set slug:, to something like 'iron-tests'")
        return None
    return f"{lang}/{slug}" if lang else slug


def _article(rel: str, key: str, parsed: Parsed, slug: str, base_path: str,
             body: str | Callable[[], str]) -> Article:
    """The Article of a file, its edition from its slug ("es/x": "es"; see _article_slug)."""
    assert parsed.meta is not None  # (checked by _article_slug)
    return Article(rel, slug, article_url(base_path, slug), f"{slug}/index.html", parsed.meta,
                   body, parsed.body_line, key, parsed.meta_key, slug.rpartition("/")[0])


def article_url(base_path: str, slug: str) -> str:
    return base_path + slug + "/"


def _body(bodies: Callable[[str], str | None] | None, key: str, path: str, rel: str,
          topics: set[str], config: SiteConfig) -> str:
    found = bodies(key) if bodies is not None else None
    if found is None:  # lost from the cache: read the file again
        data = _read(path, rel, ProblemList())
        found = parse_file(data, rel, topics, config.review_interval_months).body \
            if data is not None else None
    return found or ""


def _read(path: str, rel: str, problems: ProblemList) -> bytes | None:
    try:
        return read_regular(path)
    except OSError as e:
        problems.add("io", f"cannot read the file: {e.strerror or e}", rel)
        return None


def load_glossary(config: SiteConfig, problems: ProblemList) -> list[GlossaryEntry]:
    """The entries of content/glossary.yaml (an edition's: content/CODE/glossary.yaml),
    sorted by term; none when it is absent."""
    rel = glossary_file(config)
    loc = read_yaml(config, rel, problems)
    if loc is None:
        return []

    def report(code: str, message: str, line: int, col: int, hint: str) -> None:
        problems.add("glossary" if code.startswith("glossary") else code, message, rel,
                     line, col, hint=hint)

    if not isinstance(loc.value, list):
        report("glossary", "the glossary must be a list of terms", 1, 1,
               "start each entry with '- term:'")
        return []
    checker = s.Checker(loc, report, "glossary")
    terms = _Terms(loc, report)
    for i, raw in enumerate(loc.value):
        entry = _glossary_entry(checker.check(raw, GLOSSARY_ITEM, (i,), f"glossary entry {i + 1}"))
        if entry is not None:
            terms.add(i, entry)
    return sorted(terms.entries.values(), key=lambda e: e.term.lower())


def glossary_file(config: SiteConfig) -> str:
    """The glossary of the edition `config` is for."""
    return f"{CONTENT_DIR}/{config.edition.prefix}glossary.yaml"


def read_yaml(config: SiteConfig, rel: str, problems: ProblemList) -> Located | None:
    """The parsed YAML file `rel` under content/ (the glossary, a shared card); None when it
    is absent, or (reported) a link out of content/, unreadable or not YAML."""
    path = config.root / rel
    if not os.path.lexists(path):
        return None
    if os.path.islink(path) and outside(os.fspath(path),
                                        os.path.realpath(config.root / CONTENT_DIR)):
        problems.add("io", "a symbolic link that points outside content/", rel,
                     hint="copy the file into content/ instead")
        return None
    text = read_text(path, rel, problems)
    if text is None:
        return None
    try:
        return parse(text)
    except YamlError as e:
        problems.add(e.code, e.message, rel, e.line, e.col, hint=e.hint)
        return None


def _glossary_entry(item: dict[str, Any]) -> GlossaryEntry | None:
    """The entry a checked glossary item makes, in NFC; None without a term or definition."""
    if not item.get("term") or not item.get("definition"):
        return None
    term = nfc(item["term"])  # (as the bodies it is found in are rendered)
    return GlossaryEntry(term, nfc(item["definition"]), tuple(map(nfc, item["also"])),
                         "term-" + slugify(term))


@dataclass
class _Terms:
    """The glossary's entries so far, by link id: a name given twice, or two terms with one
    link id, are reported (the first entry is kept)."""

    loc: Located
    report: s.Report
    entries: dict[str, GlossaryEntry] = field(default_factory=dict)
    names: dict[str, str] = field(default_factory=dict)  # each name, lowercase: its term
    where: dict[str, int] = field(default_factory=dict)  # the line of the entry with each id

    def add(self, i: int, entry: GlossaryEntry) -> None:
        """Take the entry at index `i` of the glossary, unless its link id is taken."""
        twice = entry.term.lower() in self.names
        self._take_names(i, entry)
        if entry.id not in self.entries:
            self.entries[entry.id] = entry
            self.where[entry.id] = self.loc.at(i, "term")[0]
        elif not twice:  # (a term given twice is reported by _take_names)
            self._same_id(i, entry)

    def _take_names(self, i: int, entry: GlossaryEntry) -> None:
        for name in (entry.term, *entry.also):
            key = name.lower()
            if key in self.names:
                line, col = self.loc.at(i)
                self.report("glossary", f"'{shown(name)}' is already defined by the entry "
                            f"'{shown(self.names[key])}'",
                            line, col, "each term and other name may appear once")
            self.names.setdefault(key, entry.term)

    def _same_id(self, i: int, entry: GlossaryEntry) -> None:
        # ("C++" and "C#" are both term-c: one would vanish)
        first = self.entries[entry.id]
        line, col = self.loc.at(i, "term")
        self.report("glossary", f"'{shown(entry.term)}' gets the same link id '{entry.id}' as "
                    f"'{shown(first.term)}' (line {self.where[entry.id]})", line, col,
                    f"spell one of them in other words, or make '{shown(entry.term)}' an "
                    f"'also:' name of '{shown(first.term)}'")


def slugify(text: str) -> str:
    """A URL- and id-safe form of a heading or term: lowercase words joined by hyphens, in
    Unicode's composed form (NFC), so that "café" gives one id however it was typed."""
    text = re.sub(r"[^\w\s-]", "", nfc(text).lower().replace("&", " and "))
    return re.sub(r"[\s_-]+", "-", text).strip("-") or "section"

