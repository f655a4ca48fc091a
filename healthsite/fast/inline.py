"""Python-Markdown's inline pass without the patterns that cannot match.

Python-Markdown tries each of its ~15 inline patterns (links, emphasis, code, entities…) on
every run of text, in priority order, and profiles of an 800-word article show about half of
its time there, most of it trying patterns on text that holds none of their characters.
`SkippingInlineProcessor` is Python-Markdown's own `InlineProcessor` with one change: before a
text is processed, the patterns whose regular expression cannot match it are left out. Which
those are is worked out from each pattern's regular expression (`starts`): the strings one of
which every match begins with (`[` for links, `*` or `_` for emphasis, two spaces and a newline
for a line break). A pattern whose expression gives no such strings is always tried.

Leaving out a pattern that cannot match changes nothing: Python-Markdown would have searched,
found nothing and moved on to the next pattern (it only ever replaces matched text by
placeholders, so a text cannot gain a match later in the pass). Likewise, in a document that
defines no link references (`[id]: url`), the four reference patterns are left out: they find
an id, see it undefined and leave the text as it was. The output is byte for byte
Python-Markdown's; `tests/test_fast_paths.py` checks that on every article, a synthetic
corpus and generated text.

What it replaces: Python-Markdown's `InlineProcessor` (registered as `inline`), by
overriding its private `_InlineProcessor__handleInline` and calling its private
`_InlineProcessor__applyPattern`, and its `UnescapeTreeprocessor` (`unescape`). Why: with it
off, a cold build of 1,000 synthetic articles takes 18% more CPU (bench/README.md, "Fast
paths"). Verified on Markdown 3.11.0 and 3.11.3 with Python 3.11.7. A renamed private method
once gave wrong HTML with no error (issue 17: the override was never called, so
`QuickUnescape` saw no backslash and `5\\* stars` kept a placeholder); so its gate
(`fast.GATES["markdown-inline"]`) checks Markdown's version, both private methods and the
parameters it passes them, and `re`'s private parser (`patterns.py`), and leaves
Python-Markdown's own pass otherwise.
"""

from __future__ import annotations

import xml.etree.ElementTree as etree
from typing import Any, cast

from markdown import util
from markdown.inlinepatterns import Pattern, ReferenceInlineProcessor
from markdown.treeprocessors import InlineProcessor, UnescapeTreeprocessor

from .patterns import starts


class SkippingInlineProcessor(InlineProcessor):
    """Python-Markdown's inline pass, trying on each text only the patterns that can match it
    (registered under Python-Markdown's own name for it, `inline`, in its place)."""

    def __init__(self, md: Any) -> None:
        super().__init__(md)
        self._patterns: list[Pattern] = []
        self._starts: list[frozenset[str] | None] = []
        self._strings: tuple[str, ...] = ()
        self._order: dict[tuple[frozenset[str], bool], tuple[int, ...]] = {}
        self._references: frozenset[int] = frozenset()
        self._defined = True  # whether the document defines link references
        self.backslash = False

    def run(self, tree: etree.Element, ancestors: list[str] | None = None) -> etree.Element:
        patterns = list(self.inlinePatterns)
        if patterns != self._patterns:  # the first document, or patterns were registered
            self._learn(patterns)
        self._defined = bool(self.md.references)  # (the block parser has found them all)
        self.backslash = False  # whether a text of this document had one (see QuickUnescape)
        done: etree.Element = super().run(tree, ancestors)
        return done

    def _learn(self, patterns: list[Pattern]) -> None:
        """Read what each of `patterns` can begin with, and forget the orders worked out
        for the patterns before."""
        self._patterns = patterns
        self._starts = [starts(p.getCompiledRegExp()) for p in patterns]
        self._strings = tuple(sorted({s for some in self._starts if some for s in some}))
        self._references = frozenset(i for i, p in enumerate(patterns) if _only_references(p))
        self._order = {}

    def _InlineProcessor__handleInline(self, data: str, patternIndex: int = 0) -> str:  # noqa: N802,N803 (the name it replaces)
        if isinstance(data, util.AtomicString):
            return cast(str, data)
        if "\\" in data:
            self.backslash = True
        apply = self._InlineProcessor__applyPattern
        for i in self._order_for(data):
            if i < patternIndex:
                continue
            pattern, matched, start = self._patterns[i], True, 0
            while matched:  # (Python-Markdown's own loop: again after each match)
                data, matched, start = apply(pattern, data, i, start)
        return data

    def _order_for(self, data: str) -> tuple[int, ...]:
        """The indexes of the patterns that may match `data`, in order (worked out once for
        each set of strings present and whether references are defined)."""
        present = frozenset(s for s in self._strings if s in data)
        order = self._order.get((present, self._defined))
        if order is None:
            order = self._order[present, self._defined] = self._may_match(present)
        return order

    def _may_match(self, present: frozenset[str]) -> tuple[int, ...]:
        """The indexes of the patterns that may match a text holding just the strings
        `present` of those they begin with."""
        left_out = frozenset() if self._defined else self._references
        return tuple(i for i, some in enumerate(self._starts)
                     if (some is None or some & present) and i not in left_out)


def _only_references(pattern: Pattern) -> bool:
    """Whether `pattern` is one of Python-Markdown's reference links or images (`[text][id]`,
    `[id]`, `![alt][id]`, `![id]`) with their own `handleMatch`, which for an id that is not
    defined returns no element and leaves the text as it was: in a document that defines no
    references they can change nothing, and are not tried."""
    return isinstance(pattern, ReferenceInlineProcessor) and \
        type(pattern).handleMatch is ReferenceInlineProcessor.handleMatch


class QuickUnescape(UnescapeTreeprocessor):
    """Python-Markdown's `unescape` step (registered under its name, in its place): it turns
    the placeholders of backslash escapes (`\\*`) back into characters in every text, tail
    and attribute of the tree. Only the inline pass makes such placeholders, and only from a
    text with a backslash (the escape pattern, and code spans for an escaped backslash), so
    when our inline pass saw none in a document the walk is left out."""

    def run(self, root: etree.Element) -> None:
        inline = self.md.treeprocessors["inline"] if "inline" in self.md.treeprocessors \
            else None
        if isinstance(inline, SkippingInlineProcessor) and not inline.backslash:
            return
        super().run(root)
