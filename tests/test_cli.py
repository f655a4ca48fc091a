"""The command line: verbs, exit codes, one sorted report, a summary."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest
from conftest import REPO, article, good_files, run_cli

MakeSite = Callable[..., Path]


def test_clean_build_exits_0_and_prints_a_summary(make_site: MakeSite, today: None,
                                                  capsys: pytest.CaptureFixture[str]) -> None:
    root = make_site(good_files())
    code, lines = run_cli(["build", "--root", str(root)], capsys)
    assert code == 0
    assert len(lines) == 1
    assert lines[0].startswith("Built 13 pages (3 articles, 0 site pages, 4 topics), "
                               "average reading grade ")
    assert lines[0].endswith(f" -> {root / '_site'}")
    assert (root / "_site" / "iron" / "index.html").is_file()


def test_check_writes_nothing(make_site: MakeSite, today: None,
                              capsys: pytest.CaptureFixture[str]) -> None:
    root = make_site(good_files())
    code, lines = run_cli(["check", "--root", str(root)], capsys)
    assert code == 0 and lines[0].startswith("Checked 13 pages")
    assert not (root / "_site").exists()


def test_out_option_and_default_verb(make_site: MakeSite, today: None,
                                     capsys: pytest.CaptureFixture[str]) -> None:
    root = make_site(good_files())
    code, _ = run_cli(["--root", str(root)], capsys)
    assert code == 0 and (root / "_site").is_dir()
    code, _ = run_cli(["build", "--root", str(root), "--out", str(root / "public")], capsys)
    assert code == 0 and (root / "public" / "index.html").is_file()


def test_warnings_fail_only_under_strict(make_site: MakeSite, today: None,
                                         capsys: pytest.CaptureFixture[str]) -> None:
    files = good_files()
    files["content/stub.md"] = article("Stub", "[iron]", "No links.")
    root = make_site(files)
    code, lines = run_cli(["check", "--root", str(root)], capsys)
    assert code == 0
    assert lines[:2] == [
        "content/stub.md:1:1: warning[dead-end]: this article links to no other article "
        "(link to a related article: [text](other.md))",
        "0 errors, 1 warning"]
    code, _ = run_cli(["check", "--strict", "--root", str(root)], capsys)
    assert code == 1


def test_errors_are_sorted_counted_and_nothing_is_written(make_site: MakeSite, today: None,
                                                          capsys: pytest.CaptureFixture[str]
                                                          ) -> None:
    files = good_files()
    files["content/iron.md"] = files["content/iron.md"].replace("topics: [iron]",
                                                                "topics: [iorn]\ncolour: red")
    root = make_site(files)
    code, lines = run_cli(["build", "--root", str(root)], capsys)
    assert code == 1
    assert lines[:3] == [
        "content/iron.md:4:10: error[unknown-topic]: unknown topic 'iorn' (did you mean 'iron'?)",
        "content/iron.md:5:1: error[fm-unknown-key]: unknown key 'colour' in front matter "
        "(known keys: aliases, also_known_as, condition, draft, kind, next, next_review, "
        "reviewed, slug, sources, summary, title, topics)",
        "2 errors, 0 warnings"]
    assert not (root / "_site").exists()


def test_usage_errors_exit_2(capsys: pytest.CaptureFixture[str]) -> None:
    assert run_cli(["publish"], capsys)[0] == 2
    assert run_cli(["build", "--nope"], capsys)[0] == 2


def test_build_py_and_console_script_agree(make_site: MakeSite, today: None) -> None:
    root = make_site(good_files())
    done = subprocess.run([sys.executable, str(REPO / "build.py"), "check", "--root",
                           str(root)], capture_output=True, text=True)
    assert done.returncode == 0 and done.stdout.startswith("Checked 13 pages")
    assert "Traceback" not in done.stderr


def test_json_format_has_the_documented_shape(make_site: MakeSite, today: None,
                                              capsys: pytest.CaptureFixture[str]) -> None:
    import json

    files = good_files()
    files["content/iron.md"] = files["content/iron.md"].replace("topics: [iron]",
                                                                "topics: [irn]")
    root = make_site(files)
    from healthsite.cli import main

    assert main(["check", "--format", "json", "--root", str(root)]) == 1
    captured = capsys.readouterr()
    data = json.loads(captured.out)
    assert data == {
        "version": 1, "ok": False, "counts": {"errors": 1, "warnings": 0, "notices": 0},
        "problems": [{"path": "content/iron.md", "line": 4, "col": 10, "level": "error",
                      "code": "unknown-topic", "message": "unknown topic 'irn'",
                      "hint": "did you mean 'iron'?"}]}
    assert captured.err.startswith("Checked ")


def test_github_annotations(make_site: MakeSite, today: None,
                            capsys: pytest.CaptureFixture[str],
                            monkeypatch: pytest.MonkeyPatch) -> None:
    files = good_files()
    files["content/iron.md"] = files["content/iron.md"].replace("topics: [iron]",
                                                                "topics: [irn]")
    root = make_site(files)
    monkeypatch.setenv("GITHUB_ACTIONS", "true")
    code, lines = run_cli(["check", "--root", str(root)], capsys)
    assert code == 1
    assert lines[0] == ("::error file=content/iron.md,line=4,col=10,title=unknown-topic::"
                        "unknown topic 'irn' (did you mean 'iron'?)")
    assert lines[1].startswith("content/iron.md:4:10: error[unknown-topic]")


def test_report_lists_suggestions_timings_and_reviews(make_site: MakeSite, today: None,
                                                     capsys: pytest.CaptureFixture[str]) -> None:
    import json

    root = make_site(good_files())
    code, _ = run_cli(["build", "--root", str(root), "--report", str(root / "r.json")], capsys)
    assert code == 0
    report = json.loads((root / "r.json").read_text())
    assert report["counts"]["articles"] == 3 and report["counts"]["pages"] == 13
    assert {"load", "markdown", "graph", "checks", "templates", "write"} <= set(report["timings"])
    iron = next(a for a in report["articles"] if a["slug"] == "iron")
    assert iron["reading_next"][0]["reasons"] and "score" in iron["reading_next"][0]
    assert iron["readability"]["grade"] >= 0
    assert report["review_due"][0]["next_review"] == "2027-01-10"


def test_readme_documents_every_check() -> None:
    from healthsite.catalogue import CHECKS

    readme = (REPO / "README.md").read_text()
    missing = [code for code in CHECKS if f"| `{code}` |" not in readme]
    assert missing == []



def test_a_fast_paths_switch_that_is_neither_on_nor_off_is_a_usage_error(
        make_site: MakeSite, today: None, capsys: pytest.CaptureFixture[str],
        monkeypatch: pytest.MonkeyPatch) -> None:
    """A typo (`of`) would leave the fast paths on without a word: exit 2, nothing built."""
    from healthsite.cli import main

    root = make_site(good_files())
    monkeypatch.setenv("HEALTHSITE_FAST_PATHS", "of")
    assert main(["build", "--root", str(root)]) == 2
    captured = capsys.readouterr()
    assert captured.out == "" and not (root / "_site").exists()
    assert captured.err == ("healthsite: error: HEALTHSITE_FAST_PATHS must be 'on' or 'off', "
                            "not 'of'\n")
    monkeypatch.setenv("HEALTHSITE_FAST_PATHS", " OFF ")
    assert main(["build", "--root", str(root)]) == 0


def test_a_long_report_is_json_with_an_article_a_line() -> None:
    """A report's long lists (the articles) are written an item a line, by json's C
    encoder; the whole still reads back as the same JSON."""
    from healthsite.cli import _report_text
    report = {"version": "1", "counts": {"articles": 30}, "review_due": [],
              "articles": [{"slug": f"a{i}", "grade": 6.5, "topics": ["iron", "é"]}
                           for i in range(30)]}
    text = _report_text(report)
    assert json.loads(text) == report
    assert sum(line.startswith('    {"slug"') for line in text.splitlines()) == 30
