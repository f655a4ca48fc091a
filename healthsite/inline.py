"""Python-Markdown's inline pass without the patterns that cannot match.

Python-Markdown tries each of its ~15 inline patterns (links, emphasis, code, entities…) on
every run of text, in priority order, and profiles of an 800-word article show about half of
its time there, most of it trying patterns on text that holds none of their characters.
`SkippingInlineProcessor` is Python-Markdown's own `InlineProcessor` with one change: before a
text is processed, the patterns whose regular expression cannot match it are left out. Which
those are is worked out from each pattern's regular expression (`starts`): the strings one of
which every match begins with (`[` for links, `*` or `_` for emphasis, two spaces and a newline
for a line break). A pattern whose expression gives no such strings is always tried.

Leaving out a pattern that cannot match changes nothing: Python-Markdown would have searched,
found nothing and moved on to the next pattern (it only ever replaces matched text by
placeholders, so a text cannot gain a match later in the pass). The output is byte for byte
Python-Markdown's; `tests/test_markup.py` checks that on every article and on generated text.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as etree
from re import _constants as sre  # type: ignore[attr-defined]
from re import _parser as sre_parse  # type: ignore[attr-defined]
from typing import Any, cast

from markdown import util
from markdown.inlinepatterns import Pattern
from markdown.treeprocessors import InlineProcessor

_ZERO_WIDTH = {sre.AT, sre.ASSERT, sre.ASSERT_NOT}
_REPEATS = {sre.MAX_REPEAT, sre.MIN_REPEAT, getattr(sre, "POSSESSIVE_REPEAT", sre.MAX_REPEAT)}
_GROUPS = {sre.SUBPATTERN, getattr(sre, "ATOMIC_GROUP", sre.SUBPATTERN)}
_MOST_CHARS = 8  # a character class larger than this is not worth checking for


def starts(pattern: str | re.Pattern[str]) -> frozenset[str] | None:
    """Strings one of which every match of `pattern` begins with, or None when there are
    none worth checking for (a match may begin with almost anything, or be empty)."""
    if isinstance(pattern, re.Pattern):
        if pattern.flags & (re.IGNORECASE | re.VERBOSE):
            return None  # case folding would need every spelling of each string
        pattern = pattern.pattern
    try:
        found = _sequence(list(sre_parse.parse(pattern)))
    except (re.error, TypeError, ValueError, AttributeError):  # pragma: no cover
        return None
    if not found or "" in found:
        return None
    return frozenset(found)


def _sequence(items: list[tuple[Any, Any]]) -> set[str] | None:
    prefix = ""
    for op, arg in items:
        if op in _ZERO_WIDTH:
            if prefix:
                break  # a lookaround after the literal run: the run is still required
            continue  # consumes nothing: the match begins with what follows
        if op is sre.LITERAL:
            prefix += chr(arg)
            continue
        if prefix:
            break
        return _item(op, arg)
    return {prefix} if prefix else None


def _item(op: Any, arg: Any) -> set[str] | None:
    if op is sre.IN:
        chars: set[str] = set()
        for kind, value in arg:
            if kind is sre.LITERAL:
                chars.add(chr(value))
            elif kind is sre.RANGE and value[1] - value[0] < _MOST_CHARS:
                chars.update(chr(c) for c in range(value[0], value[1] + 1))
            else:
                return None  # negated or large classes, categories (\w, \s)
        return chars if len(chars) <= _MOST_CHARS else None
    if op is sre.BRANCH:
        found: set[str] = set()
        for alternative in arg[1]:
            some = _sequence(list(alternative))
            if some is None:
                return None
            found |= some
        return found
    if op in _GROUPS:
        return _sequence(list(arg[-1]))
    if op in _REPEATS and arg[0] >= 1:
        return _sequence(list(arg[2]))
    return None  # any character, a negated literal, a back reference, an optional item…


class SkippingInlineProcessor(InlineProcessor):
    """Python-Markdown's inline pass, trying on each text only the patterns that can match it
    (registered under Python-Markdown's own name for it, `inline`, in its place)."""

    def __init__(self, md: Any) -> None:
        super().__init__(md)
        self._patterns: list[Pattern] = []
        self._starts: list[frozenset[str] | None] = []
        self._strings: tuple[str, ...] = ()
        self._order: dict[frozenset[str], tuple[int, ...]] = {}

    def run(self, tree: etree.Element, ancestors: list[str] | None = None) -> etree.Element:
        patterns = list(self.inlinePatterns)
        if patterns != self._patterns:  # the first document, or patterns were registered
            self._patterns = patterns
            self._starts = [starts(p.getCompiledRegExp()) for p in patterns]
            self._strings = tuple(sorted({s for some in self._starts if some for s in some}))
            self._order = {}
        done: etree.Element = super().run(tree, ancestors)
        return done

    def _InlineProcessor__handleInline(self, data: str, patternIndex: int = 0) -> str:  # noqa: N802,N803 (the name it replaces)
        if isinstance(data, util.AtomicString):
            return cast(str, data)
        present = frozenset(s for s in self._strings if s in data)
        order = self._order.get(present)
        if order is None:
            order = self._order[present] = tuple(
                i for i, some in enumerate(self._starts) if some is None or some & present)
        apply = self._InlineProcessor__applyPattern
        patterns = self._patterns
        for i in order:
            if i < patternIndex:
                continue
            start = 0
            while True:
                data, matched, start = apply(patterns[i], data, i, start)
                if not matched:
                    break
        return data
