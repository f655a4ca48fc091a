"""The latest build's problems as the preview shows them: which page each concerns
(`Report`), how many of each level (`Counts`), and what the terminal prints after each
rebuild (`terminal_lines`). Worked out when first asked for, never by the rebuild itself:
the panel adds no work to a save."""

from __future__ import annotations

import time
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass, field
from functools import cached_property

from ..errors import Problem
from ..load.content import CONTENT_DIR, Article
from ..pages.render import draft_page

EVERY_PAGE = ""  # the page key of the problems that concern every page


def level_of(p: Problem) -> str:
    """'error', 'warning' or 'notice': any level that is neither an error nor a warning
    counts as a notice."""
    value = p.level.value
    return value if value in ("error", "warning") else "notice"


def plural(n: int, word: str) -> str:
    """`1 warning`, `2 warnings`, `0 errors`."""
    return f"{n} {word}{'s' * (n != 1)}"


@dataclass(frozen=True)
class Counts:
    """How many errors, warnings and notices there are among some problems."""

    errors: int = 0
    warnings: int = 0
    notices: int = 0

    @classmethod
    def of(cls, problems: Sequence[Problem]) -> Counts:
        levels = [level_of(p) for p in problems]
        return cls(levels.count("error"), levels.count("warning"), levels.count("notice"))

    @property
    def total(self) -> int:
        return self.errors + self.warnings + self.notices

    def line(self) -> str:
        """As the command line counts them: `0 errors, 2 warnings` (`, 1 notice` when
        there are notices)."""
        text = f"{plural(self.errors, 'error')}, {plural(self.warnings, 'warning')}"
        return text + (f", {plural(self.notices, 'notice')}" if self.notices else "")

    def short(self) -> str:
        """Only the levels there are (`2 warnings, 1 notice`), or `no problems`."""
        parts = [plural(n, word) for n, word in ((self.errors, "error"),
                                                 (self.warnings, "warning"),
                                                 (self.notices, "notice")) if n]
        return ", ".join(parts) or "no problems"


def page_of(path: str, pages: Mapping[str, str], taken: Collection[str] = ()) -> str | None:
    """The page (its file in the output, `iron/index.html`) a problem in the source file
    `path` concerns: its article's page (`pages`: source file -> page); for an article file
    that is not an article (a draft whose front matter cannot be read), the page named after
    the file, as `healthsite serve --drafts` makes for it (pages.render.draft_pages), unless
    an article has that address (`taken`): then None, listed for the site only; EVERY_PAGE
    for site.yaml, templates, static files, the shared cards, the glossary and the preview
    itself."""
    if path in pages:
        return pages[path]
    if path.startswith(CONTENT_DIR + "/") and path.endswith(".md"):
        page = draft_page(path)
        return None if page in taken else page
    return EVERY_PAGE


@dataclass(frozen=True)
class Rebuilt:
    """What the terminal says about a rebuild besides its problems."""

    ok: bool  # the pages were rebuilt (no errors)
    seconds: float
    summary: Mapping[str, float]  # the build's summary (pipeline.BuildResult.summary)
    written: int = 0  # files of the preview that changed
    at: float = field(default_factory=time.time)


@dataclass(frozen=True)
class Report:
    """A build's problems (sorted), the articles it knew (their source file and page),
    which tell the preview which page each problem concerns, and what the rebuild did."""

    problems: tuple[Problem, ...] = ()
    articles: Mapping[str, Article] = field(default_factory=dict)
    rebuilt: Rebuilt | None = None

    @cached_property
    def counts(self) -> Counts:
        return Counts.of(self.problems)

    @cached_property
    def errors(self) -> list[Problem]:
        return [p for p in self.problems if level_of(p) == "error"]

    @cached_property
    def pages(self) -> dict[str, str]:
        """Each article's source file and its page: `content/iron.md` -> `iron/index.html`."""
        return {a.path: a.out_path for a in self.articles.values()}

    @cached_property
    def _placed(self) -> dict[str | None, list[Problem]]:
        placed: dict[str | None, list[Problem]] = {}
        taken = set(self.pages.values())
        for p in self.problems:
            placed.setdefault(page_of(p.path, self.pages, taken), []).append(p)
        return placed

    def on(self, page: str | None) -> list[Problem]:
        """The problems that concern `page` (a file of the output, `iron/index.html`): its
        own article's and those that concern every page. None (a missing page): those that
        concern every page."""
        own = self._placed.get(page, []) if page else []
        return sorted([*own, *self._placed.get(EVERY_PAGE, [])])

    def url(self, path: str) -> str | None:
        """The address of the page of the article in `path`, from the site's root, or None."""
        page = self.pages.get(path)
        return "/" + page.removesuffix("index.html") if page is not None else None


def terminal_lines(report: Report) -> list[str]:
    """What the terminal prints after a rebuild: each problem as the command line prints it
    (`PATH:LINE:COL: level[CODE]: message (hint)`), their count, and a summary line."""
    lines = [p.format() for p in report.problems]
    if report.problems:
        lines.append(report.counts.line())
    if report.rebuilt is not None:
        lines.append(summary_line(report.rebuilt, report.counts))
    return lines


def summary_line(rebuilt: Rebuilt, counts: Counts) -> str:
    """`12:03:04 Rebuilt 13 pages (3 articles, 0 site pages, 4 topics), average reading
    grade 8.1 in 0.41 s: 2 files changed`, or, when the build has errors, what the preview
    shows instead."""
    clock = time.strftime("%H:%M:%S", time.localtime(rebuilt.at))
    took = f"in {rebuilt.seconds:.2f} s"
    if not rebuilt.ok:
        return (f"{clock} Not rebuilt: {plural(counts.errors, 'error')} {took} (the preview "
                "shows them over every page until they are fixed)")
    s = rebuilt.summary
    if not s:
        return f"{clock} Rebuilt {took}: {plural(rebuilt.written, 'file')} changed"
    grade = f", average reading grade {s['grade']:.1f}" if s.get("grade", -1) >= 0 else ""
    return (f"{clock} Rebuilt {s.get('pages', 0):.0f} pages ({s.get('articles', 0):.0f} "
            f"articles, {s.get('site_pages', 0):.0f} site pages, {s.get('topics', 0):.0f} "
            f"topics){grade} {took}: {plural(rebuilt.written, 'file')} changed")
