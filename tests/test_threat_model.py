"""The README's Security section, content side: whatever a content author writes (Markdown,
raw HTML, attribute lists, front matter, the glossary), the published site runs no script of
theirs, loads nothing from another site, sets no event handler or style, and never leaves
its output folder. Template and site.yaml authors are trusted and not tested here."""

from __future__ import annotations

import html as htmllib
import json
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from bs4 import BeautifulSoup, Tag
from conftest import SITE_YAML, SOURCES, build

from healthsite.render.sanitize import safe_url

HOSTILE_BODY = r"""
Intro with [a link](b.md) and a term: ferritin.

<script>alert(1)</script>
<img src=x onerror=alert(1) alt="x">
<a href="javascript:alert(1)">a</a>
<a href="jav&#x09;ascript:alert(1)">b</a>
<a href="&#106;avascript:alert(1)">c</a>
<a href="  javascript:alert(1)">d</a>
[e](javascript:alert(1)) [f](<javascript:alert(1)>) [g](JaVaScRiPt:alert(1))
[h](data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==) [i](vbscript:msgbox)
![j](javascript:alert(1))

<svg onload=alert(1)><script>alert(1)</script></svg>
<math><mtext><table><mglyph><style><img src=x onerror=alert(1)>
</style></mglyph></table></mtext></math>
<iframe src="b.html"></iframe>
<object data="x.swf"></object>
<embed src="x.swf">
<form action="https://evil.example/"><button formaction="javascript:alert(1)">go</button></form>
<base href="https://evil.example/">
<meta http-equiv="refresh" content="0;url=https://evil.example/">
<div style="background:url(x.png)" onmouseover="alert(1)">styled</div>
<noscript><p title="</noscript><img src=x onerror=alert(1)>">n</p></noscript>
<a href="#" onclick="alert(1)" target="_blank">k</a>
<!-- <script>alert(1)</script> -->
<![CDATA[<script>alert(1)</script>]]>
<details open ontoggle="alert(1)"><summary>s</summary>t</details>

A paragraph with a handler.
{: onclick="alert(1)" style="color: red" }

![l](a.png){: onerror="alert(1)" srcset="x.png 2x" }

[m](b.md){: href="javascript:alert(1)" }

## Content {: #content }

`<script>alert("in code")</script>`

    <script>alert("in a code block")</script>

Call {{emergency_number}}.
"""

# no raw HTML at all: the sanitiser of raw HTML does not run on such a page
MARKDOWN_ONLY = r"""
Plain Markdown, [a link](b.md).

A paragraph with a handler.
{: onclick="alert(1)" style="color: red" }

![l](missing.png){: onerror="alert(1)" }

![m](missing.png){: ONERROR="alert(2)" srcset="//evil.example/x.png 2x" }

[n](b.md){: href="javascript:alert(1)" onfocus="alert(3)" autofocus }

## Content {: #content }
"""

HOSTILE_TITLE = "</title><script>alert(1)</script>"
HOSTILE_SUMMARY = '"><img src=x onerror=alert(1)> </script><script>alert(2)</script>'
SERVICES = """\
services:
  emergency_number: "<img src=x onerror=alert(1)>"
  emergency_department: "A&E"
  urgent_service: "NHS 111"
"""
GLOSSARY = """\
- term: Ferritin
  also: ["<b>iron</b> store"]
  definition: '<script>alert(1)</script> A protein <img src=x onerror=alert(1)>.'
"""


PICTURE = bytes.fromhex(  # a 1 x 1 PNG
    "89504e470d0a1a0a0000000d4948445200000001000000010802000000907753de0000000c4944415408d763"
    "f8cfc0000003010100c9fe92ef0000000049454e44ae426082")


def hostile_site(make_site: Callable[[dict[str, str | bytes]], Path]) -> Path:
    head = (f"---\ntitle: {json.dumps(HOSTILE_TITLE)}\nsummary: {json.dumps(HOSTILE_SUMMARY)}"
            f"\ntopics: [rls]\nreviewed: 2026-01-10\n{SOURCES}---\n")
    other = ("---\ntitle: B\nsummary: Another page.\ntopics: [rls]\nreviewed: 2026-01-10\n"
             f"{SOURCES}---\nSee [the first](a.md).\n")
    # (the test's services are trusted site.yaml, but what they hold is still only text)
    config = re.sub(r"services:\n(?:  .*\n)+", SERVICES, SITE_YAML)
    return make_site({"site.yaml": config + "search: false\n",
                      "content/a.md": head + HOSTILE_BODY, "content/b.md": other,
                      "content/c.md": head.replace("title: ", "title: C ") + MARKDOWN_ONLY,
                      "content/glossary.yaml": GLOSSARY,
                      # the pictures the bodies show (a real picture: the srcset and
                      # onerror an attribute list tries to add are what is under test)
                      "content/a.png": PICTURE, "content/missing.png": PICTURE})


_URL_ATTRS = ("href", "src", "action", "formaction", "poster", "data", "srcset", "xlink:href",
              "background", "cite", "longdesc", "manifest", "ping", "usemap")
_NEVER = ("iframe", "object", "embed", "frame", "frameset", "form", "base", "applet", "math",
          "portal", "template")


_LOADING = ("img", "script", "video", "audio", "source", "track", "input", "image", "use",
            "embed", "object", "iframe", "frame")
_LOADING_RELS = {"stylesheet", "icon", "preload", "prefetch", "modulepreload", "manifest",
                 "apple-touch-icon"}


def _loads(el: Tag) -> bool:
    """Whether the browser fetches the element's address by itself (not a link to follow)."""
    return el.name in _LOADING or el.name == "link" and bool(set(el.get("rel", [])) &
                                                               _LOADING_RELS)


def _dangers(path: str, text: str) -> list[str]:
    """Everything in a published HTML page that could run script or reach another origin
    (with the site's own scripts, style sheet and structured data allowed)."""
    found = []
    soup = BeautifulSoup(text, "html.parser")
    for el in soup.find_all(True):
        for name, value in el.attrs.items():
            value = " ".join(value) if isinstance(value, list) else value
            if name.lower().startswith("on"):
                found.append(f"{path}: <{el.name} {name}=...>")
            if name == "style" and not re.fullmatch(r"text-align:\s*\w+;?", value.strip()):
                found.append(f"{path}: <{el.name} style={value!r}>")
            if name in _URL_ATTRS and not safe_url(htmllib.unescape(value)):
                found.append(f"{path}: <{el.name} {name}={value!r}>")
            if name in _URL_ATTRS and re.match(r"\s*(?:data|https?):|\s*[/\\]{2}", value) \
                    and _loads(el):
                found.append(f"{path}: <{el.name} {name}={value!r}> loads another site's file")
        if el.name in _NEVER:
            found.append(f"{path}: <{el.name}>")
        if el.name == "meta" and el.get("http-equiv", "").lower() == "refresh":
            found.append(f"{path}: <meta refresh>")
        if el.name == "script":
            if el.get("type") == "application/ld+json":
                json.loads(el.string or "")  # structured data, and nothing but
                if "<" in (el.string or ""):
                    found.append(f"{path}: '<' in structured data")
            elif not el.get("src", "").startswith("/static/") or el.string:
                found.append(f"{path}: <script {el.attrs}>")
        if el.name == "style" or el.name == "link" and el.get("rel") == ["stylesheet"] \
                and not el.get("href", "").startswith("/static/"):
            found.append(f"{path}: <{el.name}>")
        if el.name == "svg" and path != "topic-map/index.html":
            found.append(f"{path}: <svg>")
    return found


def test_hostile_content_publishes_nothing_that_runs_or_reaches_out(
        make_site: Callable[[dict[str, str | bytes]], Path], today: None) -> None:
    root = hostile_site(make_site)
    before = {p for p in root.parent.rglob("*")}
    result = build(root, write=True)
    assert not result.problems.errors, [p.format() for p in result.problems.sorted()]
    out = root / "_site"
    pages = sorted(out.rglob("*.html"))
    assert len(pages) > 5
    dangers = [d for p in pages for d in _dangers(
        p.relative_to(out).as_posix(), p.read_text(encoding="utf-8"))]
    assert dangers == []
    for p in pages:
        text = p.read_text(encoding="utf-8")
        assert "Content-Security-Policy" in text and "script-src 'self'" in text
        assert _only_as_text(text), p
    # the reader still sees what was written, as text
    page = (out / "a" / "index.html").read_text(encoding="utf-8")
    assert "&lt;/title&gt;&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert "Call &lt;img src=x onerror=alert(1)&gt;." in page
    # nothing written outside the output folder (and the project's own caches)
    made = {p for p in root.parent.rglob("*")} - before
    assert all(p.is_relative_to(out) or p.is_relative_to(root / ".cache")
               or p.name.startswith(".") and p.parent == root for p in made), sorted(made)


def test_the_detector_sees_what_it_looks_for() -> None:
    page = ('<img src=x onerror=alert(1)><a href="jav&#x09;ascript:x">a</a><iframe></iframe>'
            '<div style="color:red">x</div><script>alert(1)</script><img src="//e.example/x">')
    assert len(_dangers("p.html", page)) == 6
    assert not _only_as_text('<a title="alert(1)">x</a>') and _only_as_text("<p>alert(1)</p>")


def test_hostile_pages_run_nothing_in_a_real_browser_even_without_the_csp(
        make_site: Callable[[dict[str, str | bytes]], Path], today: None) -> None:
    """Each page in Chromium, as published and with its Content-Security-Policy taken out
    (what the sanitiser alone guarantees): no dialog opens, no request leaves 127.0.0.1."""
    from browser import chromium, serve

    root = hostile_site(make_site)
    assert not build(root, write=True).problems.errors
    out = root / "_site"
    opened: list[str] = []
    away: list[str] = []
    with serve(out) as base, chromium() as browser:
        page = browser.new_page()
        page.on("dialog", lambda d: (opened.append(d.message), d.dismiss()))
        page.on("request", lambda r: None if r.url.startswith((base, "data:")) else
                away.append(r.url))

        def without_csp(route: Any) -> None:
            response = route.fetch()
            body = re.sub(r'<meta http-equiv="Content-Security-Policy"[^>]*>', "",
                          response.text())
            route.fulfill(response=response, body=body)

        for path in sorted(out.rglob("*.html")):
            url = f"{base}/{path.relative_to(out).as_posix()}"
            page.goto(url, wait_until="load")
            page.route(url, without_csp)
            page.goto(url, wait_until="load")
            page.wait_for_timeout(50)
            page.unroute(url)
    assert opened == [] and away == []


def _only_as_text(text: str) -> bool:
    """Every 'alert(' in the page is inside text (escaped), never in markup."""
    soup = BeautifulSoup(text, "html.parser")
    for el in soup.find_all(True):
        for value in el.attrs.values():
            if "alert(" in (" ".join(value) if isinstance(value, list) else value) \
                    and el.name not in ("meta",):
                return False
        if el.name in ("script", "style") and "alert(" in (el.string or "") and \
                el.get("type") != "application/ld+json":  # (data, checked by _dangers)
            return False
    return True


def test_hostile_content_warnings_point_at_their_lines(
        make_site: Callable[[dict[str, str | bytes]], Path], today: None) -> None:
    root = hostile_site(make_site)
    found = build(root).problems.sorted()
    assert {"raw-html", "unsafe-attribute"} <= {p.code for p in found if p.path == "content/a.md"}
    assert {p.code for p in found if p.path == "content/c.md" and p.level == "warning"} >= {
        "unsafe-attribute"}
    assert all(p.line > 1 for p in found if p.code in ("raw-html", "unsafe-attribute"))


@pytest.mark.parametrize("body", [
    '<img src="//evil.example/x.png" alt="x">',
    '<img src="/\\evil.example/x.png" alt="x">',
    '<img src="https:\\\\evil.example/x.png" alt="x">',
    "![x](https://evil.example/x.png)",
    "![x](//evil.example/x.png)",
    '<video poster="//evil.example/p.png"></video>',
])
def test_content_that_would_load_another_sites_file_fails_the_build(
        body: str, make_site: Callable[[dict[str, str | bytes]], Path], today: None) -> None:
    head = "---\ntitle: A\nsummary: S.\ntopics: [rls]\nreviewed: 2026-01-10\n" + SOURCES
    root = make_site({"site.yaml": SITE_YAML + "search: false\n",
                      "content/a.md": head + "---\n" + body + "\n"})
    result = build(root, write=True)
    assert "external-resource" in {p.code for p in result.problems.sorted()} or \
        not any(re.search(r"evil\.example", p.read_text()) for p in (root / "_site").rglob("*")
                if p.suffix == ".html")


@pytest.mark.parametrize("url", ["javascript:alert(1)", "data:text/html,x", "//evil.example/"])
def test_a_sources_address_must_be_a_web_address(
        url: str, make_site: Callable[[dict[str, str | bytes]], Path], today: None) -> None:
    head = ("---\ntitle: A\nsummary: S.\ntopics: [rls]\nreviewed: 2026-01-10\nsources:\n"
            f"  - {{title: T, publisher: P, year: 2024, url: {json.dumps(url)}}}\n"
            "  - {title: U, publisher: P, year: 2024}\n---\nText.\n")
    root = make_site({"site.yaml": SITE_YAML, "content/a.md": head})
    result = build(root, write=True)
    assert result.problems.errors and not (root / "_site").exists()
