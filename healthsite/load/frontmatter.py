"""Stage 1 (load): split a content file into front matter and body, and validate the front
matter."""

from __future__ import annotations

import calendar
import datetime as dt
import functools
import json
from collections.abc import Hashable
from dataclasses import dataclass, field
from typing import Any

from ..errors import HINTS_PER_FILE, ProblemList, did_you_mean, shown
from . import schema as s
from .addresses import usable
from .yamlio import Located, YamlError, parse

SOURCE = {
    "title": s.Field("str", "the document's title", required=True),
    "publisher": s.Field("str", "the organisation that published it", required=True),
    "year": s.Field("int", "the year it was published or last updated (leave it out only for an "
                    "undated web page, and give its url)", minimum=1900, maximum=9999),
    "url": s.Field("str", "its web address, if you are sure of it"),
}

SCHEMA: dict[str, s.Field] = {
    "title": s.Field("str", "the page title (the only h1)", required=True),
    "summary": s.Field("str", "one plain sentence shown in lists and search results",
                       required=True),
    "kind": s.Field("choice", "article (health content) or page (about, contact…)",
                    choices=("article", "page"), default="article"),
    "topics": s.Field("list", "topic slugs from site.yaml, most specific first", default=list),
    "reviewed": s.Field("date", "the date of the last full editorial review", required=True),
    "next_review": s.Field("date", "when the next review is due (default: reviewed + interval)"),
    "sources": s.Field("model_list", "the documents the article is based on", model=SOURCE,
                       default=list),
    "next": s.Field("list", "editor's picks for reading next (article slugs)", default=list),
    "draft": s.Field("bool", "true keeps the page out of the published site", default=False),
    "condition": s.Field("str", "the medical condition the page is about"),
    "also_known_as": s.Field("list", "other names of what the page is about, shown to readers "
                             "as 'Also known as' (a topic's search words are not shown)",
                             default=list),
    "slug": s.Field("str", "the URL name, if not the file name"),
    "aliases": s.Field("list", "the page's old addresses (/old-path/): each gets a page that "
                       "leads here, and the URL check accepts them", default=list),
}


@dataclass(frozen=True)
class Source:
    """A cited document."""

    title: str
    publisher: str
    year: int | None
    url: str | None


@dataclass(frozen=True)
class FrontMatter:
    """Validated front matter of one content file."""

    title: str
    summary: str
    kind: str
    topics: tuple[str, ...]
    reviewed: dt.date
    next_review: dt.date
    sources: tuple[Source, ...]
    next: tuple[str, ...]
    draft: bool
    condition: str | None
    slug: str | None
    aliases: tuple[str, ...] = ()
    also_known_as: tuple[str, ...] = ()  # other names shown to readers
    # where each value is, packed into one string: a site's caches hold thousands of
    # these, and one string loads far faster than a mapping of tuples (see `positions`)
    located: str = field(default="[]", compare=False, repr=False)

    @property
    def positions(self) -> dict[tuple[Hashable, ...], tuple[int, int]]:
        """Line and column of every value, by key path."""
        return _unpacked(self.located)

    def at(self, *path: Hashable) -> tuple[int, int]:
        """Line and column of a front-matter value (or its nearest parent)."""
        positions = self.positions
        p = tuple(path)
        while p and p not in positions:
            p = p[:-1]
        return positions.get(p, (2, 1))


@functools.lru_cache(maxsize=8)
def _unpacked(located: str) -> dict[tuple[Hashable, ...], tuple[int, int]]:
    # (read once for the many problems of one article: 5,000 unknown picks each read the
    # whole of it, 25 s; callers only read the mapping)
    return {tuple(path): (line, col) for path, line, col in json.loads(located)}


def pack_positions(positions: dict[tuple[Hashable, ...], tuple[int, int]]) -> str:
    """The string form of a positions mapping that FrontMatter keeps."""
    return json.dumps([[list(k), line, col] for k, (line, col) in positions.items()],
                      separators=(",", ":"))


@dataclass(frozen=True)
class Split:
    """The two parts of a content file and where the body starts (1-based line)."""

    yaml_text: str
    body: str
    yaml_line: int
    body_line: int


def split(text: str, path: str, problems: ProblemList) -> Split | None:
    """Separate the `---` fenced front matter from the Markdown body."""
    lines = text.split("\n")
    if not lines or lines[0].rstrip() != "---":
        problems.add("fm-missing", "no front matter: the file must start with a line '---'",
                     path, 1, 1, hint="begin with ---, then title:, summary:, … and a closing ---")
        return None
    for i, line in enumerate(lines[1:], start=1):
        if line.rstrip() in ("---", "..."):
            return Split("\n".join(lines[1:i]), "\n".join(lines[i + 1:]), 2, i + 2)
    problems.add("fm-unclosed", "front matter is opened with '---' but never closed", path, 1, 1,
                 hint="add a line '---' after the last front-matter key")
    return None


def parse_front_matter(
    part: Split, path: str, topics: set[str], interval_months: int, problems: ProblemList,
) -> FrontMatter | None:
    """Validate the YAML of a front matter against SCHEMA; None when unusable."""
    loc = _parse(part, path, problems)
    if loc is None:
        return None

    def report(code: str, message: str, line: int, col: int, hint: str) -> None:
        problems.add(code, message, path, line, col, hint=hint)

    data = s.Checker(loc, report, "fm").check(loc.value, SCHEMA, (), "front matter")
    if not isinstance(loc.value, dict) or not data.get("title") or not data.get("reviewed"):
        return None
    _check_topics(data, loc, topics, report)
    _check_sources(data, loc, report)
    data["aliases"] = usable(data["aliases"], lambda i: loc.at("aliases", i), "aliases", report,
                             "fm-type")
    _check_article_topics(data, loc, part.yaml_line, report)
    reviewed: dt.date = data["reviewed"]
    next_review = data.get("next_review") or add_months(reviewed, interval_months)
    _check_dates(reviewed, data.get("next_review"), loc, report)
    return _front_matter(data, topics, next_review, loc)


def _parse(part: Split, path: str, problems: ProblemList) -> Located | None:
    """The parsed YAML of a front matter; None (reported) when it is broken or empty."""
    try:
        loc = parse(part.yaml_text, line_offset=part.yaml_line - 1)
    except YamlError as e:
        problems.add(e.code, e.message, path, e.line, e.col, hint=e.hint)
        return None
    if loc.value is None:
        problems.add("fm-missing", "the front matter is empty", path, 1, 1,
                     hint="add title:, summary:, topics:, reviewed: and sources:")
        return None
    return loc


def _front_matter(data: dict[str, Any], topics: set[str], next_review: dt.date,
                  loc: Located) -> FrontMatter:
    """The FrontMatter of checked values (unknown topics left out)."""
    return FrontMatter(
        title=data["title"], summary=data["summary"] or "", kind=data["kind"],
        topics=tuple(t for t in data["topics"] if t in topics), reviewed=data["reviewed"],
        next_review=next_review, sources=tuple(map(_source, data["sources"])),
        next=tuple(data["next"]), draft=data["draft"], condition=data.get("condition"),
        slug=data.get("slug"), aliases=tuple(data["aliases"]),
        also_known_as=tuple(data["also_known_as"]),
        located=pack_positions(loc.positions),
    )


def _source(checked: dict[str, Any]) -> Source:
    return Source(checked.get("title") or "", checked.get("publisher") or "", checked.get("year"),
                  checked.get("url"))


def _check_topics(data: dict[str, Any], loc: Located, topics: set[str], report: s.Report) -> None:
    unknown = 0
    seen: set[str] = set()
    for i, topic in enumerate(data["topics"]):
        if topic in seen:
            line, col = loc.at("topics", i)
            report("fm-type", f"topic '{shown(topic)}' is listed twice", line, col,
                   "list each topic once")
            continue
        seen.add(topic)
        if topic not in topics:
            line, col = loc.at("topics", i)
            unknown += 1  # (a suggestion compares with every topic: the first few only)
            report("unknown-topic", f"unknown topic '{shown(topic)}'", line, col,
                   (did_you_mean(topic, topics) if unknown <= HINTS_PER_FILE else "")
                   or "declare it under 'topics:' in site.yaml")


def _check_article_topics(data: dict[str, Any], loc: Located, yaml_line: int,
                          report: s.Report) -> None:
    if data["kind"] == "article" and not data["topics"]:
        line, col = loc.key_at("topics") if "topics" in loc.value else (yaml_line, 1)
        report("fm-missing", "an article needs at least one topic", line, col,
               "add 'topics: [...]' with slugs from site.yaml")


def _check_sources(data: dict[str, Any], loc: Located, report: s.Report) -> None:
    # (sources were checked one by one: when there are any, loc.value["sources"] is the
    # list they were checked from)
    for i, source in enumerate(data["sources"]):
        given = loc.value["sources"][i]
        _check_source(i, source, given if isinstance(given, dict) else {}, loc, report)


def _check_source(i: int, source: dict[str, Any], given: dict[str, Any], loc: Located,
                  report: s.Report) -> None:
    """Report a source with neither year nor url (unless a year was written, and reported
    if wrong), and a url that is not a web address."""
    if source.get("year") is None and not source.get("url") and "year" not in given:
        line, col = loc.at("sources", i)
        report("fm-missing", f"'sources' item {i + 1} has neither a year nor a url", line,
               col, "add 'year:', or the 'url:' of an undated web page")
    url = source.get("url")
    if url and not url.startswith(("https://", "http://")):
        line, col = loc.at("sources", i, "url")
        report("fm-type", f"'url' of 'sources' item {i + 1} is not a web address", line, col,
               "write the full address, starting with https://")


def _check_dates(reviewed: dt.date, next_review: dt.date | None, loc: Located,
                 report: s.Report) -> None:
    # whether 'reviewed' is in the future is checked when loading: it depends on the day
    if next_review is not None and next_review <= reviewed:
        line, col = loc.at("next_review")
        report("bad-date", f"'next_review' {next_review} is not after 'reviewed' {reviewed}",
               line, col, "the next review must come after the last one")


def add_months(day: dt.date, months: int) -> dt.date:
    """The same day `months` later (clamped to the month's last day), or the last day
    there is (9999-12-31) when that is later: a date that far ahead is an error reported
    elsewhere ('reviewed' in the future, a review interval over its maximum)."""
    y, m = divmod(day.month - 1 + months, 12)
    year, month = day.year + y, m + 1
    if year > dt.MAXYEAR:
        return dt.date.max
    if year < dt.MINYEAR:
        return dt.date.min
    return dt.date(year, month, min(day.day, calendar.monthrange(year, month)[1]))
