"""Jinja with quicker output escaping and attribute lookup on the pages' views.

Replaces, for the site's templates (`templating.load_templates`):

- Jinja's `CodeGenerator._output_child_pre` (private): for `{{ value }}` under autoescape
  Jinja's compiled code calls `escape(value)`, which makes a `markupsafe.Markup` object only
  to be joined into the page. `CodeGenerator` writes `environment.escape_output(value)`
  instead, whose `escape_output` gives markupsafe.escape's text for a plain string (1.3 us
  through markupsafe, 0.3 us here) and hands anything else to markupsafe.
- `Environment.getattr`: Jinja tries `view.name` as an attribute first and takes the item
  when that raises AttributeError, about 150 times per article page, a third of rendering
  it. For a plain dict the answer is known beforehand (an attribute only for dict's own
  names), so the result is exactly Jinja's.

- The i18n extension's `_` (its `_gettext_alias`, a public global): `{{ _("Home") }}` on an
  English page (whose context brings no catalogue of its own) goes through three of Jinja's
  `Context.call`s, a `Markup` and a `%` with no values, about 15 times a page. `quick_gettext`
  puts in its place a `_` that gives, for a plain string without values under the
  environment's own newstyle `gettext` (English's, `install_null_translations`), what that
  path gave the first time; anything else takes Jinja's path.

Together about a third of rendering an article page: with them off, a cold build of 1,000
synthetic articles takes 8% more CPU (bench/README.md, "Fast paths"). Verified on Jinja
3.1.4 and 3.1.6 with MarkupSafe 2.1.0 and 3.0.4 (the gate, `fast.GATES["jinja"]`, checks the
version, the private method's parameters, and that markupsafe.escape still writes what
`escape_output` writes). Templates compiled here call `environment.escape_output`, which
Jinja's own environment lacks: they are kept in the bytecode cache under their own file
names (`Environment.bytecode_pattern`).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import jinja2
import jinja2.compiler
import jinja2.nodes
import markupsafe

_DICT_NAMES = frozenset(dir(dict))


def escape_output(value: Any) -> Any:
    """What autoescaping writes for a `{{ value }}`: markupsafe.escape's text, made for a
    plain string without a Markup object (Jinja joins the pieces into one string anyway;
    a captured block is made Markup as a whole). Anything else goes to markupsafe."""
    if type(value) is str:
        return (value.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
                .replace("'", "&#39;").replace('"', "&#34;"))
    return markupsafe.escape(value)


def escapes_as_markupsafe() -> bool:
    """Whether `escape_output` writes what the installed markupsafe.escape writes."""
    sample = "a&b<c>d'e\"f&amp;\u00e9\x00"
    return bool(escape_output(sample) == str(markupsafe.escape(sample)))


class CodeGenerator(jinja2.compiler.CodeGenerator):
    """Jinja's compiler, writing `escape_output` where it writes `escape` for output."""

    def _output_child_pre(self, node: jinja2.nodes.Expr, frame: jinja2.compiler.Frame,
                          finalize: Any) -> None:
        if frame.eval_ctx.autoescape and not frame.eval_ctx.volatile:
            self.write("environment.escape_output(")  # (every template function has it)
            if finalize.src is not None:
                self.write(finalize.src)
            return
        super()._output_child_pre(node, frame, finalize)


class Environment(jinja2.Environment):
    """Jinja's environment, with `view.name` on the views (plain dicts) found without an
    exception, and output escaped by `escape_output` (see the module)."""

    code_generator_class = CodeGenerator
    escape_output = staticmethod(escape_output)
    # compiled templates' file names in a bytecode cache (Jinja's own: "__jinja2_%s.cache")
    bytecode_pattern = "__jinja2_%s.fast.cache"

    def getattr(self, obj: Any, attribute: str) -> Any:
        if type(obj) is dict and attribute not in _DICT_NAMES:
            try:
                return obj[attribute]
            except KeyError:
                return self.undefined(obj=obj, name=attribute)
        return super().getattr(obj, attribute)


def quick_gettext(env: jinja2.Environment) -> None:
    """Put a `_` that remembers its answers in place of the i18n extension's (see the
    module); call it once the environment's translations are installed."""
    stock: Callable[..., Any] = env.globals["_"]  # type: ignore[assignment]
    gettext = env.globals["gettext"]
    known: dict[tuple[str, bool], Any] = {}

    @jinja2.pass_context
    def underscore(context: jinja2.runtime.Context, *args: Any, **kwargs: Any) -> Any:
        if kwargs or len(args) != 1 or type(args[0]) is not str \
                or context.resolve("gettext") is not gettext:
            return context.call(stock, *args, **kwargs)
        key = (args[0], context.eval_ctx.autoescape)
        found = known.get(key)
        if found is None:
            found = known[key] = context.call(stock, *args)
        return found

    env.globals["_"] = underscore
