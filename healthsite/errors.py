"""Problems (diagnostics): one type for every mistake the build can find, and how they print."""

from __future__ import annotations

import dataclasses
import difflib
import re
from bisect import bisect_right
from collections import Counter
from collections.abc import Callable, Collection, Iterable
from dataclasses import dataclass, field
from enum import StrEnum

# what a diagnostic must not echo as it is: control characters (a newline starts a line of its
# own, which GitHub Actions runs as a workflow command when it begins with '::'; escapes move
# a terminal's cursor), line and paragraph separators, and bidirectional overrides (which
# reorder what a reader sees)
_UNSAFE = re.compile("[\x00-\x1f\x7f-\x9f\u061c\u200e\u200f\u2028\u2029\u202a-\u202e"
                     "\u2066-\u2069]")
_ESCAPES = {"\n": "\\n", "\r": "\\r", "\t": "\\t"}
VALUE_MAX = 200  # characters of a value echoed in a message
TEXT_MAX = 600  # characters of a whole message or hint


def shown(text: str, limit: int = VALUE_MAX) -> str:
    """`text` as a diagnostic may echo it: on one line, control characters written as
    escapes (a newline as \\n), and at most `limit` characters (ending in an ellipsis when
    cut). Text already shown stays as it is."""
    if len(text) > limit:
        text = text[: limit - 1] + "\u2026"
    return _UNSAFE.sub(_escape, text) if _UNSAFE.search(text) else text


def _escape(m: re.Match[str]) -> str:
    c = m.group()
    return _ESCAPES.get(c) or (f"\\x{ord(c):02x}" if ord(c) < 0x100 else f"\\u{ord(c):04x}")


class Level(StrEnum):
    """How serious a problem is; `--strict` treats warnings as errors. A notice (a problem
    in a draft, which is not published; a review coming due) never fails a build."""

    ERROR = "error"
    WARNING = "warning"
    NOTICE = "notice"


@dataclass(frozen=True, order=True)
class Problem:
    """One diagnostic: where it is, its code, what is wrong and how to fix it."""

    path: str
    line: int
    col: int
    level: Level = field(compare=False)
    code: str
    message: str
    hint: str = ""

    def format(self) -> str:
        """Render as `PATH:LINE:COL: error[CODE]: message (hint)`: always one line (see
        `shown`), never one that starts with '::' (a GitHub workflow command)."""
        path, message, hint = self.shown()
        where = f"{'./' if path.startswith('::') else ''}{path}:{self.line}:{self.col}"
        text = f"{where}: {self.level.value}[{self.code}]: {message}"
        return f"{text} ({hint})" if hint else text

    def shown(self) -> tuple[str, str, str]:
        """The path, message and hint as they may be printed (see `shown`)."""
        return shown(self.path, TEXT_MAX), shown(self.message, TEXT_MAX), \
            shown(self.hint, TEXT_MAX)


class Lines:
    """Line and column (each from 1) of offsets into a text, from a table of where its lines
    start, made once: counting line breaks from the start for every problem made
    thousands of problems in one file take minutes."""

    def __init__(self, text: str) -> None:
        self._starts = [0, *(m.end() for m in re.finditer("\n", text))]

    def at(self, offset: int) -> tuple[int, int]:
        i = bisect_right(self._starts, offset) - 1
        return i + 1, offset - self._starts[i] + 1


HINTS_PER_FILE = 20  # of one code: then no more hints that cost a search (`add`)


class ProblemList:
    """Collects problems from every stage; levels can be overridden per code by the site."""

    def __init__(self, overrides: dict[str, Level | None] | None = None) -> None:
        self._items: list[Problem] = []
        self.overrides = overrides or {}
        self._hinted: Counter[tuple[str, str]] = Counter()

    def add(
        self,
        code: str,
        message: str,
        path: str,
        line: int = 1,
        col: int = 1,
        *,
        hint: str | Callable[[], str] = "",
        level: Level = Level.ERROR,
    ) -> None:
        """Record a problem unless the site switched its check off. A `hint` that costs a
        search (a "did you mean", over every article) may be given as a function: it is
        worked out for the first `HINTS_PER_FILE` problems of a code in a file only (20,000
        broken links in one file took four minutes to suggest for)."""
        if code in self.overrides:
            override = self.overrides[code]
            if override is None:
                return
            level = override
        if callable(hint):
            self._hinted[(path, code)] += 1
            hint = hint() if self._hinted[(path, code)] <= HINTS_PER_FILE else ""
        self._items.append(Problem(path, max(line, 1), max(col, 1), level, code, message, hint))

    def extend(self, problems: Iterable[Problem]) -> None:
        """Add problems made elsewhere (they go through the same overrides)."""
        for p in problems:
            self.add(p.code, p.message, p.path, p.line, p.col, hint=p.hint, level=p.level)

    def items(self) -> list[Problem]:
        """Every problem recorded, in the order found."""
        return list(self._items)

    def sorted(self) -> list[Problem]:
        """All problems, sorted by place then code, without duplicates."""
        return sorted(set(self._items))

    @property
    def errors(self) -> int:
        return sum(1 for p in set(self._items) if p.level is Level.ERROR)

    @property
    def warnings(self) -> int:
        return sum(1 for p in set(self._items) if p.level is Level.WARNING)

    @property
    def notices(self) -> int:
        return sum(1 for p in set(self._items) if p.level is Level.NOTICE)

    def demote(self, paths: Collection[str]) -> None:
        """Make every problem in the files `paths` (drafts: not published) a notice."""
        if paths:
            self._items = [dataclasses.replace(p, level=Level.NOTICE)
                           if p.path in paths and p.level is not Level.NOTICE else p
                           for p in self._items]

    def __len__(self) -> int:
        return len(set(self._items))


def did_you_mean(word: str, choices: Iterable[str]) -> str:
    """A 'did you mean …?' hint for a misspelt name, or an empty string."""
    if len(str(word)) > VALUE_MAX:
        return ""  # (nothing that long is a misspelling; difflib would take its time)
    close = difflib.get_close_matches(str(word), sorted(set(choices)), n=1, cutoff=0.6)
    return f"did you mean '{shown(close[0])}'?" if close else ""
