"""Work in progress never blocks publishing, and a lapsed review never does either (issue 21):
a draft's problems are notices, shown on its own page with --drafts and in the preview; an
overdue article stays published, says so, and stays in reading next after the articles in
date; `healthsite review` is the gate that fails on it."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest
from browser import chromium, free_port, listening
from conftest import REPO, article, build, good_files, run_cli

from healthsite.errors import Level
from healthsite.pipeline import Options, build_site

MakeSite = Callable[..., Path]
BROKEN_DRAFT = "---\ntitle: Work in progress\ndraft: true\nsummary: [1, 2\n---\n\nText.\n"
TWO_YEARS_ON = "1843430400"  # 2028-06-01: every review in tests/sites/base has lapsed


def test_a_broken_draft_never_fails_a_strict_build(make_site: MakeSite, today: None,
                                                   capsys: pytest.CaptureFixture[str]) -> None:
    files = good_files()
    files["content/wip.md"] = BROKEN_DRAFT
    files["content/half.md"] = article("Half done", extra="draft: true\n",
                                       body="See [nowhere](missing.md).")
    root = make_site(files)
    code, lines = run_cli(["build", "--strict", "--root", str(root)], capsys)
    assert code == 0, lines
    # (a draft is not rendered without --drafts: only what loading it found is reported)
    assert lines[:-2] == [
        "content/wip.md:4:15: notice[yaml]: invalid YAML: expected ',' or ']', but got "
        "'<stream end>'"]
    assert lines[-2] == "0 errors, 0 warnings, 1 notice"
    out = root / "_site"
    assert (out / "iron" / "index.html").is_file()  # (the rest is published)
    assert not (out / "wip").exists() and not (out / "half-done").exists()


def test_with_drafts_each_draft_shows_its_problems_on_its_page(make_site: MakeSite,
                                                              today: None) -> None:
    files = good_files()
    files["content/wip.md"] = BROKEN_DRAFT
    files["content/half.md"] = article("Half done", extra="draft: true\n",
                                       body="See [nowhere](missing.md).")
    root = make_site(files)
    result = build_site(Options(root=root, drafts=True, strict=True))
    assert not result.problems.errors and not result.problems.warnings
    assert {p.level for p in result.problems.items()} == {Level.NOTICE}
    wip = (root / "_site" / "wip" / "index.html").read_text(encoding="utf-8")
    assert "Problems to fix before this page is published" in wip
    assert "line 4: invalid YAML" in wip and 'name="robots" content="noindex"' in wip
    half = (root / "_site" / "half" / "index.html").read_text(encoding="utf-8")
    assert "line 12: link to &#39;missing.md&#39;: no such file" in half
    # a published article never shows such a list
    iron = (root / "_site" / "iron" / "index.html").read_text(encoding="utf-8")
    assert "draft-problems" not in iron


def test_new_starts_a_draft(make_site: MakeSite, today: None,
                           capsys: pytest.CaptureFixture[str]) -> None:
    root = make_site(good_files())
    code, _ = run_cli(["new", "Leg cramps at night", "--topics", "iron", "--root", str(root)],
                      capsys)
    assert code == 0
    assert "draft: true" in (root / "content" / "leg-cramps-at-night.md").read_text()
    code, lines = run_cli(["build", "--strict", "--root", str(root)], capsys)
    assert code == 0 and lines[-2] == "0 errors, 0 warnings, 1 notice", lines


def test_overdue_reviews_never_block_and_stay_in_reading_next(
        make_site: MakeSite, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv("SOURCE_DATE_EPOCH", TWO_YEARS_ON)
    root = make_site(good_files())
    result = build_site(Options(root=root, strict=True))
    assert result.out_dir is not None  # (published)
    assert [p.code for p in result.problems.sorted()] == ["review-overdue"] * 3
    nxt = result.reading_next
    assert nxt is not None and nxt.overdue == {"clots", "iron", "overview"}
    for slug in ("clots", "iron", "overview"):
        assert nxt.by_article[slug], slug
        page = (root / "_site" / slug / "index.html").read_text(encoding="utf-8")
        assert 'class="review-overdue"' in page and "10 January 2027" in page
        assert page.count('<span class="reason">') == len(nxt.by_article[slug])
    code, lines = run_cli(["review", "--root", str(root)], capsys)
    assert code == 1
    assert lines[-1] == "3 overdue, 0 due within 30 days"
    assert lines[0].startswith("content/clots.md: OVERDUE 2027-01-10 (508 days ago")
    code, lines = run_cli(["review", "--root", str(root), "--format", "json"], capsys)
    data = json.loads("\n".join(lines))
    assert code == 1 and data["overdue"] == 3 and len(data["articles"]) == 3


def test_articles_in_date_come_before_overdue_ones(make_site: MakeSite, today: None) -> None:
    files = good_files()
    files["content/old.md"] = article("Old", "[iron]", "[iron](iron.md)", reviewed="2024-01-01")
    result = build(make_site(files))
    assert result.reading_next is not None
    for slug, chosen in result.reading_next.by_article.items():
        slugs = [s.slug for s in chosen]
        if "old" in slugs:  # (only after every article in date that was chosen)
            assert slugs.index("old") == len(slugs) - 1, (slug, slugs)
    assert any("old" in [s.slug for s in v] for v in result.reading_next.by_article.values())


def test_reviews_coming_due_are_notices_and_listed(make_site: MakeSite,
                                                   monkeypatch: pytest.MonkeyPatch,
                                                   capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1798761600")  # 2027-01-01: due in 9 days
    root = make_site(good_files())
    result = build_site(Options(root=root, strict=True))
    assert [p.code for p in result.problems.sorted()] == ["review-due"] * 3
    assert result.out_dir is not None
    code, lines = run_cli(["review", "--root", str(root), "--format", "github"], capsys)
    assert code == 0
    assert lines[0] == ("::warning file=content/clots.md,line=5,col=11,title=review-due::"
                        "review is due on 2027-01-10 (in 9 days) (review the article and "
                        "update 'reviewed:')").replace("col=11", "col=1")
    assert lines[-1] == "0 overdue, 3 due within 30 days"


def test_the_markdown_summary_lists_problems_reviews_and_pages(
        make_site: MakeSite, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv("SOURCE_DATE_EPOCH", TWO_YEARS_ON)
    files = good_files()
    files["content/iron.md"] = files["content/iron.md"].replace("Low iron", "Low | iron <b>")
    root = make_site(files)
    summary = root / "summary.md"
    summary.write_text("earlier steps\n")
    code, _ = run_cli(["build", "--strict", "--root", str(root), "--summary", str(summary)],
                      capsys)
    text = summary.read_text()
    assert code == 0 and text.startswith("earlier steps\n## healthsite: Passed\n")
    assert "| notice | `content/iron.md:5` | review-overdue | review was due on 2027-01-10" in text
    assert "### Reviews due within 30 days\n\n- `content/clots.md`: review was due" in text
    assert "### Pages changed (" in text and "- `iron/index.html`" in text


def test_the_preview_with_drafts_shows_a_broken_draft_and_its_problem(
        make_site: MakeSite, tmp_path: Path) -> None:
    files = good_files()
    files["content/wip.md"] = BROKEN_DRAFT
    root = make_site(files)
    port = free_port()
    env = {**os.environ, "SOURCE_DATE_EPOCH": "1780272000", "TMPDIR": str(tmp_path)}
    with open(tmp_path / "serve.log", "w") as log:
        proc = subprocess.Popen([sys.executable, str(REPO / "build.py"), "serve", "--drafts",
                                 "--root", str(root), "--port", str(port)],
                                stdout=log, stderr=subprocess.STDOUT, env=env)
    try:
        assert listening(port), (tmp_path / "serve.log").read_text()
        with chromium() as browser:
            page = browser.new_page()
            page.goto(f"http://127.0.0.1:{port}/wip/", wait_until="networkidle")
            assert page.locator("h1").inner_text() == "content/wip.md"
            problems = page.locator(".draft-problems li").all_inner_texts()
            assert problems and problems[0].startswith("line 4: invalid YAML"), problems
            page.goto(f"http://127.0.0.1:{port}/iron/", wait_until="networkidle")
            assert page.locator(".draft-problems").count() == 0  # (no blocking overlay)
            assert page.locator("h1").inner_text() == "Iron"
    finally:
        proc.terminate()
        proc.wait(timeout=10)



def test_this_site_two_years_on_publishes_with_every_box_full(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    """This repository's own site, with every review lapsed: the strict build (what CI runs)
    publishes, every article says its review is overdue and has reading next, and
    `healthsite review` lists them all and fails."""
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1859500800")  # 2028-12-04
    out = tmp_path / "_site"
    result = build_site(Options(root=REPO, out=out, strict=True, cache=False))
    assert result.out_dir == out, [p.format() for p in result.problems.sorted()][:5]
    graph, nxt = result.graph, result.reading_next
    assert graph is not None and nxt is not None
    articles = [a for a in graph.articles.values() if a.is_article]
    assert {p.code for p in result.problems.items()} == {"review-overdue"}
    for a in articles:
        page = (out / a.out_path).read_text(encoding="utf-8")
        assert 'class="review-overdue"' in page, a.path
        assert nxt.by_article[a.slug], a.path
        assert '<section id="reading-next"' in page and page.count('class="reason"') >= 1
    code, lines = run_cli(["review", "--root", str(REPO)], capsys)
    assert code == 1 and lines[-1] == f"{len(articles)} overdue, 0 due within 30 days"


def test_pages_changed_are_counted_against_the_cache_when_the_output_is_gone(
        make_site: MakeSite, today: None, capsys: pytest.CaptureFixture[str]) -> None:
    """On a CI runner .cache/ is restored but _site/ is not: the summary still lists only the
    pages whose bytes changed since the last build, not every page written again."""
    root = make_site(good_files())
    assert run_cli(["build", "--root", str(root)], capsys)[0] == 0
    shutil.rmtree(root / "_site")
    iron = root / "content" / "iron.md"
    iron.write_text(iron.read_text().replace("Low iron can matter", "Low iron may matter"))
    summary = root / "summary.md"
    assert run_cli(["build", "--root", str(root), "--summary", str(summary)], capsys)[0] == 0
    assert "### Pages changed (1)\n\n- `iron/index.html`\n" in summary.read_text()
