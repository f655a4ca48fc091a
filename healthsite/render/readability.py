"""Plain-language measure: the Flesch-Kincaid grade of an article's running text, as
textstat gives it (`textstat.flesch_kincaid_grade`, rounded to a tenth, and
`textstat.lexicon_count`).

The stock path asks textstat. The `readability` fast path (`healthsite.fast.syllables`)
gives the same numbers many times faster on a large site, and keeps the syllables it
counts between builds (the `syllables` memo: `learn`, `drain`, `known`; with the fast path
off the memo is kept as it was and not used).
"""

from __future__ import annotations

import functools
import math
from dataclasses import dataclass

from .. import fast
from ..fast import syllables


@dataclass(frozen=True)
class Readability:
    """Flesch-Kincaid grade and word count of one article's running text."""

    grade: float
    words: int


MEMO = "syllables"  # the name of the syllable memo in .cache/ (saves loading dictionaries)


FORMULAS = {"en": "Flesch-Kincaid grade", "es": "Crawford (years of schooling, Spanish)"}


def formula(language: str) -> str:
    """The readability formula used for a language (its code or locale), or "" when textstat
    has no grade-level formula for it (then no grade is given: an English formula on
    another language's text would mislead)."""
    return FORMULAS.get(language.split("-")[0].lower(), "")


def reading_grade(text: str, language: str = "en") -> Readability:
    """The reading grade (to a tenth) and the number of words of plain text: Flesch-Kincaid
    for English, Crawford's formula for Spanish (textstat's, in years of schooling), and no
    grade (NaN) for a language textstat has no grade formula for."""
    code = language.split("-")[0].lower()
    if code == "en":
        return _grade(text, fast.active("readability"))
    return _other(text, code)


@functools.lru_cache(maxsize=4096)
def _other(text: str, code: str) -> Readability:
    import textstat  # type: ignore[import-untyped]

    words = int(textstat.lexicon_count(text))
    if code != "es" or not words:
        return Readability(math.nan, words)
    textstat.set_lang("es")  # (textstat's language is global: set back at once)
    try:
        return Readability(round(float(textstat.crawford(text)), 1), words)
    finally:
        textstat.set_lang("en_US")


@functools.lru_cache(maxsize=65536)
def _grade(text: str, quick: bool) -> Readability:
    if quick:
        return Readability(*syllables.grade(text))
    import textstat

    words = int(textstat.lexicon_count(text))
    if not words:
        return Readability(0.0, 0)
    return Readability(round(float(textstat.flesch_kincaid_grade(text)), 1), words)


def preload() -> None:
    """Load what counting syllables needs now (before forking workers that will need it):
    the CMU dictionary, read directly by the fast path, or through textstat (with Pyphen's
    tables) by the stock one. With the fast path, textstat and Pyphen's tables (0.17 s) are
    loaded only for a word the dictionary lacks: the words of many sites are all in it."""
    if fast.active("readability"):
        syllables.preload()
    else:
        import textstat

        textstat.syllable_count("preload")


def ready() -> None:
    """Load now what the stock path needs for any grade at all (textstat and its whole
    dictionary, about 0.7 s), so that no article's render budget pays for it (the fast path
    needs nothing until it meets a word it has not counted, and reads its dictionary in
    0.1 s)."""
    if not fast.active("readability"):
        preload()


def learn(table: dict[str, int]) -> None:
    """Words counted by earlier builds (see `fast.syllables.learn`)."""
    syllables.learn(table)


def drain() -> dict[str, int]:
    """The words counted since the last call (for a worker to hand back to the build)."""
    return syllables.drain()


def known() -> dict[str, int]:
    """Every word counted so far, with its syllables."""
    return syllables.known()
