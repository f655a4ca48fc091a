"""Plain-language measure: the Flesch-Kincaid grade of an article's running text."""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass


@dataclass(frozen=True)
class Readability:
    """Flesch-Kincaid grade and word count of one article's running text."""

    grade: float
    words: int


_SENTENCE = re.compile(r"\b[^.!?]+[.!?]*", re.UNICODE)
_NON_CONTRACTION = re.compile(r"\'(?!(?:[tsd]|ve|ll|re))")
_PUNCTUATION = re.compile(r"[^\w\s\']")


def _words(text: str) -> list[str]:
    return _PUNCTUATION.sub("", _NON_CONTRACTION.sub("", text)).split()


@functools.lru_cache(maxsize=200_000)
def _syllables(word: str) -> int:
    """textstat's syllable count (CMU dictionary, then Pyphen), once per distinct word."""
    from textstat.backend.counts._count_syllables import (  # type: ignore[import-untyped]
        count_syllables,
    )

    return int(count_syllables(word, "en_US"))


@functools.lru_cache(maxsize=65536)
def reading_grade(text: str) -> Readability:
    """The Flesch-Kincaid grade of plain text.

    The same counts as textstat's flesch_kincaid_grade (its words, sentences and syllables),
    but syllables are looked up once per distinct word instead of once per occurrence, which
    makes it many times faster on a large site."""
    words = _words(text)
    if not words:
        return Readability(0.0, 0)
    sentences = _SENTENCE.findall(text)
    count = max(1, len(sentences) - sum(1 for s in sentences if len(_words(s)) <= 2))
    syllables = sum(_syllables(w.lower()) for w in words)
    grade = 0.39 * len(words) / count + 11.8 * syllables / len(words) - 15.59
    return Readability(round(grade, 1), len(words))


