"""The site's own words, per language edition, for the search page's "did you mean".

Read from the built pages as Pagefind reads them: the text inside `data-pagefind-body`
(articles' text and titles, topics' pages), leaving out what `data-pagefind-ignore` marks
(citation marks, interface text), plus the `data-search-terms` a page indexes (its topics'
lay and clinical names). Written beside the search index (`pagefind/vocabulary.<lang>.json`,
lang: the pages' <html lang>, lower case), most frequent words first."""

from __future__ import annotations

import html
import json
import re
from collections import Counter
from pathlib import Path

WORD = re.compile(r"[^\W\d_]{3,}")  # (letters only; shorter words make poor suggestions)
MAX_WORDS = 50_000  # per edition: a bound on the file the search page may load
VOID = frozenset({"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta",
                  "source", "track", "wbr"})
SKIP = frozenset({"script", "style", "template", "noscript"})
RAW = frozenset({"script", "style"})  # (their text is not HTML: html.parser's CDATA elements)
TERMS_ATTR = "data-search-terms"  # (see article.html and topic.html)
# A tag (its name, its attributes), a comment or a declaration, as html.parser tells them
TOKEN = re.compile(r"<(?:!--.*?--!?>|[!?][^>]*>|(/?)([a-zA-Z][^\s/>]*)"
                   r"((?:[^>\"']|\"[^\"]*\"|'[^']*')*)>)", re.S)
HTML_TAG = re.compile(r"<html\b((?:[^>\"']|\"[^\"]*\"|'[^']*')*)>", re.I)
BODY = re.compile(r"<[a-zA-Z][^>]*?\sdata-pagefind-body[\s=/>]")
ATTR = re.compile(r"""([^\s=/>"']+)(?:\s*=\s*(?:"([^"]*)"|'([^']*)'|([^\s>"']+)))?""")


def file_name(language: str) -> str:
    """The vocabulary's file name (in the index folder) for pages whose <html lang> is
    `language`."""
    return f"vocabulary.{language.lower()}.json"


class _Words:
    """One page's language and the words Pagefind indexes from it, read with a tokenizer of
    tags and text (a regular expression) instead of html.parser: ten times faster, for
    the same words on pages like ours (tests/test_search.py compares the two)."""

    def __init__(self) -> None:
        self.language = ""
        self.texts: list[str] = []  # the text Pagefind indexes, in pieces
        self._open: list[tuple[str, bool, bool]] = []  # (tag, body starts, ignore starts)
        self._body = 0
        self._ignored = 0

    def feed(self, page: str) -> None:
        """Read a whole page: its language, then each indexed body (what lies between them
        holds no words Pagefind indexes)."""
        lang = HTML_TAG.search(page)
        if lang is not None:
            self.start("html", lang.group(1))
        pos = 0
        while (body := BODY.search(page, pos)) is not None:
            pos = self.read(page, body.start())

    def read(self, page: str, pos: int) -> int:
        """Read tags and text from `pos` until the indexed body begun there ends; where."""
        end = len(page)
        while pos < end:
            m = TOKEN.search(page, pos)
            if m is None:
                self.data(page[pos:])
                return end
            if m.start() > pos:
                self.data(page[pos:m.start()])
            pos = m.end()
            closing, tag, attrs = m.group(1), m.group(2), m.group(3)
            if tag is None:  # a comment, doctype or processing instruction
                continue
            tag = tag.lower()
            if closing:
                self.end(tag)
                if not self._body:
                    return pos
            else:
                self.start(tag, attrs or "")
                if tag in RAW:  # script, style: their text up to the end tag is not HTML
                    close = page.lower().find(f"</{tag}", pos)
                    pos = end if close < 0 else close
        return end

    def start(self, tag: str, attrs: str) -> None:
        """Note the page's language, where its indexed body and ignored parts begin."""
        names = {k.lower(): html.unescape(v1 or v2 or v3)
                 for k, v1, v2, v3 in ATTR.findall(attrs)} if _telling(tag, attrs) else {}
        if tag == "html":
            self.language = (names.get("lang") or "").strip()
        if self._body and not self._ignored and names.get(TERMS_ATTR):
            self.add(names[TERMS_ATTR])
        if tag in VOID:
            return
        body, ignore = "data-pagefind-body" in names, "data-pagefind-ignore" in names
        cite = tag == "sup" and "cite" in (names.get("class") or "").split()
        ignore = ignore or tag in SKIP or cite  # (search.EXCLUDED: citation marks)
        self._open.append((tag, body, ignore))
        self._body += body
        self._ignored += ignore

    def end(self, tag: str) -> None:
        """Close `tag` and any element left open inside it (HTML's implied ends)."""
        if not any(t == tag for t, _, _ in self._open):
            return
        while self._open:
            t, body, ignore = self._open.pop()
            self._body -= body
            self._ignored -= ignore
            if t == tag:
                return

    def data(self, text: str) -> None:
        """Count the words of text Pagefind indexes."""
        if self._body and not self._ignored:
            self.add(html.unescape(text) if "&" in text else text)

    def add(self, text: str) -> None:
        """Keep `text` (its words are counted at the end, all at once)."""
        self.texts.append(text)

    @property
    def words(self) -> Counter[str]:
        """The words of the text kept."""
        return Counter(map(str.lower, WORD.findall(" ".join(self.texts))))


def _telling(tag: str, attrs: str) -> bool:
    """Whether a tag's attributes may say anything read here (its language, an indexed body,
    an ignored part, the terms it indexes, a citation mark's class)."""
    return "data-" in attrs.lower() or tag in ("html", "sup")


def page_words(html: str) -> tuple[str, Counter[str]]:
    """A page's <html lang> and the words Pagefind indexes from it (none when the page has
    no `data-pagefind-body`)."""
    parser = _Words()
    parser.feed(html)
    return parser.language, parser.words


def site_words(site_dir: Path) -> dict[str, Counter[str]]:
    """The indexed words of every page in `site_dir`, per language (<html lang>, lower
    case); the index folder and pages without an indexed body are left out."""
    editions: dict[str, Counter[str]] = {}
    for path in sorted(site_dir.rglob("*.html")):
        if "pagefind" in path.relative_to(site_dir).parts:
            continue
        html = path.read_text(encoding="utf-8", errors="replace")
        if "data-pagefind-body" not in html:
            continue
        language, words = page_words(html)
        if words:
            editions.setdefault(language.lower(), Counter()).update(words)
    return editions


def ordered(words: Counter[str]) -> list[str]:
    """Most frequent first, then alphabetically (one site: the same bytes)."""
    return sorted(words, key=lambda w: (-words[w], w))[:MAX_WORDS]


def write_vocabulary(site_dir: Path, index_dir: Path) -> list[Path]:
    """Write each edition's vocabulary into `index_dir`; return the files written."""
    written = []
    for language, words in sorted(site_words(site_dir).items()):
        path = index_dir / file_name(language)
        path.write_text(json.dumps(ordered(words), ensure_ascii=False, separators=(",", ":")),
                        encoding="utf-8")
        written.append(path)
    return written
