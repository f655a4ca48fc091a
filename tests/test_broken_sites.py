"""Broken sites: each folder under tests/sites/broken overlays tests/sites/base and must give
exactly the diagnostics in its expected.txt, and exit code 1."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from conftest import BASE_SITE, REPO, run_cli

CASES = Path(__file__).resolve().parent / "sites" / "broken"


def materialise(case: Path, dest: Path) -> Path:
    """Copy the repo's templates and static files, the base site, then the case over them."""
    shutil.copytree(REPO / "templates", dest / "templates")
    shutil.copytree(REPO / "static", dest / "static")
    shutil.copytree(BASE_SITE, dest, dirs_exist_ok=True)
    for path in sorted(case.rglob("*")):
        rel = path.relative_to(case)
        if path.is_file() and rel.as_posix() != "expected.txt":
            (dest / rel).parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(path, dest / rel)
    return dest


@pytest.mark.parametrize("case", sorted(p.name for p in CASES.iterdir() if p.is_dir()))
def test_broken_site_gives_exact_diagnostics(case: str, tmp_path: Path, today: None,
                                             capsys: pytest.CaptureFixture[str]) -> None:
    root = materialise(CASES / case, tmp_path / "site")
    code, lines = run_cli(["check", "--root", str(root)], capsys)
    expected = (CASES / case / "expected.txt").read_text(encoding="utf-8").splitlines()
    assert lines[:-1] == expected
    assert code == 1


def test_base_site_is_clean(tmp_path: Path, today: None,
                            capsys: pytest.CaptureFixture[str]) -> None:
    root = materialise(tmp_path / "no-such-case", tmp_path / "site")
    code, lines = run_cli(["check", "--strict", "--root", str(root)], capsys)
    assert code == 0, lines
    assert len(lines) == 1 and lines[0].startswith("Checked ")
