"""Shared fixtures: throw-away sites from dedented strings, built with the real templates."""

from __future__ import annotations

import gc
import shutil
import textwrap
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from healthsite.cli import main
from healthsite.pipeline import BuildResult, Options, build_site

REPO = Path(__file__).resolve().parent.parent
THEME = REPO / "healthsite" / "theme"


def copy_theme(root: Path) -> None:
    """Give a test site the packaged theme's templates and static files as its own (so a
    test can edit them as an editor edits an override)."""
    shutil.copytree(THEME / "templates", root / "templates", dirs_exist_ok=True)
    shutil.copytree(THEME / "static", root / "static", dirs_exist_ok=True)
SHARED = REPO.parent / "shared"

SITE_YAML = """\
title: Test Health Site
description: A small site used by the tests.
base_url: https://example.org/
language: en-GB
publisher: Test editorial team
services:
  emergency_number: "999"
  emergency_department: "A&E"
  urgent_service: "NHS 111"
review:
  interval_months: 12
  min_sources: 2
alarm_terms: [chest pain]
topics:
  - slug: rls
    title: Restless legs
    description: About restless legs.
  - slug: causes
    parent: rls
    title: Causes
    description: What causes it.
  - slug: iron
    parent: causes
    title: Iron
    description: Iron and RLS.
    lay: [low iron]
    clinical: [ferritin]
  - slug: dvt
    title: Blood clots
    description: Deep vein thrombosis.
"""

SOURCES = """\
sources:
  - {title: "Restless legs syndrome", publisher: NHS, year: 2024}
  - {title: "RLS guideline", publisher: AASM, year: 2024}
"""


def article(title: str, topics: str = "[rls]", body: str = "Text.", extra: str = "",
            reviewed: str = "2026-01-10") -> str:
    """The text of a valid article with the given parts."""
    return (f"---\ntitle: {title}\nsummary: A short summary of {title.lower()}.\n"
            f"topics: {topics}\nreviewed: {reviewed}\n{SOURCES}{extra}---\n\n"
            + textwrap.dedent(body).strip() + "\n")


BASE_SITE = Path(__file__).resolve().parent / "sites" / "base"


def good_files() -> dict[str, str]:
    """A small site (tests/sites/base) that builds with no problems at all."""
    return {p.relative_to(BASE_SITE).as_posix(): p.read_text(encoding="utf-8")
            for p in sorted(BASE_SITE.rglob("*")) if p.is_file()}


@pytest.fixture(autouse=True)
def _collector_untouched() -> Iterator[None]:
    """The library leaves Python's cycle collector as it found it: on, nothing frozen (the
    one-shot command line turns it off for its own process: cli.collector_off)."""
    yield
    assert gc.isenabled() and gc.get_freeze_count() == 0


@pytest.fixture(scope="session")
def built_repo_site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The repository's own site, built once per test run into a temporary folder."""
    out = tmp_path_factory.mktemp("repo-site") / "_site"
    result = build_site(Options(root=REPO, out=out, cache=False))
    assert not result.problems.errors, [p.format() for p in result.problems.sorted()]
    return out


@pytest.fixture(scope="module")
def base_url(built_repo_site: Path) -> Iterator[str]:
    """The repository's own site, built once, served on 127.0.0.1 (for browser tests)."""
    from browser import serve

    with serve(built_repo_site) as url:
        yield url


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    """Debian's Chromium through Playwright, one per test module (see browser.chromium)."""
    from browser import chromium

    with chromium() as b:
        yield b


@pytest.fixture
def make_site(tmp_path: Path) -> Callable[[dict[str, str | bytes]], Path]:
    """Write a site into a temp folder, with the repo's real templates and static files."""

    count = iter(range(1000))

    def make(files: dict[str, str | bytes], templates: bool = True) -> Path:
        n = next(count)
        root = tmp_path / ("site" if n == 0 else f"site{n}")
        if templates:
            copy_theme(root)
        for name, text in files.items():
            path = root / name
            path.parent.mkdir(parents=True, exist_ok=True)
            if isinstance(text, bytes):
                path.write_bytes(text)
            else:
                path.write_text(text, encoding="utf-8")
        (root / "content").mkdir(exist_ok=True)
        return root

    return make


@pytest.fixture
def today(monkeypatch: pytest.MonkeyPatch) -> None:
    """Pin the build's date (2026-06-01) so review checks do not depend on the calendar."""
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1780272000")


def build(root: Path, write: bool = False, drafts: bool = False) -> BuildResult:
    return build_site(Options(root=root, write=write, drafts=drafts))


def problem_lines(root: Path) -> list[str]:
    return [p.format() for p in build(root).problems.sorted()]


def run_cli(args: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, list[str]]:
    code = main(args)
    return code, capsys.readouterr().out.splitlines()
