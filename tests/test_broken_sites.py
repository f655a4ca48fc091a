"""Broken sites: each folder under tests/sites/broken overlays tests/sites/base (its files are
copied over it, symbolic links kept; paths listed in _delete.txt are removed) and must give
exactly the diagnostics in its expected.txt: exit code 1 when they include an error, else 0
(cases such as a BOM or CRLF line endings must build)."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest
from conftest import BASE_SITE, copy_theme, run_cli

CASES = Path(__file__).resolve().parent / "sites" / "broken"


def materialise(case: Path, dest: Path) -> Path:
    """Copy the repo's templates and static files, the base site, then the case over them."""
    copy_theme(dest)
    shutil.copytree(BASE_SITE, dest, dirs_exist_ok=True)
    for path in sorted(case.rglob("*")):
        rel = path.relative_to(case)
        if rel.as_posix() in ("expected.txt", "_delete.txt") or path.is_dir() and \
                not path.is_symlink():
            continue
        (dest / rel).parent.mkdir(parents=True, exist_ok=True)
        if path.is_symlink():
            os.symlink(os.readlink(path), dest / rel)
        else:
            shutil.copyfile(path, dest / rel)
    deletions = case / "_delete.txt"
    if deletions.is_file():
        for line in deletions.read_text().split():
            (dest / line).unlink()
    return dest


@pytest.mark.parametrize("case", sorted(p.name for p in CASES.iterdir() if p.is_dir()))
def test_broken_site_gives_exact_diagnostics(case: str, tmp_path: Path, today: None,
                                             capsys: pytest.CaptureFixture[str]) -> None:
    root = materialise(CASES / case, tmp_path / "site")
    code, lines = run_cli(["check", "--root", str(root)], capsys)
    expected = (CASES / case / "expected.txt").read_text(encoding="utf-8").splitlines()
    assert lines[:-1] == expected
    assert code == (1 if any("error[" in line for line in expected) else 0)


def test_base_site_is_clean(tmp_path: Path, today: None,
                            capsys: pytest.CaptureFixture[str]) -> None:
    root = materialise(tmp_path / "no-such-case", tmp_path / "site")
    code, lines = run_cli(["check", "--strict", "--root", str(root)], capsys)
    assert code == 0, lines
    assert len(lines) == 1 and lines[0].startswith("Checked ")


def test_a_20_mb_markdown_file_gets_a_size_diagnostic(tmp_path: Path, today: None,
                                                     capsys: pytest.CaptureFixture[str]) -> None:
    root = materialise(tmp_path / "none", tmp_path / "site")
    huge = root / "content" / "huge.md"
    with huge.open("w") as fh:
        fh.write("---\ntitle: Huge\n---\n")
        line = "Restless legs are common and the urge to move is strong. " * 20 + "\n"
        while fh.tell() < 20_000_000:
            fh.write(line)
    code, lines = run_cli(["check", "--root", str(root)], capsys)
    assert code == 1
    assert lines[0].startswith("content/huge.md:1:1: error[too-large]: the file is 20,00")
    assert lines[0].endswith("bytes; the limit is 2,000,000 (split it into several articles)")
