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
        # (the marker is looked for in every element, as Python-Markdown's replace_marker
        # does: a list item "- [TOC]" gets the contents too)
        if self.use_anchors or self.use_permalinks not in (False, None) or (self.marker and any(
                el.text and el.text.strip() == self.marker and not len(el)
                for el in doc.iter())):
            super().run(doc)
            return
        used_ids = set()
        headings = []
        for el in doc.iter():
            if "id" in el.attrib:
                used_ids.add(el.attrib["id"])
            if isinstance(el.tag, str) and self.header_rgx.match(el.tag):
                headings.append(el)
        counters: dict[str, int] = {}
        tokens: list[dict[str, Any]] = []
        for el in headings:
            self.set_level(el)
            if not len(el) and _PLAIN_HEADING.fullmatch(el.text or ""):
                inner = run_postprocessors((el.text or "").strip(), self.md)
            else:
                inner = render_inner_html(remove_fnrefs(el), self.md)
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
            if self.toc_top <= level <= self.toc_bottom:
                tokens.append({"level": level, "id": toc_unescape(el.attrib["id"]), "name": name,
                               "html": inner, "data-toc-label": label})
        self.md.toc_tokens = nest_toc_tokens(tokens)
        self.md.toc = ""
