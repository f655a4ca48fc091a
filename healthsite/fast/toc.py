"""Python-Markdown's contents (toc) processor, quicker for plain headings.

Replaces `markdown.extensions.toc.TocTreeprocessor.run` (registered as `toc`, priority 5, by
`TocExtension`). It is a modified copy of Markdown 3.11's own `run`, giving the same ids,
names and contents tokens, made without serialising each heading when it is plain text (no
child elements, entities, markup or stashed HTML: its inner HTML is then its text), and
without the contents HTML (`md.toc`, which the site does not use) unless the page asks for
it with the marker. Why: with it off, a cold build of 1,000 synthetic articles takes 9%
more CPU (bench/README.md, "Fast paths"). Anything else (anchors, permalinks, a `[TOC]`
marker in the page) is left to the original.

Being a copy, it calls the toc module's helpers (`render_inner_html`, `remove_fnrefs`,
`run_postprocessors`, `unique`, ...) the way 3.11.3 does. Their arguments change between
releases: between 3.10 and 3.11, and again within 3.11 (`unique` took no `counters` before
3.11.3, so this copy would raise a TypeError on 3.11.0-3.11.2). The gate
(`fast.GATES["markdown-toc"]`) checks each helper's parameters and Markdown's version:
verified on 3.11.3 only (on 3.11.0 the gate refuses it and the stock processor runs).
"""

from __future__ import annotations

import html
import re
import xml.etree.ElementTree as etree
from typing import Any

from markdown.extensions.toc import (
    TocTreeprocessor,
    escape_cdata,
    nest_toc_tokens,
    remove_fnrefs,
    render_inner_html,
    run_postprocessors,
    strip_tags,
    unique,
)
from markdown.extensions.toc import unescape as toc_unescape

_PLAIN_HEADING = re.compile(r"[^&<>\x02\x03]*")  # nothing the serializer or a stash changes


class QuickToc(TocTreeprocessor):
    """Python-Markdown's contents processor, quicker on plain headings (see the module)."""

    def run(self, doc: etree.Element) -> None:
        if self._left_to_stock(doc):
            super().run(doc)
            return
        used_ids, headings = _ids_and_headings(doc, self.header_rgx)
        counters: dict[str, int] = {}
        tokens: list[dict[str, Any]] = []
        for el in headings:
            token = self._token(el, used_ids, counters)
            if token is not None:
                tokens.append(token)
        self.md.toc_tokens = nest_toc_tokens(tokens)
        self.md.toc = ""

    def _left_to_stock(self, doc: etree.Element) -> bool:
        """Whether the page needs what this copy leaves to the original: anchors, permalinks
        or the contents marker (looked for in every element, as Python-Markdown's
        replace_marker does: a list item "- [TOC]" gets the contents too)."""
        if self.use_anchors or self.use_permalinks not in (False, None):
            return True
        return bool(self.marker) and _has_marker(doc, self.marker)

    def _token(self, el: etree.Element, used_ids: set[str],
               counters: dict[str, int]) -> dict[str, Any] | None:
        """Give heading `el` its level and id, as the original does, and its contents token
        (None when its level is outside the contents' range)."""
        self.set_level(el)
        inner = _inner_html(el, self.md)
        name = strip_tags(inner)
        if "id" not in el.attrib:
            el.attrib["id"] = unique(self.slugify(html.unescape(name), self.sep), used_ids,
                                     counters)
        label = ""
        if "data-toc-label" in el.attrib:
            label = run_postprocessors(toc_unescape(el.attrib["data-toc-label"]), self.md)
            name = escape_cdata(strip_tags(label))
            del el.attrib["data-toc-label"]
        level = int(el.tag[-1])
        if not self.toc_top <= level <= self.toc_bottom:
            return None
        return {"level": level, "id": toc_unescape(el.attrib["id"]), "name": name,
                "html": inner, "data-toc-label": label}


def _has_marker(doc: etree.Element, marker: str) -> bool:
    """Whether an element of `doc` holds nothing but the contents marker."""
    return any(el.text and el.text.strip() == marker and not len(el) for el in doc.iter())


def _ids_and_headings(doc: etree.Element,
                      header_rgx: re.Pattern[str]) -> tuple[set[str], list[etree.Element]]:
    """The ids already in `doc`, and its headings, in document order."""
    used_ids: set[str] = set()
    headings: list[etree.Element] = []
    for el in doc.iter():  # (one walk: quicker than one for each)
        if "id" in el.attrib:
            used_ids.add(el.attrib["id"])
        if isinstance(el.tag, str) and header_rgx.match(el.tag):
            headings.append(el)
    return used_ids, headings


def _inner_html(el: etree.Element, md: Any) -> str:
    """A heading's inner HTML: its text when it is plain (no serialising), else the
    original's rendering."""
    inner: str
    if not len(el) and _PLAIN_HEADING.fullmatch(el.text or ""):
        inner = run_postprocessors((el.text or "").strip(), md)
    else:
        inner = render_inner_html(remove_fnrefs(el), md)
    return inner
