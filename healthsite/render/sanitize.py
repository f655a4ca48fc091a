"""Untrusted HTML: an allow-list sanitiser (nh3, the Python binding of Rust's ammonia) and a
report of what it removed, so editors are told instead of silently losing content."""

from __future__ import annotations

import html
import re
from collections import Counter
from collections.abc import Collection
from functools import partial

import nh3

TAGS = set(nh3.ALLOWED_TAGS) - {"center", "acronym", "strike", "tt", "map", "area"} | {
    "section", "nav", "figure", "figcaption", "details", "summary", "table", "caption"}
ATTRIBUTES = {
    "*": {"id", "class", "lang", "title", "dir"},
    "a": {"href", "hreflang"},
    # srcset and sizes: the renderer's own, for the smaller copies of a picture (an
    # attribute list may not set them; raw HTML's are checked like src, see _filter)
    "img": {"src", "alt", "width", "height", "srcset", "sizes", "loading", "decoding"},
    "td": {"colspan", "rowspan", "style"},
    "th": {"colspan", "rowspan", "scope", "style"},
    "time": {"datetime"},
    "ol": {"start", "reversed", "type"},
    "abbr": {"title"},
    "data": {"value"},
}
DROP_WITH_CONTENT = {"script", "style", "iframe", "object", "embed", "template", "noscript",
                     "form", "textarea", "select", "svg", "math"}


SAFE_SCHEMES = frozenset({"http", "https", "mailto", "tel"})
# what a browser ignores in an address before reading its scheme (the WHATWG URL standard:
# C0 controls and spaces at the start, tabs and newlines anywhere)
_IGNORED = re.compile(r"^[\x00-\x20]+|[\t\n\r]")

# Ids the page templates give their own elements (tests check this against templates/),
# and the ids they number on an article's page: content may not take them (a heading or an
# attribute list with id "content" would take the skip link, "source-2" a citation's).
RESERVED_IDS = frozenset({
    "backlinks", "backlinks-title", "content", "draft-problems-title", "header-search-q",
    "map-list", "reading-next",
    "reading-next-title", "review-dates", "search-form", "search-q", "search-results",
    "search-status", "sources-title"})
RESERVED_NUMBERED = re.compile(r"source-\d+")
_ALIGN = re.compile(r"text-align:\s*(?:left|right|center|justify);?\s*", re.I)


def as_read(url: str) -> str:
    """An attribute's address as a browser reads it: character references decoded
    (`&#106;avascript:`), tabs and newlines anywhere and controls or spaces in front
    removed."""
    return _IGNORED.sub("", html.unescape(url) if "&" in url else url)


def safe_url(url: str) -> bool:
    """Whether a link or image address is safe: relative, or with an allowed scheme."""
    m = re.match(r"([a-zA-Z][a-zA-Z0-9+.-]*):", as_read(url))
    return m is None or m.group(1).lower() in SAFE_SCHEMES


# An address is another site's when it starts with two slashes (or backslashes: browsers
# read them as slashes), after a scheme or not, or with http: or https: followed by anything
# (an "https:host/x" on an http page, or the reverse, is another site's too).
AWAY = r"(?:(?:[a-z][a-z0-9+.-]*:)?[/\\]{2}|https?:)"
_ELSEWHERE = re.compile(AWAY, re.I)
ELSEWHERE_HINT = "copy the file into static/; readers' privacy means no third-party requests"


def elsewhere(url: str) -> bool:
    """Whether an address (as a browser reads it) is another site's (see `AWAY`)."""
    return _ELSEWHERE.match(as_read(url)) is not None


def reserved_id(value: str) -> bool:
    """Whether an id is one the page's own template uses."""
    return value in RESERVED_IDS or RESERVED_NUMBERED.fullmatch(value) is not None


def allowed_attribute(tag: str, name: str, value: str) -> bool:
    """Whether an element made from Markdown may keep an attribute: the raw-HTML allow-list
    (`ATTRIBUTES`), and a style only for a table cell's alignment. (Addresses are checked
    with `safe_url` where links are resolved.)"""
    if name not in ATTRIBUTES["*"] and name not in ATTRIBUTES.get(tag, ()) or name == "srcset":
        return False
    return name != "style" or _ALIGN.fullmatch(value) is not None


def _filter(away: list[str] | None, tag: str, name: str, value: str) -> str | None:
    """nh3's attribute filter: an attribute's value as kept, or None to drop it (see
    `clean`)."""
    if name == "id":
        return None if reserved_id(value) else value
    if name == "srcset":
        return _srcset(away, value)
    if name not in ("href", "src"):
        return value
    value = as_read(value)
    if away is not None and (tag, name) == ("img", "src") and elsewhere(value):
        away.append(value)
        return None
    return value


def _srcset(away: list[str] | None, value: str) -> str | None:
    """A srcset kept only when every address in it is a safe one of this site's."""
    bad = [a for a in _candidates(value) if elsewhere(a) or not safe_url(a)]
    if away is not None:
        away.extend(filter(elsewhere, bad))
    return None if bad else value


def _candidates(srcset: str) -> list[str]:
    """The addresses of a srcset ("a.png 480w, b.png 2x"), as a browser reads them."""
    return [as_read(c.split()[0]) for c in srcset.split(",") if c.strip()]


def clean(html: str, away: list[str] | None = None) -> str:
    """The HTML with only allow-listed tags, attributes and URL schemes left, and no id
    that the page's template uses. Given `away`, images from other sites lose their
    address too, and the addresses are added to it (the only element the allow-list lets
    load a file)."""
    return nh3.clean(html, tags=TAGS, clean_content_tags=DROP_WITH_CONTENT,
                     attributes=ATTRIBUTES, attribute_filter=partial(_filter, away),
                     link_rel=None, url_schemes=set(SAFE_SCHEMES), strip_comments=True,
                     filter_style_properties={"text-align"})


def _inventory(html: str) -> Counter[tuple[str, str]] | None:
    from bs4 import BeautifulSoup  # only raw HTML needs it: imported when first used
    from bs4.exceptions import ParserRejectedMarkup

    try:
        soup = BeautifulSoup(html, "html.parser")
    except (ParserRejectedMarkup, AssertionError):  # html.parser gives up on some markup
        return None
    found: Counter[tuple[str, str]] = Counter()
    for tag in soup.find_all(True):
        found[(tag.name, "")] += 1
        for attr, value in tag.attrs.items():
            found[(tag.name, f"{attr}={_as_written(attr, value)}")] += 1
    return found


def _as_written(attr: str, value: str | list[str]) -> str:
    """An attribute's value as the sanitiser writes it (a change it makes is no removal):
    a style without blanks, an address as read (a class's list of names joined again)."""
    text = value if isinstance(value, str) else " ".join(value)
    if attr == "style":
        return "".join(text.lower().split()).rstrip(";")
    if attr in ("href", "src"):
        return as_read(text)
    return text


def removed(before: str, after: str, away: Collection[str] = ()) -> list[tuple[str, str]]:
    """What the sanitiser took out: (description, text to find it by), in a stable order;
    images' addresses in `away` (reported otherwise) left out."""
    found, left = _inventory(before), _inventory(after)
    if found is None or left is None:  # (such as "<![": the sanitiser removes it)
        return [("markup that is not valid HTML", "<!" if "<!" in before else "<")]
    return _reported(found - left - Counter({("img", f"src={url}"): 1 for url in away}))


def _reported(gone: Counter[tuple[str, str]]) -> list[tuple[str, str]]:
    """The elements and attributes `gone`, described, in order; an element's attributes
    are not reported when the element itself is."""
    gone_tags = {tag for tag, attr in gone if not attr}
    return [_described(tag, attr) for tag, attr in sorted(gone)
            if not attr or tag not in gone_tags]


def _described(tag: str, attr: str) -> tuple[str, str]:
    """A removed element (no `attr`) or attribute ("name=value"): what it was, and text to
    find it by."""
    if not attr:
        return f"<{tag}>", f"<{tag}"
    name = attr.split("=", 1)[0]
    return f"the {name} attribute of <{tag}>", f"{name}="
