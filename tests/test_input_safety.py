"""Hostile inputs (issue 16): every one is a located problem, never a traceback, a hang, a
file read from outside the project or a line that GitHub Actions runs as a command. The
exact diagnostics of most are broken-site cases (tests/sites/broken/); these tests cover
what a case folder cannot hold (named pipes, links to them, the environment) or say more
than its diagnostics (what is published, what `new` writes)."""

from __future__ import annotations

import datetime as dt
import json
import os
import subprocess
import sys
import time
import unicodedata
from collections.abc import Callable
from pathlib import Path

import pytest
from conftest import REPO, good_files, run_cli

from healthsite.errors import Level, Problem, shown
from healthsite.load.config import SLUG_MAX
from healthsite.load.content import new_slug, slugify
from healthsite.load.frontmatter import add_months
from healthsite.load.yamlio import HugeNumber, parse
from healthsite.render.svg import svg_problem

MakeSite = Callable[..., Path]
EPOCH = "1780272000"  # 2026-06-01, as the `today` fixture


def cli(root: Path, *args: str, env: dict[str, str] | None = None,
        timeout: float = 60) -> subprocess.CompletedProcess[str]:
    """The command line in a process of its own (a hang fails the test, not the run)."""
    return subprocess.run(
        [sys.executable, str(REPO / "build.py"), *args, "--root", str(root)],
        capture_output=True, text=True, timeout=timeout, cwd=REPO,
        env={**os.environ, "SOURCE_DATE_EPOCH": EPOCH, **(env or {})})


# -- item 3: dates past 9999 ------------------------------------------------------------------

def test_add_months_past_the_last_date_gives_the_last_date() -> None:
    assert add_months(dt.date(9999, 6, 1), 12) == dt.date.max
    assert add_months(dt.date(2026, 1, 31), 100_000) == dt.date.max
    assert add_months(dt.date(2024, 1, 31), 1) == dt.date(2024, 2, 29)


# -- item 4: numbers too long to convert ------------------------------------------------------

def test_a_5000_digit_number_is_kept_as_text_for_the_schema_to_refuse() -> None:
    value = parse("year: " + "7" * 5000).value["year"]
    assert isinstance(value, HugeNumber) and str(value) == "a number with 5,000 digits"
    assert parse("year: 2024").value == {"year": 2024}


# -- item 5: long slugs, and the slug `new` makes ---------------------------------------------

def test_new_with_a_long_title_makes_a_slug_that_fits(make_site: MakeSite, today: None,
                                                      capsys: pytest.CaptureFixture[str]) -> None:
    root = make_site(good_files())
    title = "Restless legs and what the latest research says about them " * 5  # 300
    code, _ = run_cli(["new", title, "--topics", "rls", "--root", str(root)], capsys)
    assert code == 0
    [made] = [p for p in (root / "content").iterdir() if p.name.startswith("restless")]
    assert len(made.stem) <= SLUG_MAX and made.stem == new_slug(title)
    assert made.stem.endswith("-them-restless-legs-and-what-the-latest")  # (cut at a word)


@pytest.mark.parametrize(("title", "slug"), [
    ("Iron: tests & results", "iron-tests-and-results"),
    ("Caf\u00e9 cr\u00e8me", "cafe-creme"),
    ("Cafe\u0301 cre\u0300me", "cafe-creme"),  # typed in NFD
    ("Con", "con-article"),  # a device name on Windows
    ("Search", "search-article"),  # a name the site uses
    ("???", "article"),
    ("x" * 300, "x" * SLUG_MAX),
    ("S\u00edndrome de piernas inquietas", "sindrome-de-piernas-inquietas"),
    ("Syndrom coesau aflonydd \u0175 \u0177", "syndrom-coesau-aflonydd-w-y"),
    ("\u0421\u0438\u043d\u0434\u0440\u043e\u043c \u0431\u0435\u0441\u043f\u043e\u043a"
     "\u043e\u0439\u043d\u044b\u0445 \u043d\u043e\u0433", "sindrom-bespokoinykh-nog"),
    ("\u03a9\u03bc\u03ad\u03b3\u03b1", "omega"),
])
def test_new_slug(title: str, slug: str) -> None:
    assert new_slug(title) == slug


# -- item 11: links out of static/ and templates/, named pipes --------------------------------

def test_a_link_out_of_static_is_neither_read_nor_published(make_site: MakeSite,
                                                            tmp_path: Path) -> None:
    root = make_site(good_files())
    pipe = tmp_path / "pipe"  # reading it would wait for a writer for ever
    os.mkfifo(pipe)
    os.symlink(pipe, root / "static" / "pipe.txt")
    os.symlink("/proc/self/environ", root / "static" / "environ.txt")
    os.symlink(pipe, root / "templates" / "pipe.html")
    done = cli(root, "build")
    assert done.returncode == 1, done.stderr
    assert done.stdout.splitlines()[:3] == [
        "static/environ.txt:1:1: error[io]: a symbolic link that points outside static/ "
        "(copy the file into static/ instead)",
        "static/pipe.txt:1:1: error[io]: a symbolic link that points outside static/ "
        "(copy the file into static/ instead)",
        "templates/pipe.html:1:1: error[io]: a symbolic link that points outside templates/ "
        "(copy the file into templates/ instead)"]
    assert not (root / "_site").exists()


def test_named_pipes_in_input_folders_are_reported_not_read(make_site: MakeSite) -> None:
    root = make_site(good_files())
    for name in ("content/pipe.md", "static/pipe.css", "templates/pipe.html"):
        os.mkfifo(root / name)
    done = cli(root, "check")
    assert done.returncode == 1, done.stderr
    assert done.stdout.splitlines()[:3] == [
        "content/pipe.md:1:1: error[io]: cannot read the file: not a regular file but a named "
        "pipe",
        "static/pipe.css:1:1: error[io]: not a regular file but a named pipe (remove it)",
        "templates/pipe.html:1:1: error[io]: not a regular file but a named pipe (remove it)"]


def test_a_link_inside_static_is_published(make_site: MakeSite, today: None,
                                           capsys: pytest.CaptureFixture[str]) -> None:
    root = make_site(good_files())
    (root / "static" / "img").mkdir()
    (root / "static" / "img" / "a.txt").write_text("hello")
    os.symlink("img/a.txt", root / "static" / "b.txt")
    os.symlink("img", root / "static" / "pictures")  # a folder link: not followed
    code, lines = run_cli(["build", "--root", str(root)], capsys)
    assert code == 0, lines
    assert (root / "_site" / "static" / "b.txt").read_text() == "hello"
    assert not (root / "_site" / "static" / "pictures").exists()


# -- item 13: nothing echoed becomes a workflow command ---------------------------------------

def test_no_value_prints_a_workflow_command(make_site: MakeSite, today: None,
                                            capsys: pytest.CaptureFixture[str],
                                            monkeypatch: pytest.MonkeyPatch) -> None:
    files = good_files()
    files["content/iron.md"] = files["content/iron.md"].replace(
        "topics: [iron]",
        'topics: [iron, "x\\n::error file=content/clots.md,line=1::pwned", "'
        + "y" * 100_000 + '"]')
    root = make_site(files)
    monkeypatch.setenv("GITHUB_ACTIONS", "true")
    code, lines = run_cli(["check", "--root", str(root)], capsys)
    assert code == 1
    commands = [ln for ln in lines if ln.startswith("::")]
    assert len(commands) == 2 and all(ln.startswith("::error file=content/iron.md,line=4,")
                                      for ln in commands)
    assert "unknown topic 'x\\n::error file=content/clots.md" in commands[0]
    assert max(map(len, lines)) < 1000  # the 100,000 characters are cut
    assert "y" * 190 + "\u2026'" in lines[1]


def test_json_output_is_cut_too(make_site: MakeSite, today: None,
                                capsys: pytest.CaptureFixture[str]) -> None:
    from healthsite.cli import main

    files = good_files()
    files["content/iron.md"] = files["content/iron.md"].replace(
        "topics: [iron]", 'topics: [iron, "' + "y" * 100_000 + '\\r"]')
    root = make_site(files)
    assert main(["check", "--format", "json", "--root", str(root)]) == 1
    [problem] = json.loads(capsys.readouterr().out)["problems"]
    assert len(problem["message"]) < 300 and "\r" not in problem["message"]


def test_problem_lines_are_single_lines() -> None:
    p = Problem("::x\n.md", 1, 1, Level.ERROR, "yaml", "a\r\nb\x1b[2J\u202e", "::hint\n")
    assert p.format() == "./::x\\n.md:1:1: error[yaml]: a\\r\\nb\\x1b[2J\\u202e (::hint\\n)"
    assert shown("z" * 500) == "z" * 199 + "\u2026"
    assert shown(shown("a\nb")) == "a\\nb"


# -- item 17: SVG files ------------------------------------------------------------------------

def test_a_billion_laughs_svg_is_refused_at_once() -> None:
    entities = "".join(f'<!ENTITY e{i} "{f"&e{i - 1};" * 10}">' for i in range(1, 12))
    bomb = f'<!DOCTYPE svg [<!ENTITY e0 "lol">{entities}]><svg>&e11;</svg>'.encode()
    start = time.perf_counter()
    found = svg_problem(bomb)
    assert found is not None and "DOCTYPE" in found[0]
    assert time.perf_counter() - start < 1


def test_safe_svgs_are_published_and_unsafe_ones_are_not(make_site: MakeSite, today: None,
                                                        capsys: pytest.CaptureFixture[str]
                                                        ) -> None:
    root = make_site(good_files())
    fine = (REPO / "tests/sites/broken/unsafe-svg/static/fine.svg").read_bytes()
    (root / "static" / "fine.svg").write_bytes(fine)
    code, lines = run_cli(["build", "--root", str(root)], capsys)
    assert code == 0, lines
    assert (root / "_site" / "static" / "fine.svg").read_bytes() == fine
    # the favicon, which every page names, made unsafe: only it is reported (pages still
    # render), and nothing is published
    (root / "static" / "favicon.svg").write_text(
        '<svg xmlns="http://www.w3.org/2000/svg" onload="alert(1)"/>')
    code, lines = run_cli(["build", "--root", str(root), "--out", str(root / "out")], capsys)
    assert code == 1
    assert lines[:-1] == [
        "static/favicon.svg:1:1: error[unsafe-svg]: unsafe SVG: an event handler attribute "
        "(onload=) (an SVG opened on its own runs on the site's address: export it again as a "
        "plain picture, or remove it)", "1 error, 0 warnings"]
    assert not (root / "out").exists()


# -- item 18: base_url ------------------------------------------------------------------------

@pytest.mark.parametrize(("url", "message"), [
    ("https://editor@example.org/", "must not contain a user name or password"),
    ("https://:pw@example.org/", "must not contain a user name or password"),
    ("https://example.org/?", "must not contain a query (?...)"),
    ("https://example.org/#", "must not contain a fragment (#...)"),
    ("https://example.org/a b/", "must not contain spaces or control characters"),
    ("https://[oops/", "is not a valid address: Invalid IPv6 URL"),
    ("https://example.org:99999/", "is not a valid address: Port out of range 0-65535"),
])
def test_base_url_must_be_a_plain_address(make_site: MakeSite, today: None, url: str,
                                          message: str,
                                          capsys: pytest.CaptureFixture[str]) -> None:
    files = good_files()
    files["site.yaml"] = files["site.yaml"].replace("base_url: https://example.org/",
                                                    f'base_url: "{url}"')
    root = make_site(files)
    code, lines = run_cli(["check", "--root", str(root)], capsys)
    assert code == 1
    assert lines[0].startswith("site.yaml:3:11: error[config-type]: ") and message in lines[0]
    assert lines[1] == "1 error, 0 warnings"
    assert "pw" not in lines[0] and "editor" not in lines[0]


# -- item 28: one name, whatever its Unicode form ---------------------------------------------

def test_slugify_reads_nfd_as_nfc() -> None:
    nfc, nfd = "Caf\u00e9 au lait", unicodedata.normalize("NFD", "Caf\u00e9 au lait")
    assert nfc != nfd and slugify(nfd) == slugify(nfc) == "caf\u00e9-au-lait"


def test_a_link_in_nfc_reaches_a_file_named_in_nfd(make_site: MakeSite, today: None,
                                                   capsys: pytest.CaptureFixture[str]) -> None:
    files = good_files()
    nfd = unicodedata.normalize("NFD", "caf\u00e9")
    files[f"content/{nfd}.md"] = files["content/iron.md"].replace(
        "title: Iron\n", "title: Coffee\nslug: cafe\n")
    files["content/overview.md"] = files["content/overview.md"].replace(
        "Read about", "Read about [coffee](caf\u00e9.md#ferritin-tests) and")
    root = make_site(files)
    code, lines = run_cli(["build", "--root", str(root)], capsys)
    assert code == 0, lines
    page = (root / "_site" / "overview" / "index.html").read_text()
    assert 'href="/cafe/#ferritin-tests"' in page
