"""Stage 2 (render): Markdown to HTML with Python-Markdown, plus our own small processors.

Each processor both rewrites and records: internal links (`other.md#anchor` -> URL), care cards
(`!!! emergency "…"` -> NHS-style care card), citations (`[^2]` -> the article's second source),
glossary terms (first use linked), placeholders (`{{emergency_number}}` from site.yaml), ids,
headings and the plain text used for readability.

Python-Markdown's own steps do the rest, or, where they are switched on and verified for the
installed version, the quicker ones of `healthsite.fast` in their place (`fast.tune_markdown`),
with byte for byte the same output.
"""

from __future__ import annotations

import html
import itertools
import posixpath
import re
import xml.etree.ElementTree as etree
from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, NamedTuple

import markdown
from markdown.extensions import Extension
from markdown.extensions.admonition import AdmonitionExtension
from markdown.extensions.attr_list import AttrListExtension, AttrListTreeprocessor
from markdown.extensions.footnotes import FootnoteExtension
from markdown.extensions.sane_lists import SaneListExtension
from markdown.extensions.tables import TableExtension
from markdown.extensions.toc import TocExtension
from markdown.inlinepatterns import InlineProcessor
from markdown.postprocessors import Postprocessor
from markdown.preprocessors import Preprocessor
from markdown.treeprocessors import Treeprocessor

from .. import fast
from ..errors import Level, Lines, Problem, ProblemList, did_you_mean
from ..load.cards import INCLUDE, Cards, cards_dir, load_cards
from ..load.config import PLACEHOLDER, SiteConfig
from ..load.content import RESERVED, Article, GlossaryEntry, nfc, slugify
from ..load.images import Image, Pictures, find_images
from ..load.translations import Catalogue, load_catalogue
from . import limits, readability
from .limits import NESTING_SHOWN, TooSlow, deadline, deepest
from .readability import reading_grade
from .sanitize import (
    ELSEWHERE_HINT,
    allowed_attribute,
    as_read,
    clean,
    elsewhere,
    removed,
    reserved_id,
    safe_url,
)

FOOTNOTE_BACKLINK = "Back to text %d"  # a footnote's link back (%d: its number)
CARE_KINDS = {
    # kind: (text for screen readers, heading when none is given)
    "emergency": ("Immediate action required: ",
                  "Call {emergency_number} or go to {emergency_department} now if:"),
    "urgent": ("Urgent advice: ", "Ask for an urgent GP appointment or get help from "
               "{urgent_service} if:"),
    "non-urgent": ("Non-urgent advice: ", "See a GP if:"),
    "warning": ("Important: ", "Important"),
    "info": ("Information: ", "Good to know"),
}
# (a definition's label holds no bracket, as in Python-Markdown's: "[^\]]+" let every line
# starting with "[" scan to the end of the body, 54 s for 100,000 of them)
_LINK_SRC = re.compile(r"\]\(\s*<?([^)\s>]+)|^[ ]{0,3}\[[^\[\]]+\]:\s*<?(\S+?)>?(?:\s|$)",
                       re.M)
# its two alternatives apart: an inline link's "](" is found far faster on its own
_INLINE_SRC = re.compile(_LINK_SRC.pattern.split("|^", 1)[0], re.M)
_DEFINITION_SRC = re.compile("^" + _LINK_SRC.pattern.split("|^", 1)[1], re.M)
_CARD_SRC = re.compile(r"^[ ]*!!! ?([\w-]+)", re.M)
_CITATION_SRC = re.compile(r"\[\^\d+\]")
_IMAGE_SRC = re.compile(r"!\[[ \t]*\]\(\s*<?([^)\s>]+)")
_HEADING_SRC = re.compile(r"^(#{1,6})[ \t]+(.+?)[ \t#]*$", re.M)
_HEADINGS = {"h1", "h2", "h3", "h4", "h5", "h6"}
_BLOCKS = {"p", "ul", "ol"}
_TEXT_BLOCKS = {"p", "li"}
_CITATION_MARK = re.compile(r"\[\d+\]")
_SKIP_TERMS = {"a", "code", "pre", "abbr", "h1", "h2", "h3", "h4", "h5", "h6", "script",
               "style", "sup"}


class Link(NamedTuple):
    """An internal link found in a body: the target file (or None for this page) and anchor.
    (A named tuple: the render cache holds tens of thousands, and tuples unpickle faster than
    dataclass instances.)"""

    target: str | None
    anchor: str
    line: int
    col: int
    raw: str

    def __reduce__(self) -> tuple[Any, ...]:
        # unpickled by tuple.__new__ in C, not by the class's own __new__ written in Python:
        # about a quarter of reading the render cache
        return tuple.__new__, (type(self), tuple(self))


@dataclass(frozen=True)
class Rendered:
    """What rendering one article produced: HTML plus everything recorded on the way."""

    html: str
    toc: tuple[tuple[int, str, str], ...]
    links: tuple[Link, ...]
    anchors: frozenset[str]
    care_kinds: frozenset[str]
    text: str
    citations: frozenset[int]
    problems: tuple[Problem, ...]
    grade: float = 0.0
    words: int = 0
    cards: frozenset[str] = frozenset()  # the shared cards included (and those they stand in for)

    @property
    def too_complex(self) -> bool:
        """Whether the body could not be rendered (see `Renderer.render`)."""
        return any(p.code == TOO_COMPLEX for p in self.problems)


@dataclass
class _Doc:
    """Per-document state shared by the processors (reset for every article)."""

    article: Article
    body: str  # the article's body in Unicode's composed form (NFC), as rendered
    problems: list[Problem] = field(default_factory=list)
    links: list[Link] = field(default_factory=list)
    care_kinds: set[str] = field(default_factory=set)
    cards: set[str] = field(default_factory=set)  # shared cards included (see Rendered.cards)
    citations: set[int] = field(default_factory=set)
    positions: dict[str, list[tuple[int, int]]] = field(default_factory=dict)
    blocks: list[str] = field(default_factory=list)
    anchors: set[str] = field(default_factory=set)
    escaped: int = 0
    values: bool = False  # whether placeholders were replaced by tokens (see _Values)
    ids: set[str] = field(default_factory=set)  # ids set by attribute lists, to find twins
    _lines: Lines | None = None  # where each line of the body starts
    _tables: dict[tuple[re.Pattern[str], int, int],
                  tuple[dict[str, list[int]], dict[str, int]]] = \
        field(default_factory=dict)
    _cursors: dict[str, tuple[int, int]] = field(default_factory=dict)

    @property
    def found(self) -> set[str]:
        """The needles `find` has looked for."""
        return set(self._cursors)

    def error(self, code: str, message: str, line: int, col: int = 1, hint: str = "") -> None:
        self.problems.append(Problem(self.article.path, line, col, Level.ERROR, code, message,
                                     hint))

    def warn(self, code: str, message: str, where: tuple[int, int], hint: str = "") -> None:
        self.problems.append(Problem(self.article.path, *where, Level.WARNING, code, message,
                                     hint))

    def body_pos(self, offset: int) -> tuple[int, int]:
        """The file's line and column of an offset into the body."""
        if self._lines is None:
            self._lines = Lines(self.body)
        line, col = self._lines.at(offset)
        return self.article.body_line + line - 1, col

    def spot(self, pattern: re.Pattern[str], key: str, group: int = 0,
             start: int | None = None) -> tuple[int, int]:
        """Where the match of `pattern` whose `group` is `key` is (the start of that group,
        or of group `start` when given): the first the first time,
        then each next one (the last again when there are no more); if there is none, where
        `key` itself is found. The body is searched once per pattern, however many
        problems there are (a search per problem made 20,000 of them take a minute)."""
        table, used = self._table(pattern, group, group if start is None else start)
        offsets = table.get(key)
        if not offsets:
            return self.find(key)
        i = used.get(key, 0)
        used[key] = i + 1
        return self.body_pos(offsets[min(i, len(offsets) - 1)])

    def _table(self, pattern: re.Pattern[str], group: int,
               at: int) -> tuple[dict[str, list[int]], dict[str, int]]:
        """The offsets (of group `at`) of `pattern`'s matches by the text of their `group`,
        and how many of each `spot` has handed out: made on first use."""
        found = self._tables.get((pattern, group, at))
        if found is None:
            table: dict[str, list[int]] = defaultdict(list)
            for m in pattern.finditer(self.body):
                if m.group(group) is not None:
                    table[m.group(group)].append(m.start(at))
            found = self._tables[(pattern, group, at)] = (table, {})
        return found

    def find(self, needle: str) -> tuple[int, int]:
        """Where the literal `needle` occurs in the body (compared without regard to case):
        the first occurrence the first time, then each next one (the last again when there
        are no more); the body's first line if it never does. Each search for a needle
        starts where the last one for it ended."""
        start, last = self._cursors.get(needle, (0, -1))
        m = re.compile(re.escape(needle), re.I).search(self.body, start) if needle else None
        if m is not None:
            last = m.start()
            self._cursors[needle] = (m.start() + 1, last)
        return self.body_pos(last) if last >= 0 else (self.article.body_line, 1)

    def link_spot(self, href: str) -> tuple[int, int]:
        """Where the link `href` is written: each next place the first times, the last
        again when there are no more (the body's first line if it is not found)."""
        spots = self.positions.get(href) or [(self.article.body_line, 1)]
        return spots.pop(0) if len(spots) > 1 else spots[0]


@dataclass(frozen=True)
class Shared:
    """What articles may include: the pictures they may show and the shared care cards."""

    images: Pictures = field(default_factory=lambda: Pictures({}))
    cards: Cards = field(default_factory=dict)
    folder: str = "content/cards"  # where the cards are (an edition has its own)
    language: Language = field(default_factory=lambda: Language("en"))  # the edition's

    @classmethod
    def load(cls, config: SiteConfig, problems: ProblemList,
             images: Pictures | None = None) -> Shared:
        """The site's pictures (`images`, when read already), and the shared cards and
        language (its interface text) of the edition `config` is for, as every route reads
        them (problems with them reported to `problems`)."""
        if images is None:
            images = Pictures(find_images(config.root, problems), config.site_path)
        return cls(images, load_cards(config, problems), cards_dir(config),
                   Language(config.language, load_catalogue(config.root, config.language,
                                                            problems)))


@dataclass(frozen=True)
class Language:
    """An edition's language as rendering needs it: its code (the readability formula) and
    the interface text of its catalogue (care cards' own headings, footnotes' back links)."""

    code: str
    catalogue: Catalogue | None = field(default=None, compare=False)

    def gettext(self, text: str) -> str:
        return self.catalogue.gettext(text) if self.catalogue is not None else text


@dataclass(frozen=True)
class Surroundings:
    """What an article's rendering reads besides the article and the settings: the glossary,
    and the pictures and shared cards articles may include."""

    glossary: list[GlossaryEntry]
    shared: Shared

    @property
    def language(self) -> Language:
        return self.shared.language


class Renderer:
    """Renders article bodies; one instance is reused for every article of a build."""

    def __init__(self, services: dict[str, str], urls: Mapping[str, str],
                 glossary: list[GlossaryEntry], glossary_url: str,
                 raw_html: str = "sanitize", shared: Shared | None = None) -> None:
        """`urls`: every article's URL by its file (links to files are made links to pages);
        `shared`: the pictures and cards articles may include (`load.images`, `load.cards`),
        and the edition's language (its fixed text and readability formula)."""
        self.services = services
        shared = shared if shared is not None else Shared()
        self.language = shared.language
        self.gettext = self.language.gettext
        self.raw_html = raw_html
        self.urls = urls
        self.by_url = {url: path for path, url in urls.items()}
        self.images, self.cards, self.cards_folder = shared.images, shared.cards, shared.folder
        self.base = self.images.base
        self.glossary = glossary
        self.glossary_url = glossary_url
        self.term_of, self.term_re = _term_index(glossary)
        self.doc: _Doc | None = None
        # a service's value goes into the page as text (never as Markdown or HTML): its
        # placeholder becomes a token that the tree's text and attributes get the value for
        self.tokens = {name: f"\ue000{i}\ue001" for i, name in enumerate(sorted(services))}
        self.md = self._markdown()
        readability.ready()  # (what every grade needs, outside any article's time budget)

    def _markdown(self) -> markdown.Markdown:
        # extensions as instances, not names: looking names up among the installed packages'
        # entry points costs about 45 ms of every build
        return markdown.Markdown(
            extensions=[TableExtension(),
                        FootnoteExtension(BACKLINK_TITLE=self.gettext(FOOTNOTE_BACKLINK)),
                        AttrListExtension(), AdmonitionExtension(), SaneListExtension(),
                        TocExtension(slugify=_heading_id, toc_depth="2-3"),
                        _HealthExtension(self)],
            output_format="html",
        )

    def render(self, article: Article) -> Rendered:
        """Render one article's body within the time budget (`limits.RENDER_SECONDS`): one
        that takes longer, or nests too deeply for Python-Markdown, is a `too-complex`
        error instead."""
        body = nfc(article.body)  # "café" typed as e + combining accent is the same word
        doc = self.doc = _Doc(article, body)
        try:
            with deadline(limits.RENDER_SECONDS):
                doc.positions = _link_positions(doc)
                self.md.reset()
                body_html = self.md.convert(body)
                toc = tuple((t["level"], t["id"], t["name"]) for t in _flatten(self.md.toc_tokens))
                text = " ".join(doc.blocks)
                readable = reading_grade(text, self.language.code)
        except (TooSlow, RecursionError) as e:
            self.md = self._markdown()  # interrupted anywhere: start afresh
            return _too_complex(article, body, isinstance(e, TooSlow))
        finally:
            self.doc = None
        anchors = doc.anchors | {f"source-{i}" for i in range(1, len(article.meta.sources) + 1)}
        return Rendered(body_html, toc, tuple(doc.links), frozenset(anchors),
                        frozenset(doc.care_kinds), text, frozenset(doc.citations),
                        tuple(doc.problems), readable.grade, readable.words,
                        frozenset(doc.cards))


class Renderers:
    """A Renderer per edition, with its services, glossary, cards and language: each article
    is rendered by its own edition's (`around`: each edition's surroundings, by key)."""

    def __init__(self, config: SiteConfig, articles: Iterable[Article],
                 around: Mapping[str, Surroundings]) -> None:
        urls = {a.path: a.url for a in articles}
        self.by_lang: dict[str, Renderer] = {}
        for edition in config.all_editions:
            mine, r = config.for_edition(edition), around[edition.key]
            self.by_lang[edition.key] = Renderer(
                dict(mine.services), urls, r.glossary, mine.base_path + "glossary/",
                config.raw_html, r.shared)

    def render(self, article: Article) -> Rendered:
        return self.by_lang[article.lang].render(article)


def _term_index(glossary: list[GlossaryEntry]) \
        -> tuple[dict[str, GlossaryEntry], re.Pattern[str] | None]:
    """Each glossary name's entry (lowercase), and an expression finding any of the names
    (the longest first; None for no glossary)."""
    names = sorted(((n, e) for e in glossary for n in (e.term, *e.also)),
                   key=lambda ne: (-len(ne[0]), ne[0]))
    term_of = {n.lower(): e for n, e in names}
    if not names:
        return term_of, None
    return term_of, re.compile(
        r"(?<![\w-])(" + "|".join(re.escape(n) for n, _ in names) + r")(?![\w-])", re.I)


TOO_COMPLEX = "too-complex"


def _too_complex(article: Article, body: str, slow: bool) -> Rendered:
    """The rendering of an article that could not be rendered: no HTML, one error."""
    line, depth = deepest(body)
    if slow:
        message = f"the text took more than {limits.RENDER_SECONDS:g} s to render"
        hint = "split it into several articles, or simplify long tables, lists and runs of " \
               "brackets or asterisks"
        where = (1, 1)
    elif depth > NESTING_SHOWN:
        message = f"lists or quotations are nested too deeply to render ({depth} levels)"
        hint = "nest lists and quotations a few levels at most"
        where = (article.body_line + line, 1)
    else:  # (such as thousands of nested emphasis marks)
        message = "the text is nested too deeply to render"
        hint = "look for long runs of *, _, [ or > and simplify them"
        where = (1, 1)
    problem = Problem(article.path, *where, Level.ERROR, TOO_COMPLEX, message, hint)
    return Rendered("", (), (), frozenset(), frozenset(), "", frozenset(), (problem,))


def _heading_id(text: str, sep: str) -> str:
    """A heading's id: its slug, moved aside when the page's own template uses it (a
    heading "Reading next" must not take the id of the page's reading next list)."""
    slug = slugify(text)
    return f"{slug}-section" if reserved_id(slug) else slug


def _flatten(tokens: list[dict[str, Any]]) -> list[dict[str, Any]]:
    out = []
    for t in tokens:
        out.append(t)
        out.extend(_flatten(t.get("children", [])))
    return out


def _link_targets(body: str) -> list[tuple[int, str]]:
    """Where each inline link's and link definition's target begins, and the target: what
    `_LINK_SRC.finditer(body)` finds, faster. Inline links are searched for on their own, and
    definitions only in a body that has some; when no match of one overlaps a match of the
    other, the two together are exactly what the whole expression finds."""
    return [_target(m) for m in _link_matches(body)]


def _link_matches(body: str) -> Iterable[re.Match[str]]:
    """`_LINK_SRC`'s matches in the body, or the same matches of its two parts (see
    `_link_targets`)."""
    if "]:" not in body:
        return _INLINE_SRC.finditer(body)
    apart = sorted((*_INLINE_SRC.finditer(body), *_DEFINITION_SRC.finditer(body)),
                   key=lambda m: m.start())
    if all(a.end() <= b.start() for a, b in itertools.pairwise(apart)):
        return apart
    return _LINK_SRC.finditer(body)


def _target(m: re.Match[str]) -> tuple[int, str]:
    """Where a link's target begins, and the target: the group that took part in the match
    (the first of `_INLINE_SRC`'s and `_DEFINITION_SRC`'s, never empty)."""
    group = 1 if m.group(1) else 2
    return m.start(group), m.group(group)


def _link_positions(doc: _Doc) -> dict[str, list[tuple[int, int]]]:
    found: dict[str, list[tuple[int, int]]] = defaultdict(list)
    for offset, target in _link_targets(doc.body):
        found[target].append(doc.body_pos(offset))
    return found


class _HealthExtension(Extension):
    def __init__(self, renderer: Renderer) -> None:
        super().__init__()
        self.r = renderer

    def extendMarkdown(self, md: markdown.Markdown) -> None:  # noqa: N802 (Markdown's API)
        md.treeprocessors.register(_AttrList(md, self.r), "attr_list", 8)
        md.treeprocessors.register(_Values(md, self.r), "hs-values", 7)
        md.preprocessors.register(_Placeholders(md, self.r), "hs-placeholders", 35)
        md.preprocessors.register(_Includes(md, self.r), "hs-includes", 34)
        md.inlinePatterns.register(_Citation(r"\[\^(\d+)\]", md, self.r), "hs-citation", 174)
        md.treeprocessors.register(_CareCards(md, self.r), "hs-care-cards", 4)
        md.treeprocessors.register(_Links(md, self.r), "hs-links", 3)
        md.treeprocessors.register(_Terms(md, self.r), "hs-terms", 2)
        md.treeprocessors.register(_Record(md, self.r), "hs-record", -1)
        if self.r.raw_html == "escape":
            md.postprocessors.register(_EscapeRaw(md, self.r), "hs-escape-raw", 31)
        elif self.r.raw_html == "sanitize":
            md.postprocessors.register(_SanitizeRaw(md, self.r), "hs-sanitize-raw", 25)
        fast.tune_markdown(md)  # (last: the quicker steps go in place of those set up above)


class _ForRenderer:
    """What each of our Python-Markdown processors shares: the renderer, and through it the
    document being rendered."""

    def __init__(self, md: markdown.Markdown, r: Renderer) -> None:
        super().__init__(md)  # type: ignore[call-arg]  # the Python-Markdown base class
        self.r = r

    @property
    def doc(self) -> _Doc:
        doc = self.r.doc
        assert doc is not None, "used outside Renderer.render"
        return doc


class _EscapeRaw(_ForRenderer, Postprocessor):
    """raw_html: escape — every piece of raw HTML is shown as text (once per document: the toc
    extension runs the postprocessors on its own fragment too)."""

    def run(self, text: str) -> str:
        doc = self.doc
        stash = self.md.htmlStash
        for i in range(doc.escaped, len(stash.rawHtmlBlocks)):
            block = stash.rawHtmlBlocks[i]
            stash.rawHtmlBlocks[i] = html.escape(block) if isinstance(block, str) else block
        doc.escaped = len(stash.rawHtmlBlocks)
        return text


class _SanitizeRaw(_ForRenderer, Postprocessor):
    """raw_html: sanitize — the page goes through nh3 (ammonia); what it drops is reported."""

    def run(self, text: str) -> str:
        if not any(isinstance(b, str) for b in self.md.htmlStash.rawHtmlBlocks):
            return text
        away: list[str] = []
        safe = clean(text, away)
        doc = self.doc
        for url in away:  # (reported here, at its line, rather than on the page)
            doc.error("external-resource", f"loads '{url[:80]}' from another site",
                      *doc.find(url), ELSEWHERE_HINT)
        for what, needle in removed(text, safe, away):
            doc.warn("raw-html", f"unsafe raw HTML removed: {what}", doc.find(needle),
                     "use Markdown instead of HTML")
        return safe


class _Includes(_ForRenderer, Preprocessor):
    """`!!! card NAME` -> the shared card's lines (`load.cards`), its placeholders made
    tokens as an article's are; an unknown name is an error at its line. (After
    `_Placeholders`, which reads the body's own text.)"""

    def run(self, lines: list[str]) -> list[str]:
        if not any(line.startswith("!!! card") for line in lines):
            return lines
        out: list[str] = []
        for line in lines:
            m = INCLUDE.match(line)
            out += self._card(m.group(1)) if m else [line]
        return out

    def _card(self, name: str) -> list[str]:
        """The lines that stand for an inclusion (none for an unknown card, reported)."""
        doc, card = self.doc, self.r.cards.get(name)
        if card is None:
            doc.error("bad-care-card", f"unknown shared card '{name}'",
                      *doc.spot(INCLUDE, name, 1), did_you_mean(name, self.r.cards) or
                      f"define it in {self.r.cards_folder}/{name or 'NAME'}.yaml")
            return [""]
        doc.cards |= card.counts_as
        written = card.markdown()
        text = PLACEHOLDER.sub(lambda m: self.r.tokens.get(m.group(1), m.group(0)), written)
        doc.values = doc.values or text != written
        return ["", *text.split("\n"), ""]


class _Placeholders(_ForRenderer, Preprocessor):
    """`{{name}}` -> a token for the service's value (see `_Values`); an unknown name is an
    error where it is written. (The first preprocessor: its text is the body itself.)"""

    def run(self, lines: list[str]) -> list[str]:
        doc = self.doc
        text = "\n".join(lines)
        if "{{" not in text:
            return lines

        def sub(m: re.Match[str]) -> str:
            name = m.group(1)
            if name in self.r.tokens:
                doc.values = True
                return self.r.tokens[name]
            doc.error("bad-placeholder", f"unknown placeholder '{{{{{name}}}}}'",
                      *doc.body_pos(m.start()), did_you_mean(name, self.r.services)
                      or f"known: {', '.join(sorted(self.r.services))}")
            return m.group(0)

        return PLACEHOLDER.sub(sub, text).split("\n")


_TOKEN = re.compile("\ue000(\\d{1,4})\ue001")


class _Values(_ForRenderer, Treeprocessor):
    """The services' values in place of their tokens, as text: in the tree's text and
    attributes (the serialiser escapes them) and in raw HTML (escaped here). A value is
    never read as Markdown or HTML."""

    def run(self, root: etree.Element) -> None:
        if not self.doc.values:
            return
        values = [self.r.services[name] for name in sorted(self.r.services)]

        def text(m: re.Match[str]) -> str:  # (a "token" typed into the body stays as it is)
            i = int(m.group(1))
            return values[i] if i < len(values) else m.group(0)

        def escaped(m: re.Match[str]) -> str:
            return html.escape(text(m))

        for el in root.iter():
            el.text = _valued(el.text, text)
            el.tail = _valued(el.tail, text)
            for name, value in el.attrib.items():
                if "\ue000" in value:
                    el.set(name, _TOKEN.sub(text, value))
        # raw HTML is escaped as a whole later with raw_html: escape
        _raw_valued(self.md.htmlStash.rawHtmlBlocks,
                    text if self.r.raw_html == "escape" else escaped)


def _valued(text: str | None, value: Callable[[re.Match[str]], str]) -> str | None:
    """`text` with `value`'s text in place of each token in it (an AtomicString stays
    one)."""
    if not text or "\ue000" not in text:
        return text
    return type(text)(_TOKEN.sub(value, text))


def _raw_valued(blocks: list[str | etree.Element],
                value: Callable[[re.Match[str]], str]) -> None:
    """The stash's raw HTML blocks with `value`'s text in place of their tokens."""
    for i, block in enumerate(blocks):
        if isinstance(block, str) and "\ue000" in block:
            blocks[i] = _TOKEN.sub(value, block)


class _AttrList(_ForRenderer, AttrListTreeprocessor):
    """Attribute lists (`{: #id .class key=value}`) may set only what the sanitiser allows
    raw HTML (`sanitize.allowed_attribute`): no event handlers, no style but a table cell's
    alignment, no id that the page's template uses, no id twice. What is removed is a
    warning where it is written. (Only the attributes a list sets are vetted: Python-Markdown
    and its extensions make nothing else.)"""

    def assign_attrs(self, elem: etree.Element, attrs_string: str, *,
                     strict: bool = False) -> str:
        before = dict(elem.attrib)
        remainder: str = super().assign_attrs(elem, attrs_string, strict=strict)
        for name, value in list(elem.attrib.items()):
            if name not in before or before[name] != value:
                self._vet(elem, name, value)
        return remainder

    def _vet(self, elem: etree.Element, name: str, value: str) -> None:
        """Remove an attribute the list set, with a warning, if it may not be set."""
        doc = self.doc
        if not allowed_attribute(elem.tag, name, value or ""):
            del elem.attrib[name]
            doc.warn("unsafe-attribute", f"the attribute '{name[:40]}' of <{elem.tag}> "
                     "was removed", doc.find(name),
                     "attribute lists may set ids, classes, titles and sizes only")
        elif name == "id" and (reserved_id(value) or value in doc.ids):
            del elem.attrib[name]
            self._id_taken(value)
        elif name == "id":
            doc.ids.add(value)

    def _id_taken(self, value: str) -> None:
        """The warning for an id the page or another element has."""
        doc = self.doc
        twice = value in doc.ids
        written = "#" + value if ("#" + value) in doc.body else "id="
        if twice and written not in doc.found:
            doc.find(written)  # (the first is the one kept)
        doc.warn("unsafe-attribute", f"the id '{value[:40]}' was removed: " + (
            "another element has it" if twice else "the page itself uses it"),
            doc.find(written), "choose another id")


class _Citation(_ForRenderer, InlineProcessor):
    def __init__(self, pattern: str, md: markdown.Markdown, r: Renderer) -> None:
        InlineProcessor.__init__(self, pattern, md)
        self.r = r

    def handleMatch(self, m: re.Match[str], data: str) -> tuple[Any, int, int]:  # noqa: N802
        doc = self.doc
        digits = m.group(1)
        n = int(digits) if len(digits) < 10 else 0  # (int() refuses 4,300 digits and more)
        count = len(doc.article.meta.sources)
        doc.citations.add(n)
        if not 1 <= n <= count:
            shown = digits if len(digits) < 10 else digits[:9] + "..."
            doc.error("bad-citation", f"citation [^{shown}] but the article lists {count} "
                      "source(s)", *doc.spot(_CITATION_SRC, m.group(0)),
                      f"cite a number from 1 to {count}, or add the source")
            sup = etree.Element("sup", {"class": "cite"})
            sup.text = f"[{shown}]"  # (no link to a source that is not there)
            return sup, m.start(0), m.end(0)
        sup = etree.Element("sup", {"class": "cite"})
        a = etree.SubElement(sup, "a", {"href": f"#source-{n}"})
        a.text = f"[{n}]"
        return sup, m.start(0), m.end(0)


class _CareCards(_ForRenderer, Treeprocessor):
    """Admonitions (`!!! kind "Heading"`) made care cards, their heading one level below
    the heading before them; an unknown kind, an empty card and a line not read as a card
    are errors."""

    def run(self, root: etree.Element) -> None:
        doc = self.doc
        level = 1
        for el in list(root):
            if el.tag in _HEADINGS:
                level = int(el.tag[1])
            elif el.tag == "div" and "admonition" in el.get("class", "").split():
                self._card(el, doc, min(level + 1, 6))
            elif el.tag == "p":
                _not_a_card(el, doc)

    def _card(self, el: etree.Element, doc: _Doc, level: int) -> None:
        kind = _card_kind(el, doc)
        if kind is None:
            return
        title = self._title(el, kind)
        body = list(el)
        if not body:
            doc.error("empty-care-card", f"the {kind} card is empty: nothing is indented under "
                      "it", *doc.spot(_CARD_SRC, kind, 1, 0),
                      "indent the card's lines (its list too) four spaces under its !!! line")
        else:  # (an empty card tells no one where to get help: it counts as none)
            doc.care_kinds.add(kind)
        content = _remade(el, kind, level, title, body, self.r.gettext)
        if kind == "emergency":
            _phone_links_only(content, doc)

    def _title(self, el: etree.Element, kind: str) -> str:
        """The card's heading, its title element taken out: the kind's own heading when
        none is given, or when the title only names the kind."""
        title_el = next((c for c in el if c.get("class") == "admonition-title"), None)
        title = ""
        if title_el is not None:
            title = title_el.text or ""
            el.remove(title_el)
        if not title or title.lower() == kind.replace("-", " "):
            return self.r.gettext(CARE_KINDS[kind][1]).format(**self.r.services)
        return title


def _not_a_card(el: etree.Element, doc: _Doc) -> None:
    """A paragraph that is a card line Python-Markdown did not read as one is an error: its
    advice would be lost."""
    if not (el.text or "").startswith("!!!"):
        return
    kind = (el.text or "")[3:].split(maxsplit=1)[:1]
    doc.error("bad-care-card", "this line is not read as a care card: it would be published "
              "as text", *doc.spot(_CARD_SRC, kind[0] if kind else "", 1, 0),
              'write !!! kind "Heading" with straight double quotes and nothing after it, '
              "then the card's lines indented four spaces")


def _card_kind(el: etree.Element, doc: _Doc) -> str | None:
    """An admonition's kind; None, with an error, for one that is not a care card's."""
    kinds = [c for c in el.get("class", "").split() if c != "admonition"]
    kind = kinds[0] if kinds else ""
    if kind not in CARE_KINDS:
        doc.error("bad-care-card", f"unknown care card '{kind}'",
                  *doc.spot(_CARD_SRC, kind, 1, 0),
                  did_you_mean(kind, CARE_KINDS) or f"use one of: {', '.join(CARE_KINDS)}")
        return None
    return kind


def _remade(el: etree.Element, kind: str, level: int, title: str,
            body: list[etree.Element], gettext: Callable[[str], str]) -> etree.Element:
    """The admonition `el` rebuilt as a care card around `body`; its content element."""
    el.clear()
    el.set("class", f"care-card care-card--{kind}")
    head = etree.SubElement(el, "div", {"class": "care-card__heading-container"})
    h = etree.SubElement(head, f"h{level}", {"class": "care-card__heading"})
    span = etree.SubElement(h, "span", {"class": "visually-hidden"})
    span.text = gettext(CARE_KINDS[kind][0])
    span.tail = title
    content = etree.SubElement(el, "div", {"class": "care-card__content"})
    content.extend(body)
    return content


def _phone_links_only(content: etree.Element, doc: _Doc) -> None:
    """An emergency card's links other than phone numbers are errors."""
    for a in content.iter("a"):
        href = a.get("href", "")
        if not href.startswith("tel:"):
            doc.error("care-card-link", f"a link to '{href}' inside an emergency card",
                      *doc.spot(_INLINE_SRC, href, 1),
                      "an emergency card only says where to get help now; "
                      "move the link out of the card")


class _Links(_ForRenderer, Treeprocessor):
    """Addresses made safe (unsafe ones removed), images checked (from this site, with alt
    text), and links to Markdown files recorded and made links to their pages."""

    def run(self, root: etree.Element) -> None:
        doc = self.doc
        backrefs: list[etree.Element] = []
        for el in root.iter():
            written = el.get("src", "")  # (as the body has it, to find it by)
            _safe_addresses(el, doc)
            if el.get("class") == "footnote-backref":  # Python-Markdown's, to its reference
                backrefs.append(el)
            elif el.tag == "img":
                _check_image(el, written, doc)
                self._picture(el, written, doc)
            elif el.tag == "a" and el.get("href"):
                el.set("href", self._resolve(el.get("href", ""), doc))
        if backrefs:
            _unlink_unreferenced(backrefs, root)

    def _picture(self, el: etree.Element, written: str, doc: _Doc) -> None:
        """An image of the site's own (next to the article, or in static/) gets its
        published address, size, lazy loading and smaller copies; one that is not there,
        or may not be shown, is an error where it is written."""
        for name in ("srcset", "sizes"):  # (ours only: an attribute list may not set them)
            el.attrib.pop(name, None)
        image = self._image(el.get("src", ""), written, doc)
        if image is not None:
            _show(el, image, self.r.images)

    def _image(self, address: str, written: str, doc: _Doc) -> Image | None:
        """The picture an address names; None for one not the site's, or (reported) one
        that is not there or may not be shown."""
        pictures = self.r.images
        source = pictures.source_of(doc.article.path, address) if address else None
        if source is None:
            return None
        image = pictures.table.get(source)
        if image is None or image.refused:
            _broken_image(image, source, written, doc, pictures)
            return None
        return image

    def _resolve(self, href: str, doc: _Doc) -> str:
        """A link's address, to a page where it was to a Markdown file; each link to a
        Markdown file, to an article's address on this site or to this page is recorded."""
        path, _, anchor = href.partition("#")
        if _on_site(href):
            return self._site_address(href, path, anchor, doc)
        if not _to_markdown(href, path):
            return href
        line, col = doc.link_spot(href)
        if not path:
            doc.links.append(Link(None, anchor, line, col, href))
            return href
        target = posixpath.normpath(posixpath.join(posixpath.dirname(doc.article.path), path))
        doc.links.append(Link(target, anchor, line, col, href))
        found = self.r.urls.get(target)
        if found is None:
            return href  # reported by the graph stage with a suggestion
        return found + (f"#{anchor}" if anchor else "")

    def _site_address(self, href: str, path: str, anchor: str, doc: _Doc) -> str:
        """A link written as an address on this site (`/iron-and-restless-legs/`, under the
        base path or not): one to an article is checked like a link to its file (a missing
        one is reported by the graph stage as `content/<name>.md`); every one gets the base
        path."""
        base: str = self.r.base
        rest = path[len(base):] if base != "/" and path.startswith(base) else path[1:]
        rest, query = (rest.split("?", 1) + [""])[:2]
        name = rest.removesuffix("index.html").strip("/")
        tail = ("?" + query if query else "") + ("#" + anchor if anchor else "")
        if not name or "/" in name or name in RESERVED or "." in name:
            return base + rest + tail  # (the site's own pages and files: not articles)
        target: str = self.r.by_url.get(base + name + "/", f"content/{name}.md")
        doc.links.append(Link(target, anchor, *doc.link_spot(href), href))
        url: str = self.r.urls.get(target, base + rest)
        return url + tail


def _show(el: etree.Element, image: Image, pictures: Pictures) -> None:
    """Give an img the picture's attributes (a size an attribute list set is the editor's)."""
    sized = el.get("width") or el.get("height")
    for name, value in pictures.attributes(image).items():
        if not (sized and name in ("width", "height")):
            el.set(name, value)


def _broken_image(image: Image | None, source: str, written: str, doc: _Doc,
                  pictures: Pictures) -> None:
    """broken-image where the picture is written: not there (the nearest suggested), or
    refused (`image.refused` says why)."""
    if image is None:
        why, hint = f"there is no file {source}", pictures.suggestion(doc.article.path, written)
    else:
        why = image.refused
        hint = "save it again as a plain picture (PNG, JPEG, WebP, or an SVG without scripts)"
    doc.error("broken-image", f"the image '{written[:80]}' cannot be shown: {why}",
              *doc.spot(_INLINE_SRC, written, 1), hint)


def _unlink_unreferenced(backrefs: list[etree.Element], root: etree.Element) -> None:
    """Footnotes' links back to a reference that no text has (a footnote no text refers
    to) lose their address."""
    ids = {e.get("id", "") for e in root.iter()}
    for el in backrefs:
        if el.get("href", "")[1:] not in ids:
            el.attrib.pop("href", None)


def _on_site(href: str) -> bool:
    """Whether a link is an address on this site written from its root (`/x/`)."""
    return href.startswith("/") and not href.startswith(("//", "/\\"))


def _to_markdown(href: str, path: str) -> bool:
    """Whether a link (whose part before any "#" is `path`) is to a Markdown file or within
    this page: relative, with no scheme, and no path or one ending in ".md"."""
    if re.match(r"^[a-z][a-z0-9+.-]*:|^//", href, re.I) or href.startswith("/"):
        return False
    return not path or path.endswith(".md")


def _safe_addresses(el: etree.Element, doc: _Doc) -> None:
    """An element's href and src as the browser reads them; an unsafe one removed, with a
    warning."""
    for attr in ("href", "src"):
        url = el.get(attr)
        if url is None:
            continue
        if not safe_url(url):
            del el.attrib[attr]
            doc.warn("raw-html", f"unsafe address removed: '{url[:40]}'",
                     doc.spot(_INLINE_SRC, url, 1), "link only to web pages")
        elif as_read(url) != url:  # what the browser reads is what is checked
            el.set(attr, as_read(url))


def _check_image(el: etree.Element, written: str, doc: _Doc) -> None:
    """An image from another site loses its address, and one without alt text is an error
    (`written`: its address as the body has it)."""
    if elsewhere(el.get("src", "")):
        url = el.attrib.pop("src")  # (reported here, at its line, not on the page)
        doc.error("external-resource", f"loads '{url[:80]}' from another site",
                  *doc.spot(_INLINE_SRC, written, 1), ELSEWHERE_HINT)
    if not (el.get("alt") or "").strip():
        doc.error("image-alt", "an image without alt text",
                  *doc.spot(_IMAGE_SRC, el.get("src", ""), 1),
                  "describe the image: ![what it shows](file.png)")


class _Terms(_ForRenderer, Treeprocessor):
    """Links the first use of each glossary term on a page to its glossary entry."""

    def run(self, root: etree.Element) -> None:
        if self.r.term_re is None:
            return
        self.used: set[str] = set()
        self._walk(root)

    def _walk(self, el: etree.Element) -> None:
        if el.tag in _SKIP_TERMS or el.get("class", "").startswith("care-card"):
            return  # care cards stay free of onward links: they say where to get help
        el.text, new = self._split(el.text)
        for i, node in enumerate(new):
            el.insert(i, node)
        for child in list(el):
            if child in new:
                continue
            self._walk(child)
            child.tail, after = self._split(child.tail)
            idx = list(el).index(child)
            for j, node in enumerate(after, start=1):
                el.insert(idx + j, node)

    def _split(self, text: str | None) -> tuple[str | None, list[etree.Element]]:
        if not text or self.r.term_re is None:
            return text, []
        for m in self.r.term_re.finditer(text):
            entry = self.r.term_of[m.group(1).lower()]
            if entry.id in self.used:
                continue
            self.used.add(entry.id)
            a = etree.Element("a", {"class": "term", "href": f"{self.r.glossary_url}#{entry.id}"})
            a.text = m.group(1)
            rest, more = self._split(text[m.end():])
            a.tail = rest
            return text[: m.start()], [a, *more]
        return text, []


class _Record(_ForRenderer, Treeprocessor):
    """Collects ids, heading problems and readable text once the tree is final."""

    def run(self, root: etree.Element) -> None:
        doc = self.doc
        previous = 1
        for el in root.iter():
            tag = el.tag
            if el.get("id"):
                doc.anchors.add(el.get("id", ""))
            if tag in _HEADINGS:
                previous = self._heading(el, previous, doc)
            elif tag in _TEXT_BLOCKS:
                sentence = _sentence(el)
                if sentence:
                    doc.blocks.append(sentence)

    def _heading(self, el: etree.Element, previous: int, doc: _Doc) -> int:
        level = int(el.tag[1])
        text = "".join(el.itertext()).strip()
        if "care-card__heading" in el.get("class", ""):
            return previous
        if level == 1:
            doc.error("heading-order", f"a second h1 heading '{text}'",
                      *doc.spot(_HEADING_SRC, text, 2, 0),
                      "the title is the page's only h1: use ## for sections")
        elif level > previous + 1:
            doc.error("heading-order", f"heading '{text}' skips from h{previous} to h{level}",
                      *doc.spot(_HEADING_SRC, text, 2, 0),
                      f"use {'#' * (previous + 1)} for this heading")
        return level


def _sentence(el: etree.Element) -> str:
    """A paragraph's or list item's text for readability, ended as a sentence: "" for none,
    or when it holds paragraphs or lists of its own (their text is counted there)."""
    if any(c.tag in _BLOCKS for c in el):
        return ""
    # whitespace runs as one space (str.split and re's \s agree on whitespace)
    text = " ".join("".join(el.itertext()).split())
    if "[" in text:
        text = _CITATION_MARK.sub("", text).strip()
    if not text:
        return ""
    return text if text[-1] in ".!?:;" else text + "."
