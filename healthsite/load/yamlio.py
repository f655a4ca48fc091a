"""Strict YAML reading with line and column for every value.

PyYAML composes the node tree (which carries marks); we convert the nodes ourselves so that:
plain scalars follow YAML 1.2 core rules (`no`, `on`, `yes` stay strings; only true/false are
booleans), dates are checked for real calendar days, duplicate keys, aliases (billion-laughs
bombs), custom tags and very deep nesting are rejected with a position.
"""

from __future__ import annotations

import datetime as dt
import functools
import re
from collections.abc import Hashable
from dataclasses import dataclass
from typing import Any

import yaml
from yaml.events import AliasEvent
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

Key = tuple[Hashable, ...]
MAX_DEPTH = 50

_INT = re.compile(r"[-+]?(0|[1-9][0-9_]*)$")
_FLOAT = re.compile(r"[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?$")
_DATE = re.compile(r"(\d{4})-(\d{1,2})-(\d{1,2})$")
_DATELIKE = re.compile(r"\d{4}-\d{1,2}-\d{1,2}([Tt ].*)?$")
_STR = "tag:yaml.org,2002:str"
_RESOLVER = yaml.resolver.Resolver()
_NULL = {"", "~", "null", "Null", "NULL"}
_TRUE = {"true", "True", "TRUE"}
_FALSE = {"false", "False", "FALSE"}
_CONSTANTS: dict[str, bool | None] = {
    **dict.fromkeys(_NULL), **dict.fromkeys(_TRUE, True), **dict.fromkeys(_FALSE, False),
}
_STD_TAGS = {
    "tag:yaml.org,2002:str",
    "tag:yaml.org,2002:map",
    "tag:yaml.org,2002:seq",
    "tag:yaml.org,2002:int",
    "tag:yaml.org,2002:float",
    "tag:yaml.org,2002:bool",
    "tag:yaml.org,2002:null",
    "tag:yaml.org,2002:timestamp",
}


NUMBER_DIGITS = 100  # a plain number longer than this is kept as a HugeNumber


@dataclass(frozen=True)
class HugeNumber:
    """A plain scalar that reads as a whole number with more than NUMBER_DIGITS digits:
    nothing in a site is one (Python would not even convert one of 4,300 digits), so it is
    kept as its text for the schema to refuse where it is."""

    text: str

    def __str__(self) -> str:
        return f"a number with {len(self.text.lstrip('+-').replace('_', '')):,} digits"


class YamlError(Exception):
    """A YAML mistake at a 1-based line and column."""

    def __init__(self, message: str, line: int, col: int, hint: str = "",
                 code: str = "yaml") -> None:
        super().__init__(message)
        self.message, self.line, self.col, self.hint, self.code = message, line, col, hint, code


@dataclass(frozen=True)
class Located:
    """A parsed YAML document plus the (line, col) of every key path in it."""

    value: Any
    positions: dict[Key, tuple[int, int]]
    key_positions: dict[Key, tuple[int, int]]

    def at(self, *path: Hashable) -> tuple[int, int]:
        """Line and column of the value at `path`, or of its nearest parent."""
        p: Key = tuple(path)
        while p not in self.positions and p:
            p = p[:-1]
        return self.positions.get(p, (1, 1))

    def key_at(self, *path: Hashable) -> tuple[int, int]:
        """Line and column of the key that names `path` (for unknown-key errors)."""
        return self.key_positions.get(tuple(path), self.at(*path))


class _Loader(yaml.SafeLoader):
    def compose_node(self, parent: Node | None, index: Any) -> Node | None:
        if self.check_event(AliasEvent):
            mark = self.peek_event().start_mark  # type: ignore[no-untyped-call]
            raise YamlError(
                "YAML aliases (*name) are not allowed",
                mark.line + 1,
                mark.column + 1,
                "write the value out in full",
            )
        return super().compose_node(parent, index)


@functools.lru_cache(maxsize=1 << 16)
def _resolve(kind: Any, value: str | None, implicit: Any) -> str:
    """PyYAML's tag for a node, worked out once per distinct value: front matter repeats
    the same keys and many of the same values in every file."""
    return _RESOLVER.resolve(kind, value, implicit)  # type: ignore[no-any-return,no-untyped-call]


class _Fast(getattr(yaml, "CSafeLoader", yaml.SafeLoader)):  # type: ignore[misc]
    """libyaml's C parser when PyYAML was built with it (much faster); our own checks run
    on its nodes either way. A tag depends only on the node's kind and value (the safe
    loader has no path-based resolvers), so it is remembered."""

    def resolve(self, kind: Any, value: str | None, implicit: Any) -> str:
        return _resolve(kind, value, implicit)

    def descend_resolver(self, current_node: Any, current_index: Any) -> None:
        pass  # only path-based resolvers use it

    def ascend_resolver(self) -> None:
        pass


# (remembering tags relies on there being no path-based resolvers.) Aliases are found by the
# pure-Python composer above, which is only needed when the text could contain one.
_FAST = _Fast if hasattr(yaml, "CSafeLoader") and not _Fast.yaml_path_resolvers else None


def _compose(text: str) -> Node | None:
    if _FAST is not None and "*" not in text:
        try:
            return yaml.compose(text, Loader=_FAST)
        except yaml.YAMLError:
            pass  # PyYAML's own parser words its errors better: let it report
    return yaml.compose(text, Loader=_Loader)


def parse(text: str, line_offset: int = 0) -> Located:
    """Parse one YAML document; positions are shifted down by `line_offset` lines."""
    node = _composed(text, line_offset)
    converter = _Converter(line_offset)
    value = None if node is None else converter.convert(node, (), 0)
    return Located(value, converter.positions, converter.key_positions)


def _composed(text: str, line_offset: int) -> Node | None:
    """The node tree of a document; any mistake is raised as a YamlError at its place."""
    try:
        return _compose(text)
    except YamlError as e:
        raise YamlError(e.message, e.line + line_offset, e.col, e.hint, e.code) from None
    except yaml.MarkedYAMLError as e:
        raise _marked_error(e, line_offset) from None
    except yaml.YAMLError as e:
        raise YamlError(f"invalid YAML: {e}", 1 + line_offset, 1) from None
    except RecursionError:
        raise YamlError("YAML is nested too deeply", 1 + line_offset, 1) from None


def _marked_error(e: yaml.MarkedYAMLError, line_offset: int) -> YamlError:
    mark = e.problem_mark or e.context_mark
    line, col = (mark.line + 1, mark.column + 1) if mark else (1, 1)
    return YamlError(_describe(e), line + line_offset, col, _yaml_hint(e))


def _describe(e: yaml.MarkedYAMLError) -> str:
    problem = (e.problem or "invalid YAML").strip()
    if "mapping values are not allowed" in problem:
        return "invalid YAML: a ': ' inside an unquoted value"
    if "found character '\\t'" in problem or "\\t" in problem:
        return "invalid YAML: tab characters cannot indent YAML"
    return f"invalid YAML: {problem}"


def _yaml_hint(e: yaml.MarkedYAMLError) -> str:
    problem = e.problem or ""
    if "mapping values are not allowed" in problem:
        return 'put the value in double quotes: title: "Iron: what to know"'
    if "\\t" in problem:
        return "indent with spaces"
    if "expected <block end>" in problem or "could not find expected ':'" in problem:
        return "check the indentation and that every key ends with ':'"
    return ""


def _pos(node: Node, offset: int) -> tuple[int, int]:
    return node.start_mark.line + 1 + offset, node.start_mark.column + 1


class _Converter:
    """Turns a composed node tree into Python values, noting the position of every value
    and key on the way."""

    def __init__(self, offset: int) -> None:
        self.offset = offset  # lines before the document (a front matter's '---')
        self.positions: dict[Key, tuple[int, int]] = {}
        self.key_positions: dict[Key, tuple[int, int]] = {}

    def convert(self, node: Node, path: Key, depth: int) -> Any:
        line, col = _pos(node, self.offset)
        self.positions[path] = (line, col)
        _check_node(node, line, col, depth)
        if isinstance(node, ScalarNode):
            return _scalar(node, line, col)
        if isinstance(node, SequenceNode):
            return [self.convert(item, (*path, i), depth + 1) for i, item in enumerate(node.value)]
        assert isinstance(node, MappingNode)
        return self._mapping(node, path, depth)

    def _mapping(self, node: MappingNode, path: Key, depth: int) -> dict[Any, Any]:
        result: dict[Any, Any] = {}
        for key_node, value_node in node.value:
            key = self._key(key_node, path, result)
            result[key] = self.convert(value_node, (*path, key), depth + 1)
        return result

    def _key(self, key_node: Node, path: Key, result: dict[Any, Any]) -> Any:
        """A mapping key as text, its position noted; a mistake in it is raised."""
        kline, kcol = _pos(key_node, self.offset)
        if not isinstance(key_node, ScalarNode):
            raise YamlError("mapping keys must be plain text", kline, kcol)
        key = _scalar(key_node, kline, kcol)
        if not isinstance(key, str):
            key = str(key_node.value)
        if key in result:
            first = self.key_positions[(*path, key)][0]
            raise YamlError(f"duplicate key '{key}' (first given on line {first})", kline, kcol,
                            "remove one of them")
        self.key_positions[(*path, key)] = (kline, kcol)
        return key


def _check_node(node: Node, line: int, col: int, depth: int) -> None:
    """Refuse a node nested too deeply or with a tag of its own."""
    if depth > MAX_DEPTH:
        raise YamlError(f"YAML is nested more than {MAX_DEPTH} levels deep", line, col)
    if node.tag not in _STD_TAGS:
        raise YamlError(f"YAML tag {node.tag!r} is not allowed", line, col, "remove the tag")


_PLAIN: dict[tuple[str, str], Any] = {}  # plain scalars converted so far: (text, tag): value
_PLAIN_MAX = 100_000
_MISSING = object()


def _scalar(node: ScalarNode, line: int, col: int) -> Any:
    text = node.value
    if node.style:  # quoted or block scalar (libyaml says '' for plain, PyYAML None)
        return text
    key = (text, node.tag)
    value = _PLAIN.get(key, _MISSING)
    if value is _MISSING:  # (a mistake raises, and is not remembered)
        value = _plain(text, node.tag, line, col)
        if len(_PLAIN) < _PLAIN_MAX:
            _PLAIN[key] = value  # every value it can be is immutable
    return value


def _plain(text: str, tag: str, line: int, col: int) -> Any:
    resolved = _resolve(ScalarNode, text, (True, False))
    if tag == _STR and resolved != _STR:
        return text  # an explicit !!str tag
    if text in _CONSTANTS:
        return _CONSTANTS[text]
    number = _number(text)
    return number if number is not None else _date_or_text(text, line, col)


def _number(text: str) -> int | float | HugeNumber | None:
    """The number a plain scalar is, if it is one."""
    if _INT.match(text):
        digits = text.replace("_", "")
        return int(digits) if len(digits) <= NUMBER_DIGITS else HugeNumber(text)
    if _FLOAT.match(text) and any(ch.isdigit() for ch in text):
        return float(text)
    return None


def _date_or_text(text: str, line: int, col: int) -> dt.date | str:
    """The date a plain scalar is, or the scalar itself; a date that is wrong is raised."""
    m = _DATE.match(text)
    if m:
        try:
            return dt.date(int(m[1]), int(m[2]), int(m[3]))
        except ValueError:
            raise YamlError(
                f"'{text}' is not a real date", line, col, "use an existing day as YYYY-MM-DD",
                "bad-date") from None
    if _DATELIKE.match(text):
        raise YamlError(
            f"'{text}' is not a date in the form YYYY-MM-DD", line, col,
            "write dates as YYYY-MM-DD", "bad-date")
    return text
