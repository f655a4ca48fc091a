"""Declared schemas for YAML data (site.yaml, front matter, glossary) with located errors.

A schema is a mapping of key -> Field. `check()` walks parsed YAML against it and reports
every unknown key, missing key and wrong type at once, each with its line and column.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Callable, Hashable
from dataclasses import dataclass
from typing import Any

from ..errors import did_you_mean, shown
from .yamlio import HugeNumber, Located

Report = Callable[[str, str, int, int, str], None]  # code, message, line, col, hint


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


def check(
    data: Any, schema: dict[str, Field], loc: Located, path: tuple[Hashable, ...],
    report: Report, prefix: str, what: str,
) -> dict[str, Any]:
    """Validate a mapping; return the valid values with defaults filled in. (Positions are
    looked up only to report a problem: a valid file, the usual case, needs none.)"""
    if not isinstance(data, dict):
        line, col = loc.at(*path)
        report(f"{prefix}-type", f"{what} must be a mapping of keys to values, not {_name(data)}",
               line, col, "write one 'key: value' per line")
        return {k: _fallback(f) for k, f in schema.items() if not f.required}
    out: dict[str, Any] = {}
    for key in data:
        if key not in schema:
            kline, kcol = loc.key_at(*path, key)
            hint = did_you_mean(key, schema) or f"known keys: {', '.join(sorted(schema))}"
            report(f"{prefix}-unknown-key", f"unknown key '{shown(str(key))}' in {what}", kline,
                   kcol, hint)
    for key, f in schema.items():
        if key not in data or data[key] is None:
            if f.required and key not in data:
                line, col = loc.at(*path)
                report(f"{prefix}-missing", f"missing required key '{key}' in {what}",
                       line, col, f"add '{key}:', {f.doc}")
            elif f.required:
                kline, kcol = loc.key_at(*path, key)
                report(f"{prefix}-missing", f"'{key}' is empty in {what}", kline, kcol,
                       f"fill in {f.doc}")
            out[key] = _fallback(f)
            continue
        out[key] = _value(data[key], f, loc, (*path, key), report, prefix, f"'{key}'")
    return out


def _value(
    value: Any, f: Field, loc: Located, path: tuple[Hashable, ...], report: Report,
    prefix: str, what: str,
) -> Any:
    if f.kind == "model":
        assert f.model is not None
        return check(value, f.model, loc, path, report, prefix, what)
    if f.kind == "model_list":
        assert f.model is not None
        if not isinstance(value, list):
            report(f"{prefix}-type", f"{what} must be a list, not {_name(value)}",
                   *loc.at(*path), "start each item on its own line with '- '")
            return []
        return [check(v, f.model, loc, (*path, i), report, prefix, f"{what} item {i + 1}")
                for i, v in enumerate(value)]
    if f.kind == "list":
        if isinstance(value, str) and f.item == "str":
            value = [value]  # a single value where a list is expected: accept it
        if not isinstance(value, list):
            report(f"{prefix}-type", f"{what} must be a list, not {_name(value)}",
                   *loc.at(*path), "write [a, b] or one '- item' per line")
            return []
        item = Field(f.item, f.doc, choices=f.choices)
        return [v for i, v in enumerate(value)
                if _ok(v, item, loc, (*path, i), report, prefix, f"{what} item {i + 1}")]
    if f.kind == "map":
        if not isinstance(value, dict):
            report(f"{prefix}-type", f"{what} must be a mapping, not {_name(value)}",
                   *loc.at(*path), "")
            return {}
        item = Field(f.item, f.doc, choices=f.choices)
        return {k: v for k, v in value.items()
                if _ok(v, item, loc, (*path, k), report, prefix, f"{what} '{shown(str(k))}'")}
    return value if _ok(value, f, loc, path, report, prefix, what) else _fallback(f)


_GOOD: dict[str, Callable[[Any, Field], bool]] = {
    "str": lambda v, f: isinstance(v, str),
    "int": lambda v, f: isinstance(v, int) and not isinstance(v, bool),
    "number": lambda v, f: isinstance(v, (int, float)) and not isinstance(v, bool),
    "bool": lambda v, f: isinstance(v, bool),
    "date": lambda v, f: isinstance(v, dt.date),
    "choice": lambda v, f: isinstance(v, str) and v in f.choices,
}


def _ok(value: Any, f: Field, loc: Located, path: tuple[Hashable, ...], report: Report,
        prefix: str, what: str) -> bool:
    if isinstance(value, HugeNumber) and f.kind in ("int", "number"):
        limit = f"at most {f.maximum:g}" if f.maximum is not None else "a shorter number"
        report(f"{prefix}-type", f"{what} must be {limit}, not {value}", *loc.at(*path), "")
        return False
    if not _GOOD[f.kind](value, f):
        hint = _hint(value, f)
        report(f"{prefix}-type", f"{what} must be {_TYPE_NAMES[f.kind]}, not {_show(value)}",
               *loc.at(*path), hint)
        return False
    if f.kind == "number" and not math.isfinite(value):
        report(f"{prefix}-type", f"{what} must be a finite number, not {_show(value)}",
               *loc.at(*path), "")
        return False
    if f.minimum is not None and value < f.minimum:
        report(f"{prefix}-type", f"{what} must be at least {f.minimum:g}, not {value}",
               *loc.at(*path), "")
        return False
    if f.maximum is not None and value > f.maximum:
        report(f"{prefix}-type", f"{what} must be at most {f.maximum:g}, not {value}",
               *loc.at(*path), "")
        return False
    if f.kind == "str" and not value.strip():
        report(f"{prefix}-type", f"{what} must not be empty", *loc.at(*path),
               f"fill in {f.doc}")
        return False
    return True


def _hint(value: Any, f: Field) -> str:
    if f.kind == "choice":
        return did_you_mean(str(value), f.choices) or f"use one of: {', '.join(f.choices)}"
    if f.kind == "bool" and isinstance(value, str) and value.lower() in {"yes", "no", "on", "off"}:
        return "write true or false"
    if f.kind == "str" and isinstance(value, (bool, int, float, dt.date)):
        return "put the value in double quotes"
    if f.kind == "date" and isinstance(value, str):
        return "write the date as YYYY-MM-DD, unquoted"
    return ""


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
