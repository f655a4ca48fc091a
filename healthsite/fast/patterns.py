"""What every match of a regular expression must begin with, or contain, read from the
expression itself with `re`'s own parser. Python-Markdown tries many expressions on every
piece of text; a plain `in` test tells at once that most of them cannot match (`inline.py`,
`blocks.py`: the speed-up is theirs).

It reads expressions with `re`'s private parser (`re._parser`, `re._constants`, named so
since Python 3.11; `sre_parse` before), verified on Python 3.11.7. The gates of the two fast
paths that use it check Python's version and those names (`fast._re_parser`), and this
module is imported only when they pass."""

from __future__ import annotations

import re
from re import _constants as sre  # type: ignore[attr-defined]
from re import _parser as sre_parse  # type: ignore[attr-defined]
from typing import Any

_ZERO_WIDTH = {sre.AT, sre.ASSERT, sre.ASSERT_NOT}
_REPEATS = {sre.MAX_REPEAT, sre.MIN_REPEAT, getattr(sre, "POSSESSIVE_REPEAT", sre.MAX_REPEAT)}
_GROUPS = {sre.SUBPATTERN, getattr(sre, "ATOMIC_GROUP", sre.SUBPATTERN)}
_MOST_CHARS = 8  # a character class larger than this is not worth checking for


def starts(pattern: str | re.Pattern[str]) -> frozenset[str] | None:
    """Strings one of which every match of `pattern` begins with, or None when there are
    none worth checking for (a match may begin with almost anything, or be empty)."""
    items = _parsed(pattern)
    found = _sequence(items) if items is not None else None
    if not found or "" in found:
        return None
    return frozenset(found)


def _parsed(pattern: str | re.Pattern[str]) -> list[tuple[Any, Any]] | None:
    """The items of `pattern` as `re`'s parser reads them, or None when its strings cannot
    be relied on (case folding would need every spelling of each string)."""
    if isinstance(pattern, re.Pattern):
        if pattern.flags & (re.IGNORECASE | re.VERBOSE):
            return None
        pattern = pattern.pattern
    try:
        return list(sre_parse.parse(pattern))
    except (re.error, TypeError, ValueError, AttributeError):  # pragma: no cover
        return None


def _sequence(items: list[tuple[Any, Any]]) -> set[str] | None:
    """Strings one of which every match of `items` begins with, or None: the run of
    literals they begin with, else what their first item that consumes text begins with."""
    prefix = ""
    # (a lookaround consumes nothing: before the literal run, the match begins with what
    # follows it; after the run, the run is still required)
    for op, arg in items:
        if op is sre.LITERAL:
            prefix += chr(arg)
        elif prefix:
            break
        elif op not in _ZERO_WIDTH:
            return _item(op, arg)
    return {prefix} if prefix else None


def _item(op: Any, arg: Any) -> set[str] | None:
    """Strings one of which every match of one item (not a literal) begins with, or None."""
    if op is sre.IN:
        return _class_chars(arg)
    if op is sre.BRANCH:
        return _branch_starts(arg[1])
    # a group, a repeat of at least once; None for any character, a negated literal, a back
    # reference, an optional item… (nothing inside)
    return _sequence(_inside(op, arg))


def _class_chars(arg: Any) -> set[str] | None:
    """The characters of a small character class, or None (negated or large classes,
    categories such as \\w or \\s)."""
    chars: set[str] = set()
    for kind, value in arg:
        if kind is sre.LITERAL:
            chars.add(chr(value))
        elif kind is sre.RANGE and value[1] - value[0] < _MOST_CHARS:
            chars.update(chr(c) for c in range(value[0], value[1] + 1))
        else:
            return None
    return chars if len(chars) <= _MOST_CHARS else None


def _branch_starts(alternatives: Any) -> set[str] | None:
    """Strings one of which every match of one of `alternatives` begins with, or None."""
    found: set[str] = set()
    for alternative in alternatives:
        some = _sequence(list(alternative))
        if some is None:
            return None
        found |= some
    return found


def _inside(op: Any, arg: Any) -> list[tuple[Any, Any]]:
    """The items every match of a group, or of a repeat of at least once, is made of: none
    for any other item."""
    if op in _GROUPS:
        return list(arg[-1])
    if op in _REPEATS and arg[0] >= 1:
        return list(arg[2])
    return []


def required(pattern: str | re.Pattern[str]) -> tuple[frozenset[str], ...]:
    """Sets of strings such that every match of `pattern` contains a string of each set
    (empty when nothing is known to be required). A text lacking every string of one of the
    sets cannot hold a match."""
    items = _parsed(pattern)
    return tuple(_needs(items)) if items is not None else ()


def _needs(items: list[tuple[Any, Any]]) -> list[frozenset[str]]:
    found: list[frozenset[str]] = []
    run = ""  # literal characters next to each other in every match
    for op, arg in items:
        if op is sre.LITERAL:
            run += chr(arg)
            continue
        if run:
            found.append(frozenset({run}))
            run = ""
        found += _needs_item(op, arg)
    if run:
        found.append(frozenset({run}))
    return found


def _needs_item(op: Any, arg: Any) -> list[frozenset[str]]:
    if op is sre.IN:
        chars = _class_chars(arg)
        return [frozenset(chars)] if chars else []
    if op is sre.BRANCH:
        return _branch_needs(arg[1])
    if op is sre.ASSERT:  # a lookaround that must succeed: what it looks at is in the text
        return _needs(list(arg[1]))
    # a group, a repeat of at least once; nothing for a zero width item, any character, a
    # negated class, an optional item, a back reference
    return _needs(_inside(op, arg))


def _branch_needs(alternatives: Any) -> list[frozenset[str]]:
    """One of each alternative's first requirements (nothing when one has none)."""
    some: set[str] = set()
    for alternative in alternatives:
        needs = _needs(list(alternative))
        if not needs:
            return []
        some |= needs[0]
    return [frozenset(some)]
