"""The Atom feeds (each edition's) pass what the W3C feed validator checks (its code:
github.com/w3c/feedvalidator, not on PyPI, so its checks are asserted here): a distinct
`updated` for every entry (its warning "Two entries with the same value for atom:updated"),
RFC 3339 dates, ids that are absolute URIs and unique, an author, a self link that is the
feed's address, text summaries with no markup, and a valid xml:lang. Entry times are
truthful to the editor's review date and stable (healthsite/pages/views.entry_times)."""

from __future__ import annotations

import datetime as dt
import re
import xml.etree.ElementTree as ET
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from healthsite.pages.views import entry_times, rfc3339

ATOM = "{http://www.w3.org/2005/Atom}"
XML_LANG = "{http://www.w3.org/XML/1998/namespace}lang"
BASE = "https://restless-legs-guide.example.org/"
RFC3339 = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?(Z|[+-]\d\d:\d\d)")
LANGUAGE_TAG = re.compile(r"[a-z]{2,3}(-[A-Z]{2})?")


def instant(text: str | None) -> dt.datetime:
    """An RFC 3339 date as Atom requires it (a full date and time with its zone)."""
    assert text is not None and RFC3339.fullmatch(text), text
    return dt.datetime.fromisoformat(text.replace("Z", "+00:00"))


def absolute_uri(text: str | None) -> bool:
    parts = urlsplit(text or "")
    return parts.scheme in ("http", "https") and bool(parts.netloc)


def one(parent: ET.Element, name: str) -> ET.Element:
    found = parent.findall(ATOM + name)
    assert len(found) == 1, (name, len(found))
    return found[0]


@pytest.mark.parametrize("path", ["feed.xml", "es/feed.xml"])
def test_each_editions_feed_passes_the_validators_checks(built_repo_site: Path,
                                                         path: str) -> None:
    feed = ET.parse(built_repo_site / path).getroot()
    assert feed.tag == ATOM + "feed"
    assert LANGUAGE_TAG.fullmatch(feed.get(XML_LANG, "")), feed.get(XML_LANG)
    assert one(feed, "title").text and absolute_uri(one(feed, "id").text)
    links = {link.get("rel", "alternate"): link.get("href") for link in feed.findall(ATOM + "link")}
    assert links["self"] == BASE + path  # (where the feed is published)
    assert absolute_uri(links["alternate"])
    assert one(one(feed, "author"), "name").text  # (so no entry needs its own)
    entries = feed.findall(ATOM + "entry")
    assert len(entries) >= (20 if path == "feed.xml" else 5)
    ids = [one(e, "id").text for e in entries]
    assert all(map(absolute_uri, ids)) and len(set(ids)) == len(ids)
    updated = [instant(one(e, "updated").text) for e in entries]
    assert len(set(updated)) == len(updated), "two entries with the same atom:updated"
    assert instant(one(feed, "updated").text) == max(updated)
    assert updated == sorted(updated, reverse=True)  # (the most recently updated first)
    for e in entries:
        assert one(e, "title").text
        assert absolute_uri(one(e, "link").get("href"))
        summary = one(e, "summary")
        assert summary.get("type", "text") == "text" and len(summary) == 0
        assert summary.text and "<" not in summary.text


def test_each_entry_is_dated_on_its_review_day(built_repo_site: Path) -> None:
    """The date in `updated` is the article's `reviewed` date, in the day's first hour (so a
    site published on the day of a review has no entry in the future)."""
    feed = ET.parse(built_repo_site / "feed.xml").getroot()
    reviewed = {}
    for e in feed.findall(ATOM + "entry"):
        address = one(e, "id").text or ""
        page = built_repo_site / urlsplit(address).path.strip("/") / "index.html"
        found = re.search(r'"lastReviewed": ?"([\d-]+)"', page.read_text(encoding="utf-8"))
        assert found, page
        reviewed[address] = dt.date.fromisoformat(found.group(1))
        at = instant(one(e, "updated").text)
        assert at.date() == reviewed[address] and at.hour == 0, (address, at)


def article(path: str, day: dt.date) -> dict[str, object]:
    return {"path": path, "reviewed": day}


def test_entry_times_are_distinct_stable_and_on_the_review_day() -> None:
    day, other = dt.date(2026, 12, 6), dt.date(2026, 11, 21)
    articles = [article(f"page-{n}/", day) for n in range(200)] + [article("old/", other)]
    times = entry_times(articles)
    assert len(set(times.values())) == len(articles)  # (200 in one hour: collisions resolved)
    assert all(t.date() == day and t.hour == 0 and t.tzinfo is not None
               for p, t in times.items() if p != "old/")
    assert times["old/"].date() == other
    # the same articles give the same times, in any order; another day's article moves no
    # one; an article's time is its own (another article's, unless on the same second, moves
    # no other)
    assert entry_times(list(reversed(articles))) == times
    assert entry_times([*articles, article("new/", other)]) == {
        **times, "new/": entry_times([article("new/", other)])["new/"]}
    alone = {p: entry_times([article(p, day)])[p] for p in ("a/", "b/")}
    assert len(set(alone.values())) == 2
    assert entry_times([article("a/", day), article("b/", day)]) == alone


def test_rfc3339_is_utc_with_seconds() -> None:
    zone = dt.timezone(dt.timedelta(hours=1))
    assert rfc3339(dt.datetime(2026, 12, 6, 1, 2, 3, tzinfo=zone)) == "2026-12-06T00:02:03Z"
