"""Output formats for problems (text, JSON, GitHub annotations) and the JSON build report."""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from . import fast
from .errors import Problem
from .link.graph import TopicGraph
from .load.content import Article
from .render.readability import Readability, formula

if TYPE_CHECKING:
    from .pipeline import BuildResult

JSON_VERSION = 1


def text_lines(problems: list[Problem], errors: int, warnings: int,
               notices: int = 0) -> list[str]:
    """`PATH:LINE:COL: level[CODE]: message (hint)` per problem, then a count (notices
    counted only when there are some)."""
    lines = [p.format() for p in problems]
    if problems:
        also = f", {notices} notice{'s' * (notices != 1)}" if notices else ""
        lines.append(f"{errors} error{'s' * (errors != 1)}, "
                     f"{warnings} warning{'s' * (warnings != 1)}{also}")
    return lines


def github_lines(problems: list[Problem]) -> list[str]:
    """GitHub Actions workflow commands: one annotation per problem."""

    def esc(text: str, prop: bool = False) -> str:
        text = text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")
        return text.replace(":", "%3A").replace(",", "%2C") if prop else text

    out = []
    for p in problems:
        _, message, hint = p.shown()  # (one line each, as the text lines: see errors.shown)
        message = f"{message} ({hint})" if hint else message
        out.append(f"::{p.level.value} file={esc(p.path, True)},line={p.line},col={p.col},"
                   f"title={esc(p.code, True)}::{esc(message)}")
    return out


SUMMARY_ROWS = 200  # problems listed in a Markdown summary (the rest counted)


def markdown_summary(result: BuildResult, line: str, failed: bool) -> str:
    """The build for people, in Markdown (a GitHub job summary): the summary `line`, the
    problems as a table, the reviews due within 30 days and the pages changed."""
    problems = result.problems.sorted()
    head = "Failed" if failed else "Passed"
    out = [f"## healthsite: {head}", "", line, "",
           f"{result.problems.errors} errors, {result.problems.warnings} warnings, "
           f"{result.problems.notices} notices", ""]
    if problems:
        out += ["| level | where | check | problem |", "| --- | --- | --- | --- |"]
        out += [_row(p) for p in problems[:SUMMARY_ROWS]]
        if len(problems) > SUMMARY_ROWS:
            out.append(f"| | | | and {len(problems) - SUMMARY_ROWS} more |")
        out.append("")
    due = [p for p in problems if p.code in ("review-overdue", "review-due")]
    out += ["### Reviews due within 30 days", ""]
    out += [f"- `{_cell(p.path)}`: {_cell(p.message)}" for p in due] or ["None."]
    changed = sorted(k for k in result.changed if k.endswith((".html", ".xml")))
    out += ["", f"### Pages changed ({len(changed)})", ""]
    out += [f"- `{_cell(k)}`" for k in changed[:SUMMARY_ROWS]] or ["None."]
    if len(changed) > SUMMARY_ROWS:
        out.append(f"- and {len(changed) - SUMMARY_ROWS} more")
    return "\n".join(out) + "\n\n"


def _row(p: Problem) -> str:
    path, message, hint = p.shown()
    text = f"{message} ({hint})" if hint else message
    return f"| {p.level.value} | `{_cell(path)}:{p.line}` | {p.code} | {_cell(text)} |"


def _cell(text: str) -> str:
    """Text safe in a Markdown table cell (no pipe, no HTML, no backtick run)."""
    return (text.replace("\\", "\\\\").replace("|", "\\|").replace("<", "&lt;")
            .replace(">", "&gt;").replace("`", "'"))


def problems_json(result: BuildResult, failed: bool) -> str:
    """The documented JSON shape (see README, "Diagnostics as JSON")."""
    problems = result.problems.sorted()
    data = {
        "version": JSON_VERSION,
        "ok": not failed,
        "counts": {"errors": result.problems.errors, "warnings": result.problems.warnings,
                   "notices": result.problems.notices},
        "problems": [{"path": p.path, "line": p.line, "col": p.col, "level": p.level.value,
                      "code": p.code, "message": message, "hint": hint}
                     for p in problems for _, message, hint in (p.shown(),)],
    }
    return json.dumps(data, indent=2, ensure_ascii=False)


@dataclass(frozen=True)
class Audit:
    """What the report says of the site as a whole, which only a full build's graph gives:
    each article's row and the site's counts. A build that writes it keeps it in `.cache/`
    (see `pipeline`), so a quicker route can report too: one that changed only articles'
    text changes only their rows' readability (`patched`)."""

    articles: list[dict[str, Any]]
    site: dict[str, int]  # articles, pages, files, topics


def audit(result: BuildResult) -> Audit:
    """A full build's audit, from its graph."""
    g = result.graph
    locales = {k: e.locale for k, e in result.config.editions_by_key().items()} \
        if result.config else {}
    articles = [] if g is None else [_article(result, g, slug, a, locales)
                                     for slug, a in g.articles.items()]
    return Audit(articles, {
        "articles": sum(1 for a in articles if a["kind"] == "article"),
        "pages": sum(1 for k in result.paths() if k.endswith(".html")),
        "files": len(result.paths()),
        "topics": len(g.topics) if g else 0})


def patched(before: Audit, readable: Mapping[str, Readability]) -> Audit:
    """The audit after articles' text (only) changed: their new readability."""
    rows = [{**row, "readability": _readability(readable[row["slug"]], row["language"] or "en")}
            if row["slug"] in readable and row["readability"] is not None else row
            for row in before.articles]
    return Audit(rows, before.site)


def build_report(result: BuildResult) -> dict[str, Any]:
    """Everything an editor or CI maintainer may want to audit about one build."""
    found = result.audit if result.audit is not None else audit(result)
    articles, nxt = found.articles, result.reading_next
    return {
        "version": JSON_VERSION,
        "counts": {**found.site, "errors": result.problems.errors,
                   "warnings": result.problems.warnings, **result.counts,
                   # (this build's: none on a route that made no reading next)
                   "reading_next_pairs_examined": nxt.pairs_examined if nxt else 0},
        "timings": {k: round(v, 4) for k, v in result.timings.items()},
        # the route taken ("unchanged", "delta", "full") and why no quicker one could be
        "route": {"taken": result.route, "why": list(result.why)},
        # each fast path: "on", or why it is off (see healthsite/fast)
        "fast_paths": fast.status(),
        "average_reading_grade": _average_grade(articles),
        "review_due": _review_due(articles),
        "articles": articles,
    }


def _average_grade(articles: list[dict[str, Any]]) -> float | None:
    """The articles' mean reading grade (to two places), or None when none was graded."""
    grades = [g for a in articles if a["readability"] is not None
              and (g := a["readability"]["grade"]) is not None]
    return round(sum(grades) / len(grades), 2) if grades else None


def _review_due(articles: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Every article's path and next review date, the soonest due first."""
    return sorted(({"path": a["path"], "next_review": a["next_review"]} for a in articles),
                  key=lambda x: (x["next_review"], x["path"]))


def _article(result: BuildResult, g: TopicGraph, slug: str, a: Article,
             locales: dict[str, str]) -> dict[str, Any]:
    """What the report says of one article (or site page made from content); `locales`:
    each edition's language, by its key."""
    grade, nxt = result.grades.get(slug), result.reading_next
    language = locales.get(a.lang, "")
    return {
        "slug": slug, "path": a.path, "url": a.url, "kind": a.meta.kind,
        "title": a.title, "topics": list(a.meta.topics),
        "reviewed": a.meta.reviewed.isoformat(),
        "next_review": a.meta.next_review.isoformat(),
        "sources": len(a.meta.sources),
        "links_out": list(g.links_out.get(slug, ())),
        "backlinks": list(g.links_in.get(slug, ())),
        "language": language,
        "readability": _readability(grade, language or "en"),
        "reading_next": [{"slug": s.slug, "score": s.score, "reasons": list(s.reasons)}
                         for s in (nxt.by_article.get(slug, ()) if nxt else ())],
    }


def _readability(grade: Readability | None, language: str) -> dict[str, Any] | None:
    """An article's reading grade, words and formula; for a language with no formula, no
    grade and a note saying so."""
    if grade is None:
        return None
    if math.isnan(grade.grade):
        return {"grade": None, "words": grade.words, "formula": None,
                "note": f"no readability formula for '{language}': no grade is given"}
    return {"grade": grade.grade, "words": grade.words, "formula": formula(language)}
