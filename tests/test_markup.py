"""Markdown stage on its own: each processor rewrites and records."""

from __future__ import annotations

import datetime as dt
import re
import types

from hypothesis import given, settings
from hypothesis import strategies as st

from healthsite.content import Article, GlossaryEntry
from healthsite.frontmatter import FrontMatter, Source
from healthsite.markup import Renderer


def make_article(body: str, path: str = "content/a.md", sources: int = 2) -> Article:
    meta = FrontMatter(
        title="A", summary="S", kind="article", topics=("rls",), reviewed=dt.date(2026, 1, 1),
        next_review=dt.date(2027, 1, 1),
        sources=tuple(Source(f"T{i}", "NHS", 2024, None) for i in range(sources)),
        next=(), draft=False, condition=None, slug=None)
    slug = path.rsplit("/", 1)[-1][:-3]
    return Article(path, slug, f"/{slug}/", f"{slug}/index.html", meta, body, 10)


def renderer(*others: Article, glossary: list[GlossaryEntry] | None = None) -> Renderer:
    services = {"emergency_number": "911", "emergency_department": "the emergency room",
                "urgent_service": "urgent care"}
    return Renderer(services, {a.path: a.url for a in others}, glossary or [], "/glossary/")


def test_internal_links_are_rewritten_and_recorded() -> None:
    other = make_article("## Ferritin tests\n", "content/iron.md")
    a = make_article("See [iron](iron.md#ferritin-tests) and [top](#x) and [web](https://x.org).")
    r = renderer(other, a).render(a)
    assert '<a href="/iron/#ferritin-tests">iron</a>' in r.html
    assert '<a href="https://x.org">web</a>' in r.html
    assert [(lk.target, lk.anchor, lk.line, lk.col) for lk in r.links] == [
        ("content/iron.md", "ferritin-tests", 10, 12), (None, "x", 10, 46)]


def test_links_in_subfolders_resolve_relative_to_the_file() -> None:
    other = make_article("x", "content/iron.md")
    a = make_article("[up](../iron.md)", "content/sub/a.md")
    r = renderer(other, a).render(a)
    assert r.links[0].target == "content/iron.md"
    assert 'href="/iron/"' in r.html


def test_care_cards_have_nhs_semantics_and_site_services() -> None:
    a = make_article('## When to get help\n\n!!! emergency\n    - chest pain\n\n'
                     '!!! urgent "Get help today if:"\n    - a swollen leg\n')
    r = renderer(a).render(a)
    assert r.care_kinds == frozenset({"emergency", "urgent"})
    assert ('<div class="care-card care-card--emergency"><div class="care-card__heading-container">'
            '<h3 class="care-card__heading"><span class="visually-hidden">Immediate action '
            'required: </span>Call 911 or go to the emergency room now if:</h3></div>') in r.html
    assert '<span class="visually-hidden">Urgent advice: </span>Get help today if:</h3>' in r.html
    assert not r.problems


def test_unknown_care_card_is_an_error_with_a_suggestion() -> None:
    a = make_article('Intro.\n\n!!! emergancy\n    - chest pain\n')
    (p,) = renderer(a).render(a).problems
    assert p.format() == ("content/a.md:12:1: error[bad-care-card]: unknown care card "
                          "'emergancy' (did you mean 'emergency'?)")


def test_placeholders_come_from_site_services() -> None:
    a = make_article("Call {{emergency_number}} or {{ urgent_service }}. {{emergncy_number}}")
    r = renderer(a).render(a)
    assert "Call 911 or urgent care." in r.html
    assert [p.format() for p in r.problems] == [
        "content/a.md:10:52: error[bad-placeholder]: unknown placeholder '{{emergncy_number}}' "
        "(did you mean 'emergency_number'?)"]


def test_citations_link_to_sources_and_are_checked() -> None:
    a = make_article("Iron matters[^1]. Also[^3].\n\nA note[^n].\n\n[^n]: A real footnote.")
    r = renderer(a).render(a)
    assert '<sup class="cite"><a href="#source-1">[1]</a></sup>' in r.html
    assert 'class="footnote"' in r.html
    assert [p.code for p in r.problems] == ["bad-citation"]
    assert r.citations == frozenset({1, 3})
    assert "source-2" in r.anchors


def test_glossary_term_linked_on_first_use_only_and_not_in_headings() -> None:
    entry = GlossaryEntry("Ferritin", "A protein that stores iron.", ("serum ferritin",),
                          "term-ferritin")
    a = make_article("## Ferritin\n\nYour serum ferritin level. Ferritin again.\n")
    html = renderer(a, glossary=[entry]).render(a).html
    assert html.count('class="term"') == 1
    assert '<a class="term" href="/glossary/#term-ferritin">serum ferritin</a> level' in html
    assert '<h2 id="ferritin">Ferritin</h2>' in html


def test_heading_ids_are_stable_and_toc_recorded() -> None:
    a = make_article("## Iron & you\n\n### Tests: what to expect\n\n## Iron & you\n")
    r = renderer(a).render(a)
    assert [t[1] for t in r.toc] == ["iron-and-you", "tests-what-to-expect", "iron-and-you_1"]
    assert {"iron-and-you", "tests-what-to-expect"} <= r.anchors


def test_heading_levels_are_checked() -> None:
    a = make_article("# Second title\n\n## Fine\n\n#### Skipped\n")
    assert [p.format() for p in renderer(a).render(a).problems] == [
        "content/a.md:10:1: error[heading-order]: a second h1 heading 'Second title' "
        "(the title is the page's only h1: use ## for sections)",
        "content/a.md:14:1: error[heading-order]: heading 'Skipped' skips from h2 to h4 "
        "(use ### for this heading)"]


def test_tables_and_readable_text() -> None:
    a = make_article("| a | b |\n|---|---|\n| 1 | 2 |\n\nShort text\n\n- one item\n")
    r = renderer(a).render(a)
    assert "<table>" in r.html
    assert r.text == "Short text. one item."


def test_images_need_alt_text() -> None:
    a = make_article("![](leg.png)\n")
    assert [p.code for p in renderer(a).render(a).problems] == ["image-alt"]


def test_raw_html_is_sanitised_and_each_removal_reported() -> None:
    a = make_article('Hi <span onclick="steal()">there</span>.\n\n<script>alert(1)</script>\n\n'
                     '[x](javascript:alert(1))\n\n| a |\n|:-:|\n| 1 |\n')
    r = renderer(a).render(a)
    assert "script" not in r.html and "onclick" not in r.html and "javascript" not in r.html
    assert '<th style="text-align:center">a</th>' in r.html
    assert [p.format() for p in sorted(r.problems)] == [
        "content/a.md:10:10: warning[raw-html]: unsafe raw HTML removed: the onclick attribute "
        "of <span> (use Markdown instead of HTML)",
        "content/a.md:12:1: warning[raw-html]: unsafe raw HTML removed: <script> (use Markdown "
        "instead of HTML)",
        "content/a.md:14:5: warning[raw-html]: unsafe address removed: 'javascript:alert(1)' "
        "(link only to web pages)"]


def test_raw_html_can_be_escaped_or_allowed() -> None:
    a = make_article("<b>bold</b>")
    services = {"emergency_number": "999"}
    escaped = Renderer(services, {}, [], "/g/", raw_html="escape").render(a).html
    assert "&lt;b&gt;bold&lt;/b&gt;" in escaped
    assert "<b>bold</b>" in Renderer(services, {}, [], "/g/", raw_html="allow").render(a).html


def test_emergency_cards_have_no_onward_links() -> None:
    a = make_article('Intro.\n\n!!! emergency\n    - chest pain, see [more](other.md)\n'
                     '    - or call [999](tel:999)\n')
    assert [p.format() for p in renderer(a).render(a).problems] == [
        "content/a.md:13:30: error[care-card-link]: a link to 'other.md' inside an emergency "
        "card (an emergency card only says where to get help now; move the link out of the card)"]


# The inline pass that skips patterns which cannot match (healthsite/inline.py) and the block
# parser that skips tests which cannot pass (healthsite/blocks.py) must give exactly
# Python-Markdown's output.

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
    "{{emergency_number}}"])


def stock(r: Renderer) -> Renderer:
    """The same renderer with Python-Markdown's own inline pass and block parser."""
    from markdown.blockparser import BlockParser
    from markdown.extensions.attr_list import AttrListTreeprocessor
    from markdown.extensions.toc import TocExtension, TocTreeprocessor
    from markdown.preprocessors import HtmlBlockPreprocessor, NormalizeWhitespace
    from markdown.treeprocessors import InlineProcessor, UnescapeTreeprocessor

    r.md.treeprocessors.register(InlineProcessor(r.md), "inline", 20)
    r.md.preprocessors.register(NormalizeWhitespace(r.md), "normalize_whitespace", 30)
    r.md.preprocessors.register(HtmlBlockPreprocessor(r.md), "html_block", 20)
    r.md.treeprocessors.register(AttrListTreeprocessor(r.md), "attr_list", 8)
    r.md.treeprocessors.register(UnescapeTreeprocessor(r.md), "unescape", 0)
    r.md.parser.parseBlocks = types.MethodType(
        BlockParser.parseBlocks, r.md.parser)
    toc = next(e for e in r.md.registeredExtensions if isinstance(e, TocExtension))
    r.md.treeprocessors.register(TocTreeprocessor(r.md, toc.getConfigs()), "toc", 5)
    return r


def test_headings_get_python_markdowns_ids_and_contents() -> None:
    """The contents processor's quick way with plain headings (markup._Toc) gives what
    Python-Markdown's gives, for plain and other headings, and with the [TOC] marker."""
    body = ("## A\n\n## A\n\n## a\n\n## *Em* & `c<d` &amp; &#35;\n\n## Note[^1]\n\n"
            "## Fish & chips\n\n## Custom {#own}\n\n"
            "## Labelled {data-toc-label='Short *x*'}\n\n### Three\n\n"
            "#### Four\n\n## <span>raw</span> html\n\n## Back\\*slash\n\n## ferritin level\n\n"
            "Heading\n-------\n\n##   Spaces   around  \n\n## \n\n## Own-1 {#a}\n\n[^1]: x\n")
    glossary = [GlossaryEntry("ferritin", "A protein.", (), "ferritin")]
    for text in ("[TOC]\n\n" + body, body + "\n[TOC]\n", body):
        a = make_article(text)
        ours = renderer(a, glossary=glossary).render(a)
        assert ours == stock(renderer(a, glossary=glossary)).render(a), text
    # (a heading's own id is kept, and the others step around it)
    assert ours.toc[:3] == ((2, "a_1", "A"), (2, "a_2", "A"), (2, "a_3", "a"))


def test_pattern_starts_are_read_from_the_regular_expression() -> None:
    from healthsite.patterns import starts

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
    from healthsite.patterns import required

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

    from healthsite.blocks import gate_of

    md = renderer().md
    by_kind = {type(p).__name__: p for p in md.parser.blockprocessors}
    heading = gate_of(by_kind["HashHeaderProcessor"])
    assert heading is not None and heading("## Head") and not heading("A paragraph.")
    table = gate_of(by_kind["TableProcessor"])
    assert table is not None and not table("a | b") and table("a | b\n--|--")
    # a test that is not only its expression is always asked: cards, lists, paragraphs
    for kind in ("AdmonitionProcessor", "SaneUListProcessor", "ParagraphProcessor"):
        assert gate_of(by_kind[kind]) is None, kind

    class Subclass(HashHeaderProcessor):  # may answer differently: never skipped
        pass

    assert gate_of(Subclass(md.parser)) is None
    assert gate_of(ParagraphProcessor(md.parser)) is None


def test_skipping_passes_render_the_sites_articles_as_python_markdown() -> None:
    from conftest import REPO

    from healthsite.config import load_config
    from healthsite.content import load_articles, load_glossary
    from healthsite.errors import ProblemList

    problems = ProblemList()
    config = load_config(REPO, problems)
    assert config is not None
    articles = list(load_articles(config, dt.date(2026, 11, 21), problems).articles)
    glossary = load_glossary(config, problems)
    assert len(articles) > 20

    def make() -> Renderer:
        return Renderer(dict(config.services), {a.path: a.url for a in articles}, glossary,
                        "/glossary/", config.raw_html)

    ours, theirs = make(), stock(make())
    for a in articles:
        assert ours.render(a) == theirs.render(a), a.path


@settings(max_examples=300, deadline=None)
@given(st.lists(INLINE_BITS, max_size=40).map("".join))
def test_skipping_passes_give_python_markdowns_output(body: str) -> None:
    from healthsite.blocks import gate_of
    from healthsite.patterns import starts

    other = make_article("## Ferritin\n", "content/iron.md")
    a = make_article(body)
    glossary = [GlossaryEntry("ferritin", "A protein.", (), "ferritin")]
    ours = renderer(other, a, glossary=glossary)
    assert ours.render(a) == stock(renderer(other, a, glossary=glossary)).render(a)
    for pattern in ours.md.inlinePatterns:  # every match begins with one of its starts
        some = starts(pattern.getCompiledRegExp())
        if some is not None and pattern.getCompiledRegExp().search(body):
            assert any(s in body for s in some)
    for processor in ours.md.parser.blockprocessors:  # and holds what the gates look for
        expression = getattr(processor, "SEARCH_RE", getattr(processor, "RE", None))
        possible = gate_of(processor)
        if possible is not None and isinstance(expression, re.Pattern) and \
                expression.search(body):
            assert possible(body), type(processor).__name__


WHITESPACE_BITS = st.sampled_from(["a", " ", "  ", "\t", "\n", "\r", "\r\n", "\x02", "\x03", "b c"])
HTML_BITS = st.sampled_from(["a", " ", "\n", "\n\n", ";", "#", ">", "]]", "--", "-->", "?>", "!",
                             "'", '"', "=", "\t", "    ", "`", "\\", "{", "\x00", "\ufffd",
                             "&", "&amp;", "&#35;", "&#xa", "&zz;", "<", "<b>", "</b>", "<!--"])


@settings(max_examples=300, deadline=None)
@given(st.lists(st.lists(WHITESPACE_BITS, max_size=6).map("".join), max_size=6))
def test_quick_whitespace_step_gives_python_markdowns_lines(lines: list[str]) -> None:
    from markdown.preprocessors import NormalizeWhitespace

    from healthsite.blocks import QuickNormalizeWhitespace

    md = renderer().md
    lines = "\n".join(lines).split("\n")  # as Python-Markdown hands them over
    assert QuickNormalizeWhitespace(md).run(list(lines)) == NormalizeWhitespace(md).run(lines)


LINK_BITS = st.sampled_from(["[", "]", "(", ")", "]:", "](", " ", "   ", "\n", "a", "<", ">",
                             "x.md", "[r]: u.md\n", "[a](b.md)", "[r]: <u.md> ", "](c.md)"])


@settings(max_examples=500, deadline=None)
@given(st.lists(LINK_BITS, max_size=30).map("".join))
def test_link_targets_are_what_the_whole_expression_finds(body: str) -> None:
    from healthsite.markup import _LINK_SRC, _link_targets

    whole = [(m, 1 if m.group(1) else 2) for m in _LINK_SRC.finditer(body)]
    assert _link_targets(body) == [(m.start(g), m.group(g)) for m, g in whole]


@settings(max_examples=500, deadline=None)
@given(st.lists(HTML_BITS, max_size=30).map("".join))
def test_quick_html_step_gives_python_markdowns_lines(text: str) -> None:
    from markdown.preprocessors import HtmlBlockPreprocessor

    from healthsite.blocks import QuickHtmlBlock

    ours, theirs = renderer().md, renderer().md
    lines = text.split("\n")
    assert QuickHtmlBlock(ours).run(list(lines)) == HtmlBlockPreprocessor(theirs).run(lines)
    assert ours.htmlStash.rawHtmlBlocks == theirs.htmlStash.rawHtmlBlocks
