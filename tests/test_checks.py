"""Editorial checks: each fires on a small broken site and stays quiet on a good one."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from conftest import SITE_YAML, article, good_files, problem_lines
from hypothesis import given, settings
from hypothesis import strategies as st

from healthsite.render.readability import reading_grade

MakeSite = Callable[..., Path]


def test_good_site_is_quiet(make_site: MakeSite, today: None) -> None:
    assert problem_lines(make_site(good_files())) == []


def test_too_few_sources(make_site: MakeSite, today: None) -> None:
    files = good_files()
    files["content/iron.md"] = files["content/iron.md"].replace(
        '  - {title: "RLS guideline", publisher: AASM, year: 2024}\n', "")
    assert problem_lines(make_site(files)) == [
        "content/iron.md:7:3: error[min-sources]: 1 source(s); the site requires at least 2 "
        "(cite guidelines or reviews under 'sources:')"]


def test_review_overdue(make_site: MakeSite, today: None) -> None:
    files = good_files()
    files["content/iron.md"] = files["content/iron.md"].replace(
        "reviewed: 2026-01-10", "reviewed: 2024-01-10")
    files["content/clots.md"] = files["content/clots.md"].replace(
        "reviewed: 2026-01-10", "reviewed: 2025-01-10\nnext_review: 2026-03-01")
    # notices (a lapsed review never blocks publishing), and the overdue articles are still
    # suggested (after those in date), so no reading-next box is left empty
    assert problem_lines(make_site(files)) == [
        "content/clots.md:6:14: notice[review-overdue]: review was due on 2026-03-01 "
        "(review the article and update 'reviewed:')",
        "content/iron.md:5:11: notice[review-overdue]: review was due on 2025-01-10 "
        "(review the article and update 'reviewed:')"]


def test_alarm_terms_need_an_urgent_or_emergency_card(make_site: MakeSite, today: None) -> None:
    files = good_files()
    files["content/iron.md"] = files["content/iron.md"].replace(
        "Low iron can matter[^1].", "Low iron can matter[^1].\n\nSudden Chest pain is serious.")
    assert problem_lines(make_site(files)) == [
        "content/iron.md:15:1: error[alarm-without-care-card]: mentions 'chest pain' but has no "
        "urgent or emergency care card (add !!! urgent \"…\" or !!! emergency \"…\" saying "
        "where to get help)"]
    files["content/iron.md"] += '\n!!! urgent "Get help"\n    - chest pain\n'
    assert problem_lines(make_site(files)) == []


def test_reading_grade_above_target_is_a_warning(make_site: MakeSite, today: None) -> None:
    hard = ("Pharmacological interventions targeting dopaminergic neurotransmission "
            "demonstrate considerable heterogeneity regarding therapeutic effectiveness, "
            "necessitating individualised consideration of contraindications and comorbidities.")
    files = good_files()
    files["content/iron.md"] = files["content/iron.md"].replace("Low iron can matter[^1].",
                                                                hard + "[^1]")
    lines = problem_lines(make_site(files))
    assert len(lines) == 1
    assert lines[0].startswith("content/iron.md:1:1: warning[readability]: reading grade ")
    assert lines[0].endswith("is above the site target of 9 (use shorter sentences and "
                             "plainer words)")
    files["site.yaml"] = SITE_YAML + "checks:\n  readability: off\n"
    assert problem_lines(make_site(files)) == []


def test_reading_grade_uses_blocks_as_sentences() -> None:
    assert reading_grade("The cat sat. It was warm.").grade < 3
    assert reading_grade("").words == 0


def test_long_summary_is_a_warning(make_site: MakeSite, today: None) -> None:
    files = good_files()
    files["content/clots.md"] = article("Clots", "[dvt]", files["content/clots.md"].split(
        "---\n\n", 1)[1]).replace("summary: A short summary of clots.", "summary: " + "x" * 170)
    assert [ln.split(": ", 2)[1] for ln in problem_lines(make_site(files))] == [
        "warning[summary-length]"]


def test_external_resources_in_output_are_errors(make_site: MakeSite, today: None) -> None:
    files = good_files()
    root = make_site(files)
    base = root / "templates" / "base.html"
    base.write_text(base.read_text().replace(
        "</head>", '<link rel="stylesheet" href="https://fonts.example.com/x.css">\n'
                   '<script src="//cdn.example.com/a.js"></script>\n</head>'))
    css = root / "static" / "style.css"
    css.write_text(css.read_text() + "\n@import 'https://evil.example/x.css';\n"
                   "body { background: url(https://t.example/p.png); }\n")
    lines = problem_lines(root)
    assert len(lines) == 2 * 13 + 2  # two per HTML page, plus two in the CSS
    assert any("error[external-resource]: loads 'https://fonts.example.com/x.css'" in ln
               for ln in lines)
    assert any("error[external-resource]: loads '//cdn.example.com/a.js'" in ln for ln in lines)
    assert sum(ln.startswith("static/style.") for ln in lines) == 2


def test_links_to_other_sites_are_not_resources(make_site: MakeSite, today: None) -> None:
    files = good_files()
    files["content/iron.md"] += "\nSee [the NHS](https://www.nhs.uk/) for more.\n"
    assert problem_lines(make_site(files)) == []


@settings(max_examples=200, deadline=None)
@given(st.lists(st.sampled_from([
    "<IMG ", "<img src=", "<link ", "rel=stylesheet ", "rel=icon", " href=", " src=", "srcset=",
    '"', "'", "//evil.example/x.js", "https://e.example/s.css", "http://z/", ">", "<script",
    "url(", "@import ", " ", "\n", "<use xlink:href=", "<iFrame data=", "<VIDEO poster=",
    "<frame ", "<object ", "<linkx", "<a href=", "text", "<",
    # letters whose lower case lengthens the text or which IGNORECASE matches to ASCII
    "\u0130", "\u0131", "<\u017fcript ", "<lin\u212a rel=stylesheet ", "\u2014", "é"]),
    max_size=40))
def test_fast_resource_scan_finds_what_the_pattern_finds(parts: list[str]) -> None:
    from healthsite.check.checks import _RESOURCE, _resources

    text = "".join(parts)
    assert [m.span() for m in _resources(text)] == [m.span() for m in _RESOURCE.finditer(text)]


def test_a_letter_that_lengthens_in_lower_case_hides_no_script() -> None:
    from healthsite.check.checks import check_file
    from healthsite.errors import ProblemList

    problems = ProblemList()  # "İ" lower-cased is two characters: positions would shift
    check_file("a/index.html", "<p>İ</p><script src='//evil.example/x.js'></script>".encode(),
               problems)
    assert [p.code for p in problems.items()] == ["external-resource"]
