"""Untrusted HTML: an allow-list sanitiser (nh3, the Python binding of Rust's ammonia) and a
report of what it removed, so editors are told instead of silently losing content."""

from __future__ import annotations

import re
from collections import Counter

import nh3

TAGS = set(nh3.ALLOWED_TAGS) - {"center", "acronym", "strike", "tt", "map", "area"} | {
    "section", "nav", "figure", "figcaption", "details", "summary", "table", "caption"}
ATTRIBUTES = {
    "*": {"id", "class", "lang", "title", "dir"},
    "a": {"href", "hreflang"},
    "img": {"src", "alt", "width", "height"},
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


def safe_url(url: str) -> bool:
    """Whether a link or image address is safe: relative, or with an allowed scheme."""
    m = re.match(r"\s*([a-zA-Z][a-zA-Z0-9+.-]*):", url.replace("\0", ""))
    return m is None or m.group(1).lower() in SAFE_SCHEMES


def clean(html: str) -> str:
    """The HTML with only allow-listed tags, attributes and URL schemes left."""
    return nh3.clean(html, tags=TAGS, clean_content_tags=DROP_WITH_CONTENT,
                     attributes=ATTRIBUTES, link_rel=None,
                     url_schemes=set(SAFE_SCHEMES), strip_comments=True,
                     filter_style_properties={"text-align"})


def _inventory(html: str) -> Counter[tuple[str, str]]:
    from bs4 import BeautifulSoup  # only raw HTML needs it: imported when first used

    soup = BeautifulSoup(html, "html.parser")
    found: Counter[tuple[str, str]] = Counter()
    for tag in soup.find_all(True):
        found[(tag.name, "")] += 1
        for attr, value in tag.attrs.items():
            text = value if isinstance(value, str) else " ".join(value)
            if attr == "style":
                text = "".join(text.lower().split()).rstrip(";")
            found[(tag.name, f"{attr}={text}")] += 1
    return found


def removed(before: str, after: str) -> list[tuple[str, str]]:
    """What the sanitiser took out: (description, text to find it by), in a stable order."""
    gone = _inventory(before) - _inventory(after)
    gone_tags = {tag for tag, attr in gone if not attr}
    out = []
    for (tag, attr), _ in sorted(gone.items()):
        if attr and tag in gone_tags:
            continue
        if attr:
            name = attr.split("=", 1)[0]
            out.append((f"the {name} attribute of <{tag}>", f"{name}="))
        else:
            out.append((f"<{tag}>", f"<{tag}"))
    return out
