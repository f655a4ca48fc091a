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
    parser = expat.ParserCreate(namespace_separator=_SEP)
    parser.SetParamEntityParsing(expat.XML_PARAM_ENTITY_PARSING_NEVER)
    open_elements: list[str] = []  # local names
    style: list[str] = []  # the text of the <style> element being read
    style_at = [0, 0]  # where that text starts

    def refuse(message: str) -> None:
        # (where the event began: once the exception is out, expat has moved on)
        raise _Refused(message, parser.CurrentLineNumber, parser.CurrentColumnNumber + 1)

    def doctype(name: str, system: str | None, public: str | None, internal: bool) -> None:
        if internal:
            refuse("a DOCTYPE with declarations (entities, attribute defaults)")

    def entity(*_: object) -> None:
        refuse("an entity declaration")

    def external(*_: str | None) -> int:
        refuse("an external entity")
        return 0

    def instruction(target: str, text: str) -> None:
        if target.lower() == "xml-stylesheet":
            refuse("a stylesheet processing instruction (<?xml-stylesheet?>)")

    def start(name: str, attrs: dict[str, str]) -> None:
        ns, _, local = name.rpartition(_SEP)
        if not open_elements and (local != "svg" or ns not in ("", SVG_NS)):
            refuse(f"the root element is <{local}>, not <svg>")
        open_elements.append(local)
        if ns == XHTML_NS:
            refuse(f"an HTML element <{local}>")
        if local.lower() in ACTIVE:
            refuse(f"a <{local}> element")
        for key, value in attrs.items():
            attr_ns, _, attr = key.rpartition(_SEP)
            plain = _IGNORED.sub("", value).lower()
            if attr.lower().startswith("on"):
                refuse(f"an event handler attribute ({attr}=)")
            if attr_ns == XML_NS and attr == "base":
                refuse("an xml:base attribute")
            if _SCRIPTING.search(plain):
                refuse(f"a script or document address in {attr}= ('{plain[:40]}')")
            if attr.lower() in _LOADS and local != "a" and _away(plain) or \
                    attr.lower() in _SETS and any(map(_away, plain.split(";"))):
                refuse(f"a file loaded from another site ({attr}='{plain[:60]}')")
            if attr.lower() == "style":
                css(value, parser.CurrentLineNumber, parser.CurrentColumnNumber + 1)

    def css(value: str, line: int, col: int) -> None:
        for m in _CSS_URL.finditer(value):
            target = _IGNORED.sub("", m.group(1) or m.group(2) or "").lower()
            if m.group(2) is not None or _away(target):
                lines = value.count("\n", 0, m.start())
                where = (line + lines, m.start() - value.rfind("\n", 0, m.start())) if lines \
                    else (line, col + m.start())
                raise _Refused(f"a style that loads '{target[:60]}'" if target else
                               "a CSS @import", *where)

    def end(name: str) -> None:
        if open_elements.pop() == "style":
            css("".join(style), *style_at)
            style.clear()

    def characters(data: str) -> None:
        if open_elements and open_elements[-1] == "style":
            if not style:
                style_at[:] = parser.CurrentLineNumber, parser.CurrentColumnNumber + 1
            style.append(data)

    parser.StartDoctypeDeclHandler = doctype
    parser.EntityDeclHandler = entity
    parser.UnparsedEntityDeclHandler = entity
    parser.ProcessingInstructionHandler = instruction
    parser.StartElementHandler = start
    parser.EndElementHandler = end
    parser.CharacterDataHandler = characters
    parser.ExternalEntityRefHandler = external
    try:
        parser.Parse(data, True)
    except _Refused as e:
        return f"unsafe SVG: {e}", e.line, e.col
    except expat.ExpatError as e:
        return (f"not a well-formed SVG file: {expat.errors.messages[e.code]}", e.lineno,
                e.offset + 1)
    return None


def _away(address: str) -> bool:
    """Whether an address (lowercase, without blanks) names another site or any scheme
    but a data: image (a fragment or a path on this site is fine)."""
    if address.startswith("data:image/"):
        return False
    return address.startswith(("//", "\\", "/\\")) or re.match(r"[a-z][a-z0-9+.-]*:", address) \
        is not None
