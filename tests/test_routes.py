"""Which route a build takes (nothing changed, only changed articles' pages, in full) and
why it could take no quicker one: `BuildResult.route`, `BuildResult.why`, `--explain`."""

from __future__ import annotations

from pathlib import Path

import pytest
from test_cache import synthetic

from healthsite.cli import main
from healthsite.pipeline import BuildResult, BuildState, Options, build_site


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
