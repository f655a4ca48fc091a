"""Markdown stage on its own: each processor rewrites and records."""

from __future__ import annotations

import datetime as dt

from hypothesis import given, settings
from hypothesis import strategies as st

from healthsite.load.content import Article, GlossaryEntry
from healthsite.load.frontmatter import FrontMatter, Source
from healthsite.render.markup import Renderer


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
    a = make_article("![](leg.png)\n")  # (and the picture is not there)
    assert [p.code for p in renderer(a).render(a).problems] == ["image-alt", "broken-image"]


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


LINK_BITS = st.sampled_from(["[", "]", "(", ")", "]:", "](", " ", "   ", "\n", "a", "<", ">",
                             "x.md", "[r]: u.md\n", "[a](b.md)", "[r]: <u.md> ", "](c.md)"])


@settings(max_examples=500, deadline=None)
@given(st.lists(LINK_BITS, max_size=30).map("".join))
def test_link_targets_are_what_the_whole_expression_finds(body: str) -> None:
    from healthsite.render.markup import _LINK_SRC, _link_targets

    whole = [(m, 1 if m.group(1) else 2) for m in _LINK_SRC.finditer(body)]
    assert _link_targets(body) == [(m.start(g), m.group(g)) for m, g in whole]
