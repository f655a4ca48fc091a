"""Python-Markdown's block parser without the tests that cannot pass, and three of its steps
left out where they cannot change anything (whitespace clean-up in a text without tabs,
carriage returns or blank lines of spaces; raw HTML in a text without `<` or `&`; attribute
lists in a document without `{`).

For every block of text (a paragraph, a list, a heading…) Python-Markdown asks each of its ~14
block processors in turn whether the block is theirs, and most of them answer by searching
the whole block with a regular expression: a heading needs a `#`, a quotation a `>`, a link
definition `[` and `]:`. `skip_impossible_tests` gives a parser a `parseBlocks` that first
checks, with plain `in` tests, the strings such a search requires (read from the expression by
`patterns.required`), and passes over processors whose expression cannot match the block.

Only processors whose answer is known to be exactly "does the expression match" are passed
over (`_GATED`): their `test` is `bool(expression.search(block))` (or `.match`), or their
`test` says yes to everything and their `run` puts the block back and returns False when the
expression finds nothing; the tables extension's test cannot succeed on a block without a
`|` or without a second line; the admonition extension's (the care cards') cannot succeed on
a block without `!!!` that is not indented to go on the card before it. Everything else is
Python-Markdown's own code, so the output is
byte for byte the same; `tests/test_fast_paths.py` checks that on every article, a synthetic
corpus and generated text (it would catch a later Python-Markdown whose processors answer
otherwise).

What it replaces: `BlockParser.parseBlocks` (the `markdown-blocks` fast path; it relies on
the processors' `RE`/`SEARCH_RE` attributes and on `re`'s private parser, through
`patterns.py`), and the `normalize_whitespace`, `html_block` and `attr_list` steps
(`markdown-steps`). Why: with them off, a cold build of 1,000 synthetic articles takes 11%
(the parser) and 6% (the steps) more CPU (bench/README.md, "Fast paths"). Verified on
Markdown 3.11.0 and 3.11.3 with Python 3.11.7; their gates (`fast.GATES`) check the version
and the names they rely on.
"""

from __future__ import annotations

import types
import xml.etree.ElementTree as etree
from collections.abc import Callable
from typing import Any

from markdown import blockprocessors, util
from markdown.blockparser import BlockParser
from markdown.extensions import admonition, footnotes, tables
from markdown.preprocessors import HtmlBlockPreprocessor, NormalizeWhitespace
from markdown.treeprocessors import Treeprocessor

from .patterns import required

# processor class: the attribute holding the expression its answer rests on
_GATED: dict[type, str] = {
    blockprocessors.HashHeaderProcessor: "RE",  # test: RE.search
    blockprocessors.SetextHeaderProcessor: "RE",  # test: RE.match
    blockprocessors.HRProcessor: "SEARCH_RE",  # test: SEARCH_RE.search
    blockprocessors.BlockQuoteProcessor: "RE",  # test: RE.search (and not too deep)
    blockprocessors.ReferenceProcessor: "RE",  # run: RE.search, else block put back, False
    footnotes.FootnoteBlockProcessor: "RE",  # run: RE.search, else block put back, False
}
# the tables extension: a block of one line, or without a `|`, is never a table (and the
# admonition extension's test has a gate of its own: `_admonition_gate`)
_FIXED: dict[type, tuple[frozenset[str], ...]] = {
    tables.TableProcessor: (frozenset({"|"}), frozenset({"\n"})),
}

Gate = Callable[[str], bool]


def _gate(needs: tuple[frozenset[str], ...]) -> Gate | None:
    """Whether a block holds a string of each set (None: nothing to check)."""
    if not needs:
        return None
    sets = tuple(tuple(sorted(some)) for some in needs)

    def possible(block: str) -> bool:
        for some in sets:
            for s in some:
                if s in block:
                    break
            else:
                return False
        return True

    return possible


def gate_of(processor: blockprocessors.BlockProcessor) -> Gate | None:
    """The check a block must pass for `processor` to be asked about it, if any."""
    kind = type(processor)  # exactly these classes: a subclass may answer differently
    if kind in _FIXED:
        return _gate(_FIXED[kind])
    if kind in _GATED:
        return _gate(required(getattr(processor, _GATED[kind])))
    if kind is admonition.AdmonitionProcessor and "current_sibling" in vars(processor):
        return _admonition_gate(processor)
    return None


def _admonition_gate(processor: admonition.AdmonitionProcessor) -> Gate:
    """The admonition extension's test: its expression (which needs `!!!`) finds the
    block, or the block goes on the admonition before it (`parse_content`), which needs a
    block indented by a tab's width (its list step only ever takes a tab's width off a
    block indented by two) or a sibling already found by a test whose run has not taken
    it. When none of those holds, its test answers no and changes nothing."""
    indent = " " * processor.tab_length
    needs = _gate(required(processor.RE))
    assert needs is not None  # (the gate's check: `fast.GATES["markdown-blocks"]`)

    def possible(block: str) -> bool:
        return needs(block) or block.startswith(indent) or \
            processor.current_sibling is not None

    return possible


def skip_impossible_tests(parser: BlockParser) -> None:
    """Give `parser` a `parseBlocks` that passes over the processors whose test cannot succeed
    on a block (processors registered later are taken into account: the list is read at every
    call, as Python-Markdown does)."""
    gates: dict[blockprocessors.BlockProcessor, Gate | None] = {}

    def parse_blocks(self: BlockParser, parent: etree.Element, blocks: list[str]) -> None:
        steps = []
        for processor in self.blockprocessors:
            if processor not in gates:
                gates[processor] = gate_of(processor)
            steps.append((processor, gates[processor]))
        while blocks:
            for processor, possible in steps:
                if possible is not None and not possible(blocks[0]):
                    continue
                if processor.test(parent, blocks[0]):
                    if processor.run(parent, blocks) is not False:
                        break  # run returns True or None

    parser.parseBlocks = types.MethodType(parse_blocks, parser)


class QuickNormalizeWhitespace(NormalizeWhitespace):
    """Python-Markdown's first step (registered under its name, `normalize_whitespace`, in its
    place): it removes two control characters, turns carriage returns into newlines, expands
    tabs and empties lines made only of spaces, all with nothing to do in a text that has
    none of those. Such a text is only given its two closing newlines."""

    def run(self, lines: list[str]) -> list[str]:
        source = "\n".join(lines) + "\n\n"
        if any(c in source for c in (util.STX, util.ETX, "\r", "\t", " \n")):
            done: list[str] = super().run(lines)
            return done
        return source.split("\n")


class QuickHtmlBlock(HtmlBlockPreprocessor):
    """Python-Markdown's raw-HTML step (registered under its name, `html_block`, in its
    place). It feeds the whole text to an HTML parser to take raw HTML out; a text with no
    `<` holds no tag, and with no `&` either, no character reference to write out again, so
    the parser would give it back unchanged and is not run."""

    def run(self, lines: list[str]) -> list[str]:
        if any("<" in line or "&" in line for line in lines):
            done: list[str] = super().run(lines)
            return done
        return lines


class QuickAttrList(Treeprocessor):
    """The attr_list step (registered under its name, `attr_list`, in its place, around the
    processor that was there: the extension's, or the renderer's own that vets what a list
    sets): it looks in every text and tail of the tree for `{: #id .class }`. At its turn the
    tree's text comes only from the document's lines after the preprocessors (`md.lines`)
    and fixed strings without braces (the footnotes' back links, the inline pass's
    placeholders), so in a document whose lines have no `{` it can find nothing and is not
    run."""

    def __init__(self, md: Any, step: Treeprocessor) -> None:
        super().__init__(md)
        self.step = step

    def run(self, doc: etree.Element) -> None:
        if any("{" in line for line in getattr(self.md, "lines", ("{",))):
            self.step.run(doc)
