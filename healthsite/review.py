"""`healthsite review`: which articles' reviews are overdue or coming due, with their dates.

The build never fails on a review date (`review-overdue` and `review-due` are notices: a
lapsed review must not hold back a safety correction). This command is the gate instead: it
exits 1 when any review is overdue, and the shipped workflow runs it every week, so the
editors hear of reviews before they lapse and every week after. It reads only site.yaml and
the articles' front matter (no rendering): fast on any site.
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass
from pathlib import Path

from .errors import Level, Problem, ProblemList
from .load.config import load_config
from .load.content import load_articles
from .report import github_lines


@dataclass(frozen=True)
class Due:
    """One article whose review is overdue or due soon."""

    path: str
    title: str
    url: str
    reviewed: dt.date
    next_review: dt.date
    days: int  # until the review is due (negative: overdue by that many)
    line: int = 1  # of its review date in the file

    @property
    def overdue(self) -> bool:
        return self.days < 0


def due(root: Path, today: dt.date, within: int, problems: ProblemList) -> list[Due] | None:
    """The published articles whose review is overdue or due within `within` days, the
    soonest first; None (problems reported) when the site's settings cannot be read."""
    config = load_config(root, problems)
    if config is None:
        return None
    corpus = load_articles(config, today, ProblemList())
    found = [Due(a.path, a.title, a.url, a.meta.reviewed, a.meta.next_review,
                 (a.meta.next_review - today).days,
                 a.meta.at("next_review" if ("next_review",) in a.meta.positions
                           else "reviewed")[0])
             for a in corpus.articles if a.is_article and not a.meta.draft]
    return sorted((d for d in found if d.days <= within),
                  key=lambda d: (d.next_review, d.path))


def text(found: list[Due], within: int) -> list[str]:
    """One line per article, then a count."""
    lines = [f"{d.path}: {'OVERDUE' if d.overdue else 'due'} {d.next_review} "
             f"({_when(d.days)}; last reviewed {d.reviewed}) {d.title}" for d in found]
    late = sum(d.overdue for d in found)
    lines.append(f"{late} overdue, {len(found) - late} due within {within} days")
    return lines


def as_json(found: list[Due], within: int, today: dt.date) -> str:
    return json.dumps({"today": today.isoformat(), "within_days": within,
                       "overdue": sum(d.overdue for d in found),
                       "articles": [{"path": d.path, "title": d.title, "url": d.url,
                                     "reviewed": d.reviewed.isoformat(),
                                     "next_review": d.next_review.isoformat(),
                                     "days": d.days, "overdue": d.overdue} for d in found]},
                      indent=2, ensure_ascii=False)


def github(found: list[Due], within: int) -> list[str]:
    """GitHub annotations (an error for an overdue review, a warning for one coming due),
    then the text lines."""
    problems = [Problem(d.path, d.line, 1, Level.ERROR if d.overdue else Level.WARNING,
                        "review-overdue" if d.overdue else "review-due",
                        f"review {'was due' if d.overdue else 'is due'} on {d.next_review} "
                        f"({_when(d.days)})", "review the article and update 'reviewed:'")
                for d in found]
    return github_lines(problems) + text(found, within)


def _when(days: int) -> str:
    if days < 0:
        return f"{-days} day{'s' * (days != -1)} ago"
    return "today" if days == 0 else f"in {days} day{'s' * (days != 1)}"
