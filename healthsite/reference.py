"""`healthsite reference`: every setting an editor can write, made from the declared schemas.

Owns the text of the reference (Markdown): site.yaml's keys (`load.config.SCHEMA`, with
the topics' keys), an article's front matter (`load.frontmatter.SCHEMA`, with the sources'
keys), a glossary entry's keys, and the checks `checks:` may set (`catalogue.CHECKS`). The
page is made from the same declarations the build checks against, so it cannot drift from
them (`docs/reference.md` is this output; a test compares the two)."""

from __future__ import annotations

from collections.abc import Iterator

from .catalogue import ALWAYS_ERRORS, CHECKS
from .load import config, frontmatter
from .load.content import GLOSSARY_ITEM
from .load.schema import _TYPE_NAMES, Field

INTRO = """\
# Settings reference

Every key healthsite reads, made from the schemas the build checks against
(`healthsite reference` prints this page). An unknown key, a missing required key or a
value of the wrong kind is an error at its file, line and column, with the nearest known key
suggested.
"""


def reference() -> str:
    """The whole reference, as Markdown."""
    parts = [INTRO]
    parts += _section("site.yaml", "The site's settings, in `site.yaml` at the site's root.",
                      config.SCHEMA)
    parts += _section("Front matter", "The YAML block between `---` lines at the top of each "
                      "file in `content/`.", frontmatter.SCHEMA)
    parts += _section("Glossary entries", "Each item of the list in `content/glossary.yaml`.",
                      GLOSSARY_ITEM)
    parts += ["## Checks\n", "Each check's default level. `checks:` in site.yaml may set a "
              "check to `error`, `warning` or `off`, except those marked *always an error* "
              "(they leave a page or file out of the site).\n",
              "| check | default | what it finds |", "| --- | --- | --- |"]
    parts += [f"| `{code}` | {_level(code)} | {_cell(meaning)} |"
              for code, (_, meaning) in sorted(CHECKS.items())]
    return "\n".join(parts) + "\n"


def _section(title: str, intro: str, schema: dict[str, Field]) -> list[str]:
    return [f"## {title}\n", intro + "\n", "| key | value | required | default | meaning |",
            "| --- | --- | --- | --- | --- |", *_rows(schema, ""), ""]


def _rows(schema: dict[str, Field], prefix: str) -> Iterator[str]:
    for key, f in schema.items():
        name = f"{prefix}{key}"
        yield (f"| `{name}` | {_kind(f)} | {'yes' if f.required else 'no'} | {_default(f)} "
               f"| {_cell(f.doc)} |")
        if f.model:
            yield from _rows(f.model, f"{name}[]." if f.kind == "model_list" else f"{name}.")


def _kind(f: Field) -> str:
    """What a value must be, in words: "a whole number, at least 1", "one of `a`, `b`"."""
    if f.kind == "choice":
        return "one of " + _choices(f)
    if f.kind in ("list", "map") and (f.choices or f.item != "str"):
        return f"{_TYPE_NAMES[f.kind]} of " + (_choices(f) or _TYPE_NAMES[f.item])
    bounds = [f"at least {_number(f.minimum)}" if f.minimum is not None else "",
              f"at most {_number(f.maximum)}" if f.maximum is not None else ""]
    return ", ".join([_TYPE_NAMES[f.kind], *filter(None, bounds)])


def _choices(f: Field) -> str:
    return ", ".join(f"`{c}`" for c in f.choices)


def _default(f: Field) -> str:
    if f.required or f.model:
        return ""
    value = f.default() if callable(f.default) else f.default
    if value is None:
        return "none"
    if isinstance(value, bool):
        return f"`{str(value).lower()}`"
    return f"`{value}`" if value not in ([], {}) else "empty"


def _number(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else str(value)


def _level(code: str) -> str:
    if code in ALWAYS_ERRORS:
        return "always an error"
    return CHECKS[code][0].name.lower()


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")
