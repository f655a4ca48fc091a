"""Safety: hostile content never runs in a reader's browser; builds never collide; output
does not depend on hash seeds, directory order or time zone."""

from __future__ import annotations

import json
import os
import random
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest
from browser import chromium, serve
from conftest import REPO, SOURCES, good_files

from healthsite.pipeline import Options, build_site
from healthsite.publish.output import OutputError, build_lock, write_site

MakeSite = Callable[..., Path]

MARK = "window.__xss=1"
PAYLOADS = [
    f"<script>{MARK}</script>",
    f'<img src=x onerror="{MARK}">',
    f'<svg onload="{MARK}">',
    f'"><script>{MARK}</script>',
    f"'><img src=x onerror={MARK}>",
    f"javascript:{MARK}",
    f'<iframe src="javascript:{MARK}"></iframe>',
    f'<iframe srcdoc="<script>parent.{MARK}</script>"></iframe>',
    f"<body onload={MARK}>",
    f'<a href="javascript:{MARK}">x</a>',
    f'<a href="JaVaScRiPt:{MARK}">x</a>',
    f'<a href="&#106;avascript:{MARK}">x</a>',
    f'<a href="&#x6A;avascript&#58;{MARK}">x</a>',
    f"<math><mtext><table><mglyph><style><img src=x onerror={MARK}>",
    f"</script><script>{MARK}</script>",
    f"</title><script>{MARK}</script>",
    f"<details open ontoggle={MARK}>",
    f"<input autofocus onfocus={MARK}>",
    f'<object data="javascript:{MARK}"></object>',
    f'<embed src="javascript:{MARK}">',
    f'<form action="javascript:{MARK}"><button>x</button></form>',
    f"<style>@import 'javascript:{MARK}';</style>",
    f'<div style="background:url(javascript:{MARK})">x</div>',
    f"<scr<script>ipt>{MARK}</script>",
    f'<noscript><p title="</noscript><img src=x onerror={MARK}>">',
    f"<select><noembed></select><script>{MARK}</script>",
    f'<img src="data:image/svg+xml,<svg onload={MARK}>">',
    f'<meta http-equiv="refresh" content="0;url=javascript:{MARK}">',
    f'<base href="javascript:{MARK}//">',
    f'<video><source onerror="{MARK}"></video>',
    f'<audio src=x onerror="{MARK}">',
    f'<marquee onstart="{MARK}">x</marquee>',
    f'<a href="data:text/html,<script>{MARK}</script>">x</a>',
    "{{ 7*7 }}{% raw %}",
    f"[click](javascript:{MARK})",
    f"[click](JAVASCRIPT:{MARK})",
    f"![x](javascript:{MARK})",
    f"<javascript:{MARK}>",
    f'<svg><a xlink:href="javascript:{MARK}"><text>x</text></a></svg>',
    f"<template><script>{MARK}</script></template>",
]


def hostile_site() -> dict[str, str]:
    files = good_files()
    for i, payload in enumerate(PAYLOADS):
        q = json.dumps(payload)
        files[f"content/x{i:02d}.md"] = (
            f"---\ntitle: {json.dumps('Page ' + payload)}\nsummary: {q}\ntopics: [iron]\n"
            f"reviewed: 2026-01-10\nsources:\n  - title: {q}\n    publisher: {q}\n"
            f"    year: 2024\n  - {{title: B, publisher: NICE, year: 2023}}\n"
            f"condition: {q}\n---\n\n{payload}\n\nText {payload} inline. "
            f"See [iron](iron.md) and [clots](clots.md).\n")
    return files


def test_no_xss_payload_runs_in_chromium(make_site: MakeSite, today: None) -> None:
    root = make_site(hostile_site())
    out = root / "_site"
    result = build_site(Options(root=root, out=out))
    assert not result.problems.errors, [p.format() for p in result.problems.sorted()][:5]
    assert any(p.code == "raw-html" for p in result.problems.sorted())
    pages = sorted(p.relative_to(out).as_posix() for p in out.rglob("*.html")
                   if "pagefind" not in p.parts)
    from bs4 import BeautifulSoup

    for rel in pages:
        soup = BeautifulSoup((out / rel).read_text(), "html.parser")
        for tag in soup.find_all(True):
            assert not [a for a in tag.attrs if a.lower().startswith("on")], (rel, str(tag))
            for attr in ("href", "src", "action", "data", "formaction"):
                value = str(tag.get(attr, "")).strip().lower()
                assert not value.startswith(("javascript:", "data:", "vbscript:")), rel
        scripts = [t for t in soup.find_all("script")
                   if t.get("type") != "application/ld+json" and not t.get("src")]
        assert scripts == [], rel
        assert not soup.find_all(["iframe", "object", "embed", "base", "style", "template"]), rel
        assert not soup.find_all("meta", attrs={"http-equiv": "refresh"}), rel
        assert all(f.get("action", "").startswith("/") for f in soup.find_all("form")), rel
    fired: list[str] = []
    with serve(out) as url, chromium() as browser:
        # bypass the Content-Security-Policy: the sanitiser alone must stop every payload
        context = browser.new_context(bypass_csp=True)
        page = context.new_page()
        page.on("dialog", lambda d: (fired.append(d.message), d.dismiss()))
        for rel in pages:
            page.goto(f"{url}/{rel}", wait_until="load")
            page.wait_for_timeout(20)
            if page.evaluate("window.__xss === 1"):
                fired.append(rel)
            bad = page.evaluate("[...document.querySelectorAll('[href],[src],[action]')]"
                                ".map(e => e.href || e.src || e.action || '')"
                                ".filter(u => /^\\s*(javascript|data|vbscript):/i.test(u))")
            assert bad == [], rel
        context.close()
    assert fired == []
    assert len(PAYLOADS) >= 40


def test_a_second_build_at_once_is_refused(make_site: MakeSite, today: None) -> None:
    root = make_site(good_files())
    out = root / "_site"
    with build_lock(out):
        result = build_site(Options(root=root, out=out))
        assert [p.message for p in result.problems.sorted()] == [
            f"another build is writing {out}; try again when it ends"]
        with pytest.raises(OutputError, match="another build"):
            write_site(root, out, {"index.html": b"x"})
    assert not build_site(Options(root=root, out=out)).problems.errors


def tree(out: Path) -> dict[str, bytes]:
    return {p.relative_to(out).as_posix(): p.read_bytes() for p in sorted(out.rglob("*"))
            if p.is_file()}


def test_output_ignores_directory_order_and_time_zone(make_site: MakeSite, today: None,
                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    files = good_files()
    for i in range(12):
        files[f"content/extra-{i}.md"] = files["content/iron.md"].replace(
            "title: Iron", f"title: Extra {i}")
    root = make_site(files)
    build_site(Options(root=root, out=root / "a"))
    real_rglob = Path.rglob

    def shuffled(self: Path, pattern: str) -> list[Path]:
        found = list(real_rglob(self, pattern))
        random.Random(99).shuffle(found)
        return found

    monkeypatch.setattr(Path, "rglob", shuffled)
    build_site(Options(root=root, out=root / "b"))
    monkeypatch.undo()
    env = {**os.environ, "TZ": "Pacific/Kiritimati", "PYTHONHASHSEED": "77",
           "SOURCE_DATE_EPOCH": "1780272000"}
    subprocess.run([sys.executable, str(REPO / "build.py"), "build", "--root", str(root),
                    "--out", str(root / "c")], env=env, check=True, capture_output=True)
    assert tree(root / "a") == tree(root / "b") == tree(root / "c")


def test_front_matter_strings_are_always_escaped(make_site: MakeSite, today: None) -> None:
    files = good_files()
    files["content/iron.md"] = files["content/iron.md"].replace(
        "title: Iron", 'title: "Iron <b>bold</b> & \\"quotes\\""')
    result = build_site(Options(root=make_site(files), write=False))
    html = result.files["iron/index.html"].decode()
    assert "<h1 data-pagefind-meta=\"title\">Iron &lt;b&gt;bold&lt;/b&gt; &amp; &#34;quotes&#34;" \
        "</h1>" in html
    assert SOURCES  # the shared source list is what hostile_site() replaces
