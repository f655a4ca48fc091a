"""Declared schemas for YAML data (site.yaml, front matter, glossary) with located errors.

A schema is a mapping of key -> Field. `Checker.check()` walks parsed YAML against it and
reports every unknown key, missing key and wrong type at once, each with its line and column.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from ..errors import did_you_mean, shown
from .yamlio import HugeNumber, Key, Located

Report = Callable[[str, str, int, int, str], None]  # code, message, line, col, hint
Fault = tuple[str, str]  # what is wrong with a value, and the hint to fix it


@dataclass(frozen=True)
class Field:
    """One key of a schema: its kind, whether it is required, its default and its meaning."""

    kind: str  # str | int | number | bool | date | list | map | model | model_list | choice
    doc: str
    required: bool = False
    default: Any = None
    model: dict[str, Field] | None = None
    item: str = "str"  # the kind of each element of a list or map value
    choices: tuple[str, ...] = ()
    minimum: float | None = None
    maximum: float | None = None

    def of_items(self) -> Field:
        """The field each element of a list or map value is checked against."""
        return Field(self.item, self.doc, choices=self.choices)


_TYPE_NAMES = {
    "str": "text",
    "int": "a whole number",
    "number": "a number",
    "bool": "true or false",
    "date": "a date (YYYY-MM-DD)",
    "list": "a list",
    "map": "a mapping of keys to values",
    "model": "a mapping",
    "model_list": "a list of mappings",
    "choice": "one of the allowed values",
}


@dataclass(frozen=True)
class Checker:
    """Checks one parsed YAML document: `loc` gives the positions, `report` takes each
    problem, and `prefix` starts every problem code ('config', 'fm', 'glossary')."""

    loc: Located
    report: Report
    prefix: str

    def check(self, data: Any, schema: dict[str, Field], path: Key, what: str) -> dict[str, Any]:
        """Validate a mapping; return the valid values with defaults filled in. (Positions are
        looked up only to report a problem: a valid file, the usual case, needs none.)"""
        if not isinstance(data, dict):
            self._wrong_type(path, f"{what} must be a mapping of keys to values, not "
                             f"{_name(data)}", "write one 'key: value' per line")
            return {k: _fallback(f) for k, f in schema.items() if not f.required}
        self._unknown_keys(data, schema, path, what)
        out: dict[str, Any] = {}
        for key, f in schema.items():
            if key not in data or data[key] is None:
                self._missing(data, key, f, path, what)
                out[key] = _fallback(f)
            else:
                out[key] = self._value(data[key], f, (*path, key), f"'{key}'")
        return out

    def _unknown_keys(self, data: dict[Any, Any], schema: dict[str, Field], path: Key,
                      what: str) -> None:
        for key in data:
            if key not in schema:
                kline, kcol = self.loc.key_at(*path, key)
                hint = did_you_mean(key, schema) or f"known keys: {', '.join(sorted(schema))}"
                self.report(f"{self.prefix}-unknown-key",
                            f"unknown key '{shown(str(key))}' in {what}", kline, kcol, hint)

    def _missing(self, data: dict[Any, Any], key: str, f: Field, path: Key, what: str) -> None:
        """Report a required key that is absent or empty (an optional one may be either)."""
        if not f.required:
            return
        if key not in data:
            line, col = self.loc.at(*path)
            self.report(f"{self.prefix}-missing", f"missing required key '{key}' in {what}",
                        line, col, f"add '{key}:', {f.doc}")
        else:
            kline, kcol = self.loc.key_at(*path, key)
            self.report(f"{self.prefix}-missing", f"'{key}' is empty in {what}", kline, kcol,
                        f"fill in {f.doc}")

    def _wrong_type(self, path: Key, message: str, hint: str) -> None:
        self.report(f"{self.prefix}-type", message, *self.loc.at(*path), hint)

    def _value(self, value: Any, f: Field, path: Key, what: str) -> Any:
        """The checked value of one key (or item); its field's fallback when it is wrong."""
        take = _TAKE.get(f.kind)
        if take is not None:
            return take(self, value, f, path, what)
        return value if self._ok(value, f, path, what) else _fallback(f)

    def _model(self, value: Any, f: Field, path: Key, what: str) -> dict[str, Any]:
        assert f.model is not None
        return self.check(value, f.model, path, what)

    def _model_list(self, value: Any, f: Field, path: Key, what: str) -> list[Any]:
        assert f.model is not None
        if not isinstance(value, list):
            self._wrong_type(path, f"{what} must be a list, not {_name(value)}",
                             "start each item on its own line with '- '")
            return []
        return [self.check(v, f.model, (*path, i), f"{what} item {i + 1}")
                for i, v in enumerate(value)]

    def _list(self, value: Any, f: Field, path: Key, what: str) -> list[Any]:
        if isinstance(value, str) and f.item == "str":
            value = [value]  # a single value where a list is expected: accept it
        if not isinstance(value, list):
            self._wrong_type(path, f"{what} must be a list, not {_name(value)}",
                             "write [a, b] or one '- item' per line")
            return []
        item = f.of_items()
        return [v for i, v in enumerate(value)
                if self._ok(v, item, (*path, i), f"{what} item {i + 1}")]

    def _map(self, value: Any, f: Field, path: Key, what: str) -> dict[Any, Any]:
        if not isinstance(value, dict):
            self._wrong_type(path, f"{what} must be a mapping, not {_name(value)}", "")
            return {}
        item = f.of_items()
        return {k: v for k, v in value.items()
                if self._ok(v, item, (*path, k), f"{what} '{shown(str(k))}'")}

    def _ok(self, value: Any, f: Field, path: Key, what: str) -> bool:
        """Whether a scalar fits its field; report it when it does not."""
        for rule in _RULES:
            problem = rule(value, f, what)
            if problem is not None:
                self._wrong_type(path, *problem)
                return False
        return True


# how the container and nested kinds are checked; every other kind is a scalar (_ok)
_TAKE: dict[str, Callable[[Checker, Any, Field, Key, str], Any]] = {
    "model": Checker._model,
    "model_list": Checker._model_list,
    "list": Checker._list,
    "map": Checker._map,
}

_GOOD: dict[str, Callable[[Any, Field], bool]] = {
    "str": lambda v, f: isinstance(v, str),
    "int": lambda v, f: isinstance(v, int) and not isinstance(v, bool),
    "number": lambda v, f: isinstance(v, (int, float)) and not isinstance(v, bool),
    "bool": lambda v, f: isinstance(v, bool),
    "date": lambda v, f: isinstance(v, dt.date),
    "choice": lambda v, f: isinstance(v, str) and v in f.choices,
}


def _huge(value: Any, f: Field, what: str) -> Fault | None:
    if not isinstance(value, HugeNumber) or f.kind not in ("int", "number"):
        return None
    limit = f"at most {f.maximum:g}" if f.maximum is not None else "a shorter number"
    return f"{what} must be {limit}, not {value}", ""


def _wrong_kind(value: Any, f: Field, what: str) -> Fault | None:
    if _GOOD[f.kind](value, f):
        return None
    hint = _hint(value, f)
    return f"{what} must be {_TYPE_NAMES[f.kind]}, not {_show(value)}", hint


def _not_finite(value: Any, f: Field, what: str) -> Fault | None:
    if f.kind == "number" and not math.isfinite(value):
        return f"{what} must be a finite number, not {_show(value)}", ""
    return None


def _too_small(value: Any, f: Field, what: str) -> Fault | None:
    if f.minimum is not None and value < f.minimum:
        return f"{what} must be at least {f.minimum:g}, not {value}", ""
    return None


def _too_big(value: Any, f: Field, what: str) -> Fault | None:
    if f.maximum is not None and value > f.maximum:
        return f"{what} must be at most {f.maximum:g}, not {value}", ""
    return None


def _blank(value: Any, f: Field, what: str) -> Fault | None:
    if f.kind == "str" and not value.strip():
        return f"{what} must not be empty", f"fill in {f.doc}"
    return None


# what can be wrong with a scalar, in the order it is checked: the first problem is reported
# (the later rules rely on the value having the right type)
_RULES: tuple[Callable[[Any, Field, str], Fault | None], ...] = (
    _huge, _wrong_kind, _not_finite, _too_small, _too_big, _blank,
)


def _choice_hint(value: Any, f: Field) -> str:
    return did_you_mean(str(value), f.choices) or f"use one of: {', '.join(f.choices)}"


def _bool_hint(value: Any, f: Field) -> str:
    yaml11 = isinstance(value, str) and value.lower() in {"yes", "no", "on", "off"}
    return "write true or false" if yaml11 else ""


def _str_hint(value: Any, f: Field) -> str:
    unquoted = isinstance(value, (bool, int, float, dt.date))
    return "put the value in double quotes" if unquoted else ""


def _date_hint(value: Any, f: Field) -> str:
    return "write the date as YYYY-MM-DD, unquoted" if isinstance(value, str) else ""


_HINTS: dict[str, Callable[[Any, Field], str]] = {
    "choice": _choice_hint, "bool": _bool_hint, "str": _str_hint, "date": _date_hint,
}


def _hint(value: Any, f: Field) -> str:
    """How to fix a value of the wrong type, when there is a usual mistake behind it."""
    hint = _HINTS.get(f.kind)
    return hint(value, f) if hint is not None else ""


def _fallback(f: Field) -> Any:
    if f.kind == "model" and f.model is not None:
        return {k: _fallback(sub) for k, sub in f.model.items()}
    return f.default() if callable(f.default) else f.default


def _name(value: Any) -> str:
    if value is None:
        return "empty"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, dict):
        return "a mapping"
    if isinstance(value, bool):
        return f"{str(value).lower()}"
    return "text" if isinstance(value, str) else f"{value!r}"


def _show(value: Any) -> str:
    if isinstance(value, (list, dict)) or value is None:
        return _name(value)
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, dt.date):
        return f"the date {value.isoformat()}"
    if isinstance(value, str):
        return f"'{shown(value)}'"
    return shown(str(value))
