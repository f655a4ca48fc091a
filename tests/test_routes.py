"""Which route a build takes (nothing changed, only changed articles' pages, in full) and
why it could take no quicker one: `BuildResult.route`, `BuildResult.why`, `--explain`."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path
from typing import Any, cast

import pytest
from test_cache import synthetic

from healthsite.cli import main
from healthsite.incremental import snapshot
from healthsite.pipeline import BuildResult, BuildState, Options, build_site
from healthsite.report import build_report


def _edit(root: Path, slug: str, old: str, new: str) -> None:
    path = root / "content" / f"{slug}.md"
    text = path.read_text()
    assert old in text
    path.write_text(text.replace(old, new, 1))


def _why(result: BuildResult) -> str:
    return " | ".join(result.why)


def test_each_route_is_taken_and_explained(tmp_path: Path) -> None:
    root = synthetic(tmp_path, 40, search=False)
    first = build_site(Options(root=root))
    assert first.route == "full" and "no record of an earlier written build" in _why(first)
    again = build_site(Options(root=root))
    assert again.route == "unchanged" and again.why == []
    _edit(root, "a00001", "for more.", "for more detail.")
    text = build_site(Options(root=root))
    assert text.route == "delta" and text.counts["files_changed"] == 1
    assert "inputs, engine or options changed" in _why(text)
    _edit(root, "a00001", "title: ", "title: Renamed ")
    title = build_site(Options(root=root))
    assert title.route == "full" and "content/a00001.md: its front matter changed" in _why(title)
    (root / "content" / "a00099.md").write_text((root / "content" / "a00002.md").read_text())
    added = build_site(Options(root=root))
    assert added.route == "full" and "files were added or removed" in _why(added)
    (root / "static" / "extra.css").write_text("body { margin: 0 }\n")
    (root / "static" / "extra.css").unlink()
    (root / "templates" / "base.html").write_text(
        (root / "templates" / "base.html").read_text() + "\n")
    template = build_site(Options(root=root))
    assert template.route == "full"
    assert "templates/base.html changed and it is not an article that loaded" in _why(template)


def test_a_heading_or_link_change_says_so(tmp_path: Path) -> None:
    root = synthetic(tmp_path, 40, search=False)
    build_site(Options(root=root))
    _edit(root, "a00003", "\n## ", "\n## Renamed ")
    heading = build_site(Options(root=root))
    assert heading.route == "full" and "a00003.md: its headings' ids changed" in _why(heading)
    text = (root / "content" / "a00004.md").read_text()
    (root / "content" / "a00004.md").write_text(text + "\nSee [another](a00030.md).\n")
    link = build_site(Options(root=root))
    # (a00004 may already link to a00030: then its links are the same and the route is delta)
    assert link.route == "delta" or "a00004.md: its links to other articles changed" in _why(link)


def test_checking_the_preview_and_no_cache_say_why_they_build_in_full(tmp_path: Path) -> None:
    root = synthetic(tmp_path, 30, search=False)
    build_site(Options(root=root))
    _edit(root, "a00001", "for more.", "for more detail.")
    check = build_site(Options(root=root, write=False))
    assert check.route == "full" and "only checking" in _why(check)
    state = BuildState()  # (kept between builds, as the preview keeps it)
    out = tmp_path / "elsewhere"
    assert build_site(Options(root=root, out=out), state).route == "full"
    _edit(root, "a00001", "for more detail.", "for more details.")
    kept = build_site(Options(root=root, out=out), state)
    assert kept.route == "full" and "keeps the build in memory" in _why(kept)
    nocache = build_site(Options(root=root, cache=False))
    assert nocache.route == "full" and "--no-cache" in _why(nocache)


def test_explain_prints_the_route_and_the_reasons(tmp_path: Path,
                                                  capsys: pytest.CaptureFixture[str]) -> None:
    root = synthetic(tmp_path, 30, search=False)
    assert main(["build", "--root", str(root)]) == 0
    capsys.readouterr()
    _edit(root, "a00001", "for more.", "for more detail.")
    assert main(["build", "--root", str(root), "--explain"]) == 0
    err = capsys.readouterr().err.splitlines()
    assert err[0] == "healthsite: route: delta"
    assert any("not quicker: inputs, engine or options changed" in line for line in err[1:])
    assert main(["build", "--root", str(root)]) == 0
    assert "route" not in capsys.readouterr().err  # (only when asked)


def _tree(out: Path) -> dict[str, bytes]:
    return {p.relative_to(out).as_posix(): p.read_bytes() for p in sorted(out.rglob("*"))
            if p.is_file()}


def _inodes(out: Path) -> dict[str, int]:
    return {p.relative_to(out).as_posix(): p.stat().st_ino for p in out.rglob("*")
            if p.is_file()}


def _restored(root: Path, archive: Path) -> None:
    """What a CI runner has before the build: a fresh clone (every input file new: its
    inode and modification time) and `.cache/` and `_site/` restored from the last run as
    GitHub's actions/cache restores them (its tar arguments: `--posix -cf`, `-xf -P -C`)."""
    for name in (".cache", "_site", "._site.spare", "._site.lock"):
        path = root / name
        if path.is_dir():
            shutil.rmtree(path)
        elif path.exists():
            path.unlink()
    for path in sorted(p for p in root.rglob("*") if p.is_file()):
        data = path.read_bytes()
        path.unlink()
        path.write_bytes(data)
    subprocess.run(["tar", "-xf", str(archive), "-P", "-C", str(root)], check=True)


def _archived(root: Path, archive: Path) -> None:
    """What the workflow's cache keeps, archived as actions/cache archives it."""
    cached = [name for name in (".cache", "_site", "._site.spare") if (root / name).exists()]
    subprocess.run(["tar", "--posix", "-cf", str(archive), "-P", "-C", str(root), *cached],
                   check=True)


@pytest.mark.skipif(shutil.which("tar") is None, reason="needs tar, as actions/cache does")
@pytest.mark.parametrize("report,spare", [(False, False), (True, False), (True, True)])
def test_an_output_restored_by_a_ci_cache_is_updated_in_place(tmp_path: Path, report: bool,
                                                             spare: bool) -> None:
    """A restored `_site/` (new inodes, its times kept to the nanosecond) is the output the
    record describes: a one-article commit rewrites that article's page and the search
    index's shard, and leaves every other file as restored, not a new output folder of
    every page; and the output is what a build from scratch makes. With `spare`, the last
    run updated its output, so the cache holds the spare generation too."""
    root = synthetic(tmp_path, 40, search=True)
    assert build_site(Options(root=root, report=report)).route == "full"
    if spare:
        _edit(root, "a00003", "for more.", "for more detail.")
        assert build_site(Options(root=root, report=report)).route == "delta"
        assert (root / "._site.spare").is_dir()
    archive = tmp_path / "cache.tar"
    _archived(root, archive)
    _restored(root, archive)
    before = _inodes(root / "_site")
    _edit(root, "a00001", "for more.", "for more detail.")
    result = build_site(Options(root=root, report=report))
    assert result.route == "delta", _why(result)
    after = _inodes(root / "_site")
    moved = {rel for rel, inode in after.items() if before.get(rel) != inode}
    assert "a00001/index.html" in moved
    assert all(rel == "a00001/index.html" or rel.startswith("pagefind/") for rel in moved), \
        sorted(moved)
    kept = {rel for rel in after if rel not in moved and not rel.startswith("pagefind/")}
    assert len(kept) >= 40  # (every other page, the topics' and the lists' as restored)
    fresh = build_site(Options(root=root, out=tmp_path / "fresh", cache=False))
    assert fresh.route == "full"
    assert _tree(root / "_site") == _tree(tmp_path / "fresh")


@pytest.mark.skipif(shutil.which("tar") is None, reason="needs tar, as actions/cache does")
def test_a_restored_output_with_a_file_touched_is_written_again(tmp_path: Path) -> None:
    root = synthetic(tmp_path, 30, search=False)
    build_site(Options(root=root))
    archive = tmp_path / "cache.tar"
    _archived(root, archive)
    _restored(root, archive)
    page = root / "_site" / "a00002" / "index.html"
    os.utime(page, ns=(page.stat().st_atime_ns, page.stat().st_mtime_ns + 1))
    _edit(root, "a00001", "for more.", "for more detail.")
    result = build_site(Options(root=root))
    assert result.route == "full"
    assert "the output folder is not as the last build left it" in _why(result)
    assert _tree(root / "_site") == _tree(build_site(Options(
        root=root, out=tmp_path / "fresh", cache=False)).out_dir or tmp_path / "none")


@pytest.mark.skipif(shutil.which("tar") is None, reason="needs tar, as actions/cache does")
def test_still_takes_a_copy_with_its_times_as_the_same_output(tmp_path: Path) -> None:
    out = tmp_path / "out"
    (out / "a").mkdir(parents=True)
    for rel in ("a/index.html", "index.html"):
        (out / rel).write_text(rel)
        os.chmod(out / rel, 0o644)
    for folder in (out, out / "a"):
        os.chmod(folder, 0o755)
    recorded = snapshot.manifest(out)
    assert snapshot.still(out, recorded) is recorded
    assert snapshot.as_left(out, recorded) is True
    archive = tmp_path / "out.tar"
    subprocess.run(["tar", "--posix", "-cf", str(archive), "-C", str(tmp_path), "out"],
                   check=True)
    # restored elsewhere while the original is kept: new inodes for certain (a folder
    # deleted first may give its inodes back to the copy)
    (tmp_path / "restored").mkdir()
    subprocess.run(["tar", "-xf", str(archive), "-C", str(tmp_path / "restored")], check=True)
    restored = tmp_path / "restored" / "out"
    copy = snapshot.still(restored, recorded)
    assert copy == snapshot.manifest(restored) != recorded
    assert {k: v[:2] for k, v in copy.items()} == {k: v[:2] for k, v in recorded.items()}
    assert snapshot.as_left(restored, recorded) == copy
    page = restored / "a" / "index.html"
    os.utime(page, ns=(page.stat().st_atime_ns, page.stat().st_mtime_ns - 1))
    assert snapshot.still(restored, recorded) is None
    assert snapshot.as_left(restored, recorded) is False


BUILDS_OWN = ("articles_rendered", "pages_rendered", "files_changed", "files_unchanged",
              "reading_next_pairs_examined")


def _site_part(report: dict[str, Any]) -> dict[str, Any]:
    """A report without what depends on the route: its timings, route and own counts."""
    return {**{k: v for k, v in report.items() if k not in ("timings", "route")},
            "counts": {k: v for k, v in report["counts"].items() if k not in BUILDS_OWN}}


@pytest.mark.parametrize("search", [False, True])
def test_a_report_from_a_quick_route_is_the_full_builds(tmp_path: Path, search: bool) -> None:
    """--report no longer forces the full route: the build keeps its audit (each article's
    row, the site's counts), which an unchanged build reports as it is and a text edit
    brings up to date; the report is what a full build of the same inputs reports."""
    root = synthetic(tmp_path, 40, search=search)

    def report(name: str, *extra: str) -> dict[str, Any]:
        path = tmp_path / f"{name}.json"
        assert main(["build", "--root", str(root), "--report", str(path), *extra]) == 0
        return cast(dict[str, Any], json.loads(path.read_text()))

    def full() -> dict[str, Any]:
        result = build_site(Options(root=root, report=True, skip_unchanged=False))
        return cast(dict[str, Any], json.loads(json.dumps(build_report(result))))

    first = report("first")
    assert first["route"]["taken"] == "full"
    _edit(root, "a00001", "for more.", "for more words of plain text. " * 30)
    text = report("text")
    assert text["route"]["taken"] == "delta", text["route"]
    grade = next(a for a in text["articles"] if a["slug"] == "a00001")["readability"]
    assert grade != next(a for a in first["articles"] if a["slug"] == "a00001")["readability"]
    assert _site_part(text) == _site_part(full())
    same = report("same")
    assert same["route"]["taken"] == "unchanged"
    assert _site_part(same) == _site_part(text)
    # a build not asked for a report keeps none: the next one asked for it builds in full
    _edit(root, "a00002", "for more.", "for more detail.")
    assert main(["build", "--root", str(root)]) == 0
    again = report("again")
    assert again["route"]["taken"] == "full"
    assert "kept no report" in " ".join(again["route"]["why"])
    assert _site_part(again) == _site_part(full())


def test_still_never_takes_a_link_or_a_file_of_other_permissions(tmp_path: Path) -> None:
    """What the manifest cannot vouch for (a symbolic link, a file whose permissions are not
    the output's) never counts as as recorded, even unchanged since: the next build puts it
    right."""
    out = tmp_path / "out"
    out.mkdir()
    os.chmod(out, 0o755)
    (out / "index.html").write_text("x")
    os.chmod(out / "index.html", 0o644)
    (out / "link.html").symlink_to(out / "index.html")
    recorded = snapshot.manifest(out)
    assert snapshot.still(out, recorded) is None and snapshot.as_left(out, recorded) is False
    (out / "link.html").unlink()
    os.chmod(out / "index.html", 0o600)
    recorded = snapshot.manifest(out)
    assert snapshot.still(out, recorded) is None
