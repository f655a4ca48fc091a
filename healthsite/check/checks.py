"""Stage 5 (checks): editorial checks that keep health content to the site's standard."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable, Iterator, Sized

from ..errors import Level, Lines, ProblemList
from ..link.graph import TopicGraph
from ..link.related import ReadingNext
from ..load.config import SiteConfig
from ..load.content import Article
from ..render.markup import Rendered
from ..render.readability import Readability
from ..render.sanitize import AWAY, ELSEWHERE_HINT

SUMMARY_MAX = 160
URGENT_KINDS = frozenset({"urgent", "emergency"})


def check_articles(config: SiteConfig, graph: TopicGraph, nxt: ReadingNext, today: dt.date,
                   problems: ProblemList,
                   complete: Callable[[str], Rendered] | None = None) -> dict[str, Readability]:
    """Run every content check; return the readability of each health article.
    `complete` gives an article's rendering with its text when the graph holds it without."""
    grades: dict[str, Readability] = {}
    for slug, a in graph.articles.items():
        grade = check_article(config, a, graph.rendered[slug], nxt.by_article.get(slug, ()),
                              today, problems, complete)
        if grade is not None:
            grades[slug] = grade
    return grades


def check_article(config: SiteConfig, a: Article, r: Rendered, suggested: Sized, today: dt.date,
                  problems: ProblemList, complete: Callable[[str], Rendered] | None = None
                  ) -> Readability | None:
    """The content checks of one published article (`r`: its rendering, `suggested`: its
    reading next); its readability, when it is a health article."""
    if len(a.meta.summary) > SUMMARY_MAX:
        line, col = a.meta.at("summary")
        problems.add("summary-length", f"the summary has {len(a.meta.summary)} characters",
                     a.path, line, col, level=Level.WARNING,
                     hint=f"keep it under {SUMMARY_MAX} so search results show it whole")
    if not r.care_kinds & URGENT_KINDS:
        text = (complete(a.slug) if complete is not None else r).text
        _alarm(config, a.path, a.body, a.body_line, text, r.care_kinds, problems)
    if not a.is_article:
        return None
    if len(a.meta.sources) < config.min_sources:
        line, col = a.meta.at("sources")
        problems.add("min-sources", f"{len(a.meta.sources)} source(s); the site requires at "
                     f"least {config.min_sources}", a.path, line, col,
                     hint="cite guidelines or reviews under 'sources:'")
    if a.meta.next_review < today:
        given = ("next_review",) in a.meta.positions
        line, col = a.meta.at("next_review" if given else "reviewed")
        problems.add("review-overdue", f"review was due on {a.meta.next_review}", a.path,
                     line, col, level=Level.WARNING,
                     hint="review the article and update 'reviewed:'")
    if not suggested:
        problems.add("no-reading-next", "no other article could be suggested to read next",
                     a.path, level=Level.WARNING, hint="add topics shared with other articles")
    grade = Readability(r.grade, r.words)
    if grade.grade > config.target_grade:
        problems.add("readability", f"reading grade {grade.grade:g} is above the "
                     f"site target of {config.target_grade:g}", a.path, 1, 1,
                     level=Level.WARNING, hint="use shorter sentences and plainer words")
    return grade


def _alarm(config: SiteConfig, path: str, body: str, body_line: int, text: str,
           kinds: frozenset[str], problems: ProblemList) -> None:
    if kinds & URGENT_KINDS:
        return
    lowered = text.lower()
    for term in config.alarm_terms:
        if term in lowered:
            m = re.search(re.escape(term), body, re.I)
            line = body_line + (body.count("\n", 0, m.start()) if m else 0)
            problems.add("alarm-without-care-card", f"mentions '{term}' but has no urgent or "
                         "emergency care card", path, line, 1,
                         hint='add !!! urgent "…" or !!! emergency "…" saying where to get help')
            return


# (an address is another site's as `sanitize.AWAY` says)
_RESOURCE = re.compile(
    r"<(?:script|img|iframe|frame|source|video|audio|embed|object|track|image|use|input)\b"
    r"[^>]*?\s(?:src|srcset|data|poster|href|xlink:href)\s*=\s*[\"']?\s*(" + AWAY + r"[^\"'\s>]+)"
    r"|<link\b(?=[^>]*\brel\s*=\s*[\"']?[^\"'>]*\b(?:stylesheet|icon|preload|prefetch|"
    r"modulepreload|manifest|apple-touch-icon)\b)[^>]*?\shref\s*=\s*[\"']?\s*("
    + AWAY + r"[^\"'\s>]+)"
    r"|url\(\s*[\"']?\s*(" + AWAY + r"[^\"')\s]+)"
    r"|@import\s+[\"'](" + AWAY + r"[^\"']+)",
    re.I,
)


_STARTS = ("<script", "<img", "<iframe", "<frame", "<source", "<video", "<audio", "<embed",
           "<object", "<track", "<image", "<use", "<input", "<link", "url(", "@import")


# Where a match can start: a tag's name after "<" is found in one pass of an expression
# (its literal "<" is searched for quickly), five times faster than a str.find per name; the
# other two are found with str.find (as an expression, a "u" could start a match anywhere).
_TAG_STARTS = re.compile("<(?:" + "|".join(re.escape(t[1:]) for t in _STARTS
                                           if t.startswith("<")) + ")")
_OTHER_STARTS = tuple(t for t in _STARTS if not t.startswith("<"))

# the non-ASCII letters that re's IGNORECASE matches to ASCII ones (see the re module's
# documentation): str.lower() does not make them so, and the first even lengthens the text
_FOLDED = ("\u0130", "\u0131", "\u017f", "\u212a")


def _resources(text: str) -> Iterator[re.Match[str]]:
    """What `_RESOURCE.finditer(text)` finds, many times faster: the places where a match
    can start are found first, and the pattern is tried only there. (Where lower
    case does not line up with the pattern's case folding, the pattern searches itself.)"""
    lowered = text.lower()
    if not text.isascii() and (len(lowered) != len(text) or any(c in text for c in _FOLDED)):
        yield from _RESOURCE.finditer(text)
        return
    starts = {m.start() for m in _TAG_STARTS.finditer(lowered)}
    for token in _OTHER_STARTS:
        i = lowered.find(token)
        while i >= 0:
            starts.add(i)
            i = lowered.find(token, i + 1)
    end = 0
    for i in sorted(starts):
        if i < end:
            continue
        m = _RESOURCE.match(text, i)
        if m:
            end = m.end()
            yield m


def check_output(files: dict[str, bytes], problems: ProblemList) -> None:
    """No page may make the reader's browser fetch anything from another site."""
    for path in sorted(files):
        check_file(path, files[path], problems)


def check_file(path: str, data: bytes, problems: ProblemList) -> None:
    """`check_output` for one output file (article pages are checked by the worker that
    renders them). In an HTML page only elements count: a `url(...)` or `@import` there is
    text (a page's own styles are in static/, which the policy requires; style attributes
    and elements from content are removed, those of templates blocked by the policy)."""
    if not path.endswith((".html", ".css", ".svg")):
        return
    text = data.decode("utf-8", "replace")
    html = path.endswith(".html")
    lines: Lines | None = None
    for m in _resources(text):
        if html and m.lastindex is not None and m.lastindex > 2:
            continue
        url = next(g for g in m.groups() if g)
        lines = lines or Lines(text)
        problems.add("external-resource", f"loads '{url[:200]}' from another site", path,
                     *lines.at(m.start()), hint=ELSEWHERE_HINT)
