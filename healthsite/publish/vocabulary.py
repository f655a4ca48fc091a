"""The site's own words, per language edition, for the search page's "did you mean".

Read from the built pages as Pagefind reads them: the text inside `data-pagefind-body`
(articles' text and titles, topics' pages), leaving out what `data-pagefind-ignore` marks
(citation marks, interface text), plus the `data-search-terms` a page indexes (its topics'
lay and clinical names). Written beside the search index (`pagefind/vocabulary.<lang>.json`,
lang: the pages' <html lang>, lower case), most frequent words first."""

from __future__ import annotations

import json
import re
from collections import Counter
from html.parser import HTMLParser
from pathlib import Path

WORD = re.compile(r"[^\W\d_]{3,}")  # (letters only; shorter words make poor suggestions)
MAX_WORDS = 50_000  # per edition: a bound on the file the search page may load
VOID = frozenset({"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta",
                  "source", "track", "wbr"})
SKIP = frozenset({"script", "style", "template", "noscript"})
TERMS_ATTR = "data-search-terms"  # (see article.html and topic.html)


def file_name(language: str) -> str:
    """The vocabulary's file name (in the index folder) for pages whose <html lang> is
    `language`."""
    return f"vocabulary.{language.lower()}.json"


class _Words(HTMLParser):
    """One page's language and the words Pagefind indexes from it."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.language = ""
        self.words: Counter[str] = Counter()
        self._open: list[tuple[str, bool, bool]] = []  # (tag, body starts, ignore starts)
        self._body = 0
        self._ignored = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        """Note the page's language, where its indexed body and ignored parts begin."""
        names = dict(attrs)
        if tag == "html":
            self.language = (names.get("lang") or "").strip()
        if self._body and not self._ignored and names.get(TERMS_ATTR):
            self.add(names[TERMS_ATTR] or "")
        if tag in VOID:
            return
        body, ignore = "data-pagefind-body" in names, "data-pagefind-ignore" in names
        cite = tag == "sup" and "cite" in (names.get("class") or "").split()
        ignore = ignore or tag in SKIP or cite  # (search.EXCLUDED: citation marks)
        self._open.append((tag, body, ignore))
        self._body += body
        self._ignored += ignore

    def handle_endtag(self, tag: str) -> None:
        """Close `tag` and any element left open inside it (HTML's implied ends)."""
        if not any(t == tag for t, _, _ in self._open):
            return
        while self._open:
            t, body, ignore = self._open.pop()
            self._body -= body
            self._ignored -= ignore
            if t == tag:
                return

    def handle_data(self, data: str) -> None:
        """Count the words of text Pagefind indexes."""
        if self._body and not self._ignored:
            self.add(data)

    def add(self, text: str) -> None:
        """Count the words of `text`."""
        self.words.update(w.lower() for w in WORD.findall(text))


def page_words(html: str) -> tuple[str, Counter[str]]:
    """A page's <html lang> and the words Pagefind indexes from it (none when the page has
    no `data-pagefind-body`)."""
    parser = _Words()
    parser.feed(html)
    parser.close()
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
