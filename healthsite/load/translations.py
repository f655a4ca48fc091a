"""Stage 1 (load): the interface text of each edition, from gettext catalogues.

The theme's templates are written in English and mark every fixed string for translation
(`{{ _("Reading next") }}`, `{% trans %}...{% endtrans %}`: Jinja's i18n extension, new-style
gettext). A language's catalogue is a gettext `.po` file named by its code (`es.po`) or
its locale (`es-ES.po`, read over `es.po`): the theme's in `healthsite/theme/locale/`, and
the site's own in `templates/locale/`, whose entries win. Babel reads them (`read_po`) and
makes them the standard library's gettext objects (`write_mo` then `Translations`), which
choose plural forms by the language's rule in CLDR.

English needs no catalogue: the strings are English. For any other language, a string
the templates use that its catalogues do not translate is a `missing-translation` warning
naming the string and the language (`missing`), and the English is shown.
"""

from __future__ import annotations

import gettext
import hashlib
import io
import os
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, cast

import jinja2
import markupsafe

from ..errors import Level, ProblemList
from ..files import read_regular

THEME_LOCALE = Path(__file__).resolve().parent.parent / "theme" / "locale"
SITE_LOCALE = "templates/locale"  # a site's own catalogues, over the theme's


@dataclass(frozen=True)
class Catalogue:
    """One language's interface text: its gettext object, the strings it translates, the
    files it was read from and a digest of them (pages rendered with it depend on it)."""

    language: str
    translations: gettext.NullTranslations
    strings: frozenset[str] = frozenset()
    files: tuple[str, ...] = ()
    digest: str = ""
    english: bool = True
    problems: tuple[tuple[str, str, int], ...] = field(default=(), compare=False)

    def gettext(self, text: str) -> str:
        return self.translations.gettext(text)

    def ngettext(self, singular: str, plural: str, n: int) -> str:
        return self.translations.ngettext(singular, plural, n)


def english(language: str) -> bool:
    """Whether `language` (a code or locale: en, en-GB) is English, the templates' own."""
    return language.split("-")[0].split("_")[0].lower() == "en"


def candidates(language: str) -> list[str]:
    """The catalogue names for a language, most general first: es-ES gives es, es-ES."""
    base = language.split("-")[0].lower()
    return list(dict.fromkeys([base, language]))


def load_catalogue(root: Path, language: str, problems: ProblemList) -> Catalogue:
    """The catalogue of `language`: the theme's files, then the site's, each entry of a later
    file over the same entry of an earlier one (a file that cannot be read is reported)."""
    if english(language):
        return Catalogue(language, gettext.NullTranslations())
    from babel.messages.catalog import Catalog
    from babel.messages.mofile import write_mo

    merged = Catalog(locale=language.replace("-", "_"))
    files: list[str] = []
    digest = hashlib.sha256(language.encode())
    for path, shown in _files(root, language):
        catalog = _read(path, shown, language, problems)
        if catalog is None:
            continue
        files.append(shown)
        digest.update(shown.encode() + b"\0" + path.read_bytes())
        for message in catalog:
            if message.id and message.string and not message.fuzzy:
                if message.id in merged:  # (Babel would keep the first one's string)
                    del merged[message.id]
                merged[message.id] = message
    buffer = io.BytesIO()
    write_mo(buffer, merged)
    buffer.seek(0)
    strings = frozenset(m.id if isinstance(m.id, str) else m.id[0] for m in merged if m.id)
    return Catalogue(language, gettext.GNUTranslations(buffer), strings, tuple(files),
                     digest.hexdigest(), english=False)


def _files(root: Path, language: str) -> Iterable[tuple[Path, str]]:
    """The catalogue files of a language that exist, in the order they are read."""
    for folder, label in ((THEME_LOCALE, "theme/locale"), (root / SITE_LOCALE, SITE_LOCALE)):
        for name in candidates(language):
            path = folder / f"{name}.po"
            if path.is_file():
                yield path, f"{label}/{name}.po"


def _read(path: Path, shown: str, language: str, problems: ProblemList) -> Any:
    """One .po file as Babel reads it; None (reported) when it cannot be read."""
    from babel.messages.pofile import PoFileError, read_po

    try:
        data = read_regular(os.fspath(path))
        return read_po(io.BytesIO(data), locale=language.replace("-", "_"), abort_invalid=True)
    except (OSError, PoFileError, ValueError, UnicodeDecodeError) as e:
        problems.add("io", f"cannot read the catalogue: {e}", shown,
                     hint="check it with msgfmt --check, or write it again")
        return None


def missing(catalogue: Catalogue, used: dict[str, tuple[str, int]],
            problems: ProblemList) -> None:
    """Report each string in `used` (the string: where it is first used, file and line)
    that `catalogue` does not translate: `missing-translation`, once per string, or once
    for the whole language when it has no catalogue at all."""
    if catalogue.english:
        return
    lacking = [s for s in used if s not in catalogue.strings]
    if not lacking:
        return
    name = catalogue.language
    if not catalogue.files:
        problems.add("missing-translation", f"no catalogue for '{name}': its {len(lacking)} "
                     "interface strings are shown in English", f"{SITE_LOCALE}/{name}.po",
                     level=Level.WARNING,
                     hint=f"write {SITE_LOCALE}/{candidates(name)[0]}.po (see README.md, "
                     "'Adding a language')")
        return
    for text in sorted(lacking):
        where, line = used[text]
        problems.add("missing-translation", f"the {name} catalogue does not translate "
                     f"'{text}'", where, line, level=Level.WARNING,
                     hint=f"add msgid/msgstr for it to {SITE_LOCALE}/{candidates(name)[0]}.po")


def template_strings(env: jinja2.Environment, names: Iterable[str],
                     source: Callable[[str], tuple[str, str]]) -> dict[str, tuple[str, int]]:
    """Every string the templates `names` mark for translation, with where it is first
    used (`source(name)`: the template's text and how problems name its file)."""
    found: dict[str, tuple[str, int]] = {}
    for name in names:
        text, shown = source(name)
        try:
            extracted = list(cast(Any, env).extract_translations(text))  # (i18n's method)
        except jinja2.TemplateSyntaxError:
            continue  # (reported when the template is compiled)
        for line, _function, message in extracted:
            for m in message if isinstance(message, tuple) else (message,):
                if isinstance(m, str) and m:
                    found.setdefault(m, (shown, line))
    return found


def newstyle(catalogue: Catalogue) -> dict[str, Any]:
    """What a page's context needs for Jinja's i18n extension in new style (as Jinja's own
    `install_gettext_callables(newstyle=True)` makes them): `_`, `gettext` and `ngettext`
    that translate, escape under autoescape and fill %(name)s from keyword arguments."""

    @jinja2.pass_context
    def _gettext(context: jinja2.runtime.Context, text: str, /, **variables: Any) -> str:
        rv = catalogue.gettext(text)
        if context.eval_ctx.autoescape:
            rv = markupsafe.Markup(rv)
        return rv % variables

    @jinja2.pass_context
    def _ngettext(context: jinja2.runtime.Context, singular: str, plural: str, num: int,
                  /, **variables: Any) -> str:
        variables.setdefault("num", num)
        rv = catalogue.ngettext(singular, plural, num)
        if context.eval_ctx.autoescape:
            rv = markupsafe.Markup(rv)
        return rv % variables

    return {"_": _gettext, "gettext": _gettext, "ngettext": _ngettext}
