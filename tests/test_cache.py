"""The rendered-Markdown cache: reused only when every input matches, never trusted when
damaged, safe to share between builds running at once; unchanged output files are kept."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

from conftest import REPO, good_files

from healthsite.pipeline import Options, build_site

MakeSite = Callable[..., Path]


def synthetic(tmp_path: Path, n: int = 250) -> Path:
    sys.path.insert(0, str(REPO / "bench"))
    from synth import generate

    return generate(tmp_path / "site", n)


def test_cached_build_equals_uncached(tmp_path: Path) -> None:
    root = synthetic(tmp_path)
    cold = build_site(Options(root=root, write=False))
    assert cold.counts["articles_rendered"] == 250
    warm = build_site(Options(root=root, write=False))
    assert warm.counts["articles_rendered"] == 0
    fresh = build_site(Options(root=root, write=False, cache=False))
    assert warm.files == cold.files == fresh.files
    assert [p.format() for p in warm.problems.sorted()] == \
        [p.format() for p in fresh.problems.sorted()]


def test_changed_inputs_miss_the_cache(make_site: MakeSite, today: None) -> None:
    root = make_site(good_files())
    build_site(Options(root=root, write=False))
    iron = root / "content" / "iron.md"
    iron.write_text(iron.read_text().replace("Low iron can matter", "Low iron matters"))
    assert build_site(Options(root=root, write=False)).counts["articles_rendered"] == 1
    # a new article changes every link target's URL map: everything renders again
    (root / "content" / "new.md").write_text(
        good_files()["content/iron.md"].replace("title: Iron", "title: New"))
    assert build_site(Options(root=root, write=False)).counts["articles_rendered"] == 4
    # the glossary is part of every key too
    glossary = root / "content" / "glossary.yaml"
    glossary.write_text(glossary.read_text() + "- term: Clot\n  definition: A lump of blood.\n")
    assert build_site(Options(root=root, write=False)).counts["articles_rendered"] == 4


def test_damaged_cache_files_are_ignored_and_rewritten(tmp_path: Path) -> None:
    root = synthetic(tmp_path, 60)
    good = build_site(Options(root=root, write=False)).files
    entries = sorted((root / ".cache" / "render").rglob("*.json"))
    assert len(entries) == 60
    for i, entry in enumerate(entries):
        data = entry.read_bytes()
        entry.write_bytes([b"", data[: len(data) // 2], data.replace(b"<p>", b"<p>EVIL"),
                           b"not json at all", data[:64] + b"\n{}"][i % 5])
    again = build_site(Options(root=root, write=False))
    assert again.counts["articles_rendered"] == 60
    assert again.files == good
    assert build_site(Options(root=root, write=False)).counts["articles_rendered"] == 0


def test_builds_running_at_once_share_the_cache(tmp_path: Path) -> None:
    root = synthetic(tmp_path, 300)
    cmd = [sys.executable, str(REPO / "build.py"), "check", "--root", str(root)]
    env = {**os.environ, "SOURCE_DATE_EPOCH": "1800000000"}
    procs = [subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env)
             for _ in range(3)]
    outputs = [p.communicate(timeout=300) for p in procs]
    assert [p.returncode for p in procs] == [0, 0, 0], outputs
    assert not list((root / ".cache").rglob(".tmp-*"))
    assert build_site(Options(root=root, write=False)).counts["articles_rendered"] == 0


def test_unchanged_output_files_are_kept_not_rewritten(make_site: MakeSite, today: None) -> None:
    root = make_site(good_files())
    first = build_site(Options(root=root))
    assert first.counts["files_unchanged"] == 0
    page = root / "_site" / "clots" / "index.html"
    inode = page.stat().st_ino
    iron = root / "content" / "iron.md"
    iron.write_text(iron.read_text().replace("Low iron can matter", "Low iron matters"))
    second = build_site(Options(root=root))
    assert second.counts["files_changed"] == 1  # only iron/index.html
    assert page.stat().st_ino == inode  # carried over by a hard link
    assert (root / "_site" / "pagefind" / "pagefind.js").is_file()


def test_warm_build_reuses_pages_and_never_trusts_edited_output(make_site: MakeSite,
                                                                today: None) -> None:
    root = make_site(good_files())
    first = build_site(Options(root=root))
    before = {p.relative_to(root / "_site").as_posix(): p.read_bytes()
              for p in (root / "_site").rglob("*") if p.is_file() and "pagefind" not in p.parts}
    second = build_site(Options(root=root))
    assert first.counts["pages_rendered"] == 16 and second.counts["pages_rendered"] == 0
    assert second.files == first.files
    page = root / "_site" / "clots" / "index.html"
    page.write_bytes(page.read_bytes().replace(b"Clots", b"Tampered"))
    third = build_site(Options(root=root))
    assert third.counts["pages_rendered"] == 1
    after = {p.relative_to(root / "_site").as_posix(): p.read_bytes()
             for p in (root / "_site").rglob("*") if p.is_file() and "pagefind" not in p.parts}
    assert after == before
    # another output folder or other check levels: nothing is reused
    assert build_site(Options(root=root, out=root / "elsewhere")).counts["pages_rendered"] == 16
    (root / "site.yaml").write_text((root / "site.yaml").read_text() +
                                    "checks:\n  orphan: error\n")
    assert build_site(Options(root=root)).counts["pages_rendered"] == 16
