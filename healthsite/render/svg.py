"""SVG files in static/, checked before they are published.

An SVG opened on its own (a link to it, or its address typed in) is a document on the site's
own address: its scripts run there, with the site's cookies and storage (stored XSS), and the
pages' Content-Security-Policy does not cover it. So an SVG is published only when it is a
plain picture: well-formed XML with an `svg` root, no script or event handler, no HTML or
embedded document, no `javascript:` address, nothing loaded from another site, no
stylesheet processing instruction (XSLT turns the file into any page) and no DTD
declarations (entities are never expanded: a "billion laughs" file stops at its first one).

It is read with the standard library's expat parser, which never fetches anything; the
handlers below stop it at the first thing refused.
"""

from __future__ import annotations

import re
from xml.parsers import expat

SVG_NS = "http://www.w3.org/2000/svg"
XHTML_NS = "http://www.w3.org/1999/xhtml"
XML_NS = "http://www.w3.org/XML/1998/namespace"
_SEP = "\x01"  # between a namespace and a local name in expat's names

# elements that run script, embed another document, or act on events (by local name, in
# any namespace)
ACTIVE = frozenset({"script", "foreignobject", "handler", "listener", "iframe", "frame",
                    "embed", "object", "applet", "base", "meta", "link"})
# attributes that hold an address the browser loads (on any element but a link: `a`)
_LOADS = frozenset({"href", "src"})
# attributes of an animation that set another attribute (to an address, perhaps)
_SETS = frozenset({"values", "to", "from", "by"})
_SCRIPTING = re.compile(r"(?<![a-z0-9+.-])(?:(?:java|vb)script:|data:(?!image/(?:png|jpe?g|gif|"
                        r"webp|avif)[;,]))")
_IGNORED = re.compile(r"[\x00-\x20\x7f]+")  # what browsers drop from an address
_CSS_URL = re.compile(r"""url\(\s*["']?([^"')\s]*)|@import\s*(?:url\(\s*)?["']?([^"')\s;]*)""",
                      re.I)


class _Refused(Exception):
    """What is wrong and where, raised from an expat handler (which stops the parse)."""

    def __init__(self, message: str, line: int, col: int) -> None:
        super().__init__(message)
        self.line, self.col = line, col


Found = tuple[str, int, int]  # message, line, column


def svg_problem(data: bytes) -> Found | None:
    """Why the SVG file `data` must not be published, and where; None when it may be."""
    parser = _Reader().parser
    try:
        parser.Parse(data, True)
    except _Refused as e:
        return f"unsafe SVG: {e}", e.line, e.col
    except expat.ExpatError as e:
        return (f"not a well-formed SVG file: {expat.errors.messages[e.code]}", e.lineno,
                e.offset + 1)
    return None


class _Reader:
    """An expat parser whose handlers raise `_Refused` at the first thing refused, and
    what they keep track of on the way."""

    def __init__(self) -> None:
        parser = self.parser = expat.ParserCreate(namespace_separator=_SEP)
        parser.SetParamEntityParsing(expat.XML_PARAM_ENTITY_PARSING_NEVER)
        self.open_elements: list[str] = []  # local names
        self.style: list[str] = []  # the text of the <style> element being read
        self.style_at = (0, 0)  # where that text starts
        parser.StartDoctypeDeclHandler = self.doctype
        parser.EntityDeclHandler = self.entity
        parser.UnparsedEntityDeclHandler = self.entity
        parser.ProcessingInstructionHandler = self.instruction
        parser.StartElementHandler = self.start
        parser.EndElementHandler = self.end
        parser.CharacterDataHandler = self.characters
        parser.ExternalEntityRefHandler = self.external

    def here(self) -> tuple[int, int]:
        """Where the event being handled began (once an exception is out, expat has moved
        on)."""
        return self.parser.CurrentLineNumber, self.parser.CurrentColumnNumber + 1

    def refuse(self, message: str) -> None:
        raise _Refused(message, *self.here())

    def doctype(self, name: str, system: str | None, public: str | None,
                internal: bool) -> None:
        if internal:
            self.refuse("a DOCTYPE with declarations (entities, attribute defaults)")

    def entity(self, *_: object) -> None:
        self.refuse("an entity declaration")

    def external(self, *_: str | None) -> int:
        self.refuse("an external entity")
        return 0

    def instruction(self, target: str, text: str) -> None:
        if target.lower() == "xml-stylesheet":
            self.refuse("a stylesheet processing instruction (<?xml-stylesheet?>)")

    def start(self, name: str, attrs: dict[str, str]) -> None:
        ns, _, local = name.rpartition(_SEP)
        if not self.open_elements and (local != "svg" or ns not in ("", SVG_NS)):
            self.refuse(f"the root element is <{local}>, not <svg>")
        self.open_elements.append(local)
        if ns == XHTML_NS:
            self.refuse(f"an HTML element <{local}>")
        if local.lower() in ACTIVE:
            self.refuse(f"a <{local}> element")
        for key, value in attrs.items():
            self.attribute(local, key, value)

    def attribute(self, local: str, key: str, value: str) -> None:
        """Refuse an attribute `key` (namespace and name) of the element `local` that
        runs script, or loads a file from elsewhere."""
        attr_ns, _, attr = key.rpartition(_SEP)
        plain = _IGNORED.sub("", value).lower()
        if attr.lower().startswith("on"):
            self.refuse(f"an event handler attribute ({attr}=)")
        if attr_ns == XML_NS and attr == "base":
            self.refuse("an xml:base attribute")
        if _SCRIPTING.search(plain):
            self.refuse(f"a script or document address in {attr}= ('{plain[:40]}')")
        if _loads_away(local, attr.lower(), plain):
            self.refuse(f"a file loaded from another site ({attr}='{plain[:60]}')")
        if attr.lower() == "style":
            _css(value, *self.here())

    def end(self, name: str) -> None:
        if self.open_elements.pop() == "style":
            _css("".join(self.style), *self.style_at)
            self.style.clear()

    def characters(self, data: str) -> None:
        if self.open_elements and self.open_elements[-1] == "style":
            if not self.style:
                self.style_at = self.here()
            self.style.append(data)


def _loads_away(local: str, attr: str, plain: str) -> bool:
    """Whether the attribute `attr` (lowercase) of the element `local` loads a file from
    another site: an address the browser loads (but a link's), or one an animation sets."""
    if attr in _LOADS and local != "a":
        return _away(plain)
    return attr in _SETS and any(map(_away, plain.split(";")))


def _css(value: str, line: int, col: int) -> None:
    """Refuse CSS (starting at `line`, `col`) that imports a stylesheet or loads a file from
    another site."""
    for m in _CSS_URL.finditer(value):
        target = _IGNORED.sub("", m.group(1) or m.group(2) or "").lower()
        if m.group(2) is not None or _away(target):
            raise _Refused(f"a style that loads '{target[:60]}'" if target else
                           "a CSS @import", *_within(value, m.start(), line, col))


def _within(text: str, offset: int, line: int, col: int) -> tuple[int, int]:
    """The line and column of `offset` into `text`, which starts at `line`, `col`."""
    lines = text.count("\n", 0, offset)
    if not lines:
        return line, col + offset
    return line + lines, offset - text.rfind("\n", 0, offset)


def _away(address: str) -> bool:
    """Whether an address (lowercase, without blanks) names another site or any scheme
    but a data: image (a fragment or a path on this site is fine)."""
    if address.startswith("data:image/"):
        return False
    return address.startswith(("//", "\\", "/\\")) or re.match(r"[a-z][a-z0-9+.-]*:", address) \
        is not None
