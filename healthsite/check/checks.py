"""Stage 5 (checks): editorial checks that keep health content to the site's standard."""

from __future__ import annotations

import dataclasses
import datetime as dt
import re
from collections.abc import Callable, Iterable, Iterator, Sized

from ..errors import Level, Lines, ProblemList
from ..link.graph import TopicGraph
from ..link.related import ReadingNext
from ..load.config import AlarmRule, SiteConfig
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
    editions = {e.key: config.for_edition(e) for e in config.all_editions}
    for slug, a in graph.articles.items():
        r, mine = graph.rendered[slug], editions.get(a.lang, config)  # (its language's alarms)
        if complete is not None and (_may_alarm(r) or mine.alarm_rules):  # (the text)
            r = dataclasses.replace(r, text=complete(slug).text)
        grade = check_article(mine, a, r, nxt.by_article.get(slug, ()), today, problems)
        if grade is not None:
            grades[slug] = grade
    return grades


def check_article(config: SiteConfig, a: Article, r: Rendered, suggested: Sized, today: dt.date,
                  problems: ProblemList) -> Readability | None:
    """The content checks of one published article (`r`: its rendering, with its text;
    `suggested`: its reading next; `config`: the settings of the article's edition, whose
    alarm phrases apply); its readability, when it is a health article."""
    _check_summary(a, problems)
    if _may_alarm(r):
        _alarm(config.alarm_terms, a, r.text, problems)
    for rule in config.alarm_rules if a.is_article else ():  # (site pages point to them)
        _rule(rule, a, r, problems)
    if not a.is_article:
        return None
    _check_sources(a, config.min_sources, problems)
    _check_review(a, today, problems)
    if not suggested:
        problems.add("no-reading-next", "no other article could be suggested to read next",
                     a.path, level=Level.WARNING, hint="add topics shared with other articles")
    return _check_grade(a, Readability(r.grade, r.words), config.target_grade, problems)


def _check_summary(a: Article, problems: ProblemList) -> None:
    if len(a.meta.summary) > SUMMARY_MAX:
        line, col = a.meta.at("summary")
        problems.add("summary-length", f"the summary has {len(a.meta.summary)} characters",
                     a.path, line, col, level=Level.WARNING,
                     hint=f"keep it under {SUMMARY_MAX} so search results show it whole")


def _may_alarm(r: Rendered) -> bool:
    """Whether the page lacks an urgent or emergency care card, so must not alarm."""
    return not r.care_kinds & URGENT_KINDS


def _alarm(terms: Iterable[str], a: Article, text: str, problems: ProblemList) -> None:
    """Report the first alarm term the page's text mentions, at its first place in the body
    (or at the body's start)."""
    lowered = text.lower()
    term = next((t for t in terms if t in lowered), None)
    if term is None:
        return
    m = re.search(re.escape(term), a.body, re.I)
    line = a.body_line + (a.body.count("\n", 0, m.start()) if m else 0)
    problems.add("alarm-without-care-card", f"mentions '{term}' but has no urgent or "
                 "emergency care card", a.path, line, 1,
                 hint='add !!! urgent "…" or !!! emergency "…" saying where to get help')


def _rule(rule: AlarmRule, a: Article, r: Rendered, problems: ProblemList) -> None:
    """Report each card of an alarm rule that a page mentioning one of its phrases does not
    include, at the first mention in the body."""
    missing = [card for card in rule.cards if card not in r.cards]
    found = next(filter(None, (_mention(p, r.text) for p in rule.phrases)), None) \
        if missing else None
    if found is None:
        return
    m = re.search(found.re.pattern, a.body, found.re.flags)
    line = a.body_line + (a.body.count("\n", 0, m.start()) if m else 0)
    for card in missing:
        problems.add("missing-care-card", f"mentions '{found.group(0)}' but does not include "
                     f"the shared card '{card}'", a.path, line, 1,
                     hint=f"add the line !!! card {card} in its 'When to get help' section")


def _mention(phrase: str, text: str) -> re.Match[str] | None:
    """Where the text mentions a phrase as words of their own: in capitals only when the
    phrase is (DVT, PE), in any case otherwise."""
    return re.search(rf"(?<![\w-]){re.escape(phrase)}(?![\w-])", text,
                     0 if phrase.isupper() else re.I)


def _check_sources(a: Article, needed: int, problems: ProblemList) -> None:
    if len(a.meta.sources) < needed:
        line, col = a.meta.at("sources")
        problems.add("min-sources", f"{len(a.meta.sources)} source(s); the site requires at "
                     f"least {needed}", a.path, line, col,
                     hint="cite guidelines or reviews under 'sources:'")


REVIEW_SOON = 30  # days: a review due within them is a `review-due` notice


def _check_review(a: Article, today: dt.date, problems: ProblemList) -> None:
    """A review overdue, or due within REVIEW_SOON days: notices, never a failed build (a
    lapsed review must not hold back a safety correction; `healthsite review` is the gate
    that fails on it, and a site may raise either in checks:)."""
    days = (a.meta.next_review - today).days
    if days > REVIEW_SOON:
        return
    given = ("next_review",) in a.meta.positions
    line, col = a.meta.at("next_review" if given else "reviewed")
    if days < 0:
        problems.add("review-overdue", f"review was due on {a.meta.next_review}", a.path,
                     line, col, level=Level.NOTICE,
                     hint="review the article and update 'reviewed:'")
    else:
        problems.add("review-due", f"review is due on {a.meta.next_review} (in {days} "
                     f"day{'s' * (days != 1)})", a.path, line, col, level=Level.NOTICE,
                     hint="plan its review: healthsite review lists what is due")


def _check_grade(a: Article, grade: Readability, target: float,
                 problems: ProblemList) -> Readability:
    """Report a reading grade above the site's target; return the grade."""
    if grade.grade > target:
        problems.add("readability", f"reading grade {grade.grade:g} is above the "
                     f"site target of {target:g}", a.path, 1, 1,
                     level=Level.WARNING, hint="use shorter sentences and plainer words")
    return grade


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
_ELEMENT_GROUPS = 2  # the pattern's groups for elements' addresses (then url() and @import)


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
    end = 0
    for i in _starts(lowered):
        if i < end:
            continue
        m = _RESOURCE.match(text, i)
        if m:
            end = m.end()
            yield m


def _starts(lowered: str) -> list[int]:
    """Where a match can start in the (lower-cased) text, in order."""
    starts = {m.start() for m in _TAG_STARTS.finditer(lowered)}
    for token in _OTHER_STARTS:
        i = lowered.find(token)
        while i >= 0:
            starts.add(i)
            i = lowered.find(token, i + 1)
    return sorted(starts)


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
    found = _loaded(text, html=path.endswith(".html"))
    if found:
        lines = Lines(text)
        for url, start in found:
            problems.add("external-resource", f"loads '{url[:200]}' from another site", path,
                         *lines.at(start), hint=ELSEWHERE_HINT)


def _loaded(text: str, html: bool) -> list[tuple[str, int]]:
    """The addresses on other sites that the text makes a browser load, each with its match's
    offset (in an HTML page, elements' only)."""
    last = _ELEMENT_GROUPS if html else _RESOURCE.groups
    return [(next(g for g in m.groups() if g), m.start()) for m in _resources(text)
            if (m.lastindex or 0) <= last]
