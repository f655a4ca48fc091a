"""Rebuilding only the pages of articles whose own text changed (healthsite.incremental.delta): the
output, problems and summary equal a full build's, and whatever a rebuild cannot vouch for
is left to a full build. (test_cache's incremental test covers more kinds of change.)"""

from __future__ import annotations

from pathlib import Path

from test_cache import _files, synthetic

from healthsite.pipeline import BuildResult, Options, build_site


def _edit(root: Path, slug: str, old: str, new: str) -> str:
    path = root / "content" / f"{slug}.md"
    text = path.read_text()
    assert old in text
    path.write_text(text.replace(old, new, 1))
    return text


def _as_scratch(root: Path, result: BuildResult, scratch: Path) -> None:
    """The build left the same output and reported the same as a build from scratch."""
    fresh = build_site(Options(root=root, out=scratch, cache=False))
    assert _files(root / "_site") == _files(scratch)
    assert [p.format() for p in result.problems.sorted()] == \
        [p.format() for p in fresh.problems.sorted()]
    assert result.summary == fresh.summary


def test_a_page_rebuilt_alone_is_rendered_again_by_the_next_full_build(tmp_path: Path) -> None:
    """A rebuild leaves the page memo as it was: the page it wrote is listed in the record,
    so a later full build cannot keep that page by the key the memo holds for it (here:
    the article is back as it was, and a full build runs for another change)."""
    root = synthetic(tmp_path, 120, search=False)
    first = build_site(Options(root=root))
    assert first.graph is not None and first.reading_next is not None
    shown = {s.slug for s in first.reading_next.by_article["a00001"]} | \
        set(first.graph.links_in.get("a00001", ()))
    other = next(s for s in sorted(first.graph.articles) if s not in shown | {"a00001"})
    original = _edit(root, "a00001", "for more.", "for more detail.")
    edited = build_site(Options(root=root))
    assert "delta" in edited.timings and edited.counts["files_changed"] == 1
    assert b"for more detail." in (root / "_site" / "a00001" / "index.html").read_bytes()
    (root / "content" / "a00001.md").write_text(original)
    _edit(root, other, "title: ", "title: Renamed ")  # (a full build: lists change)
    full = build_site(Options(root=root))
    assert "delta" not in full.timings
    _as_scratch(root, full, tmp_path / "scratch")


def test_damaged_facts_take_a_full_build_which_keeps_them_again(tmp_path: Path) -> None:
    root = synthetic(tmp_path, 60, search=False)
    build_site(Options(root=root))
    shards = sorted((root / ".cache" / "facts").glob("??-*.pickle"))
    assert len(shards) == 64
    for shard in shards:
        shard.write_bytes(shard.read_bytes()[:-7] + b"garbage")
    _edit(root, "a00002", "for more.", "for more detail.")
    full = build_site(Options(root=root))
    assert "delta" not in full.timings
    _as_scratch(root, full, tmp_path / "scratch-1")
    _edit(root, "a00002", "for more detail.", "for more details.")
    again = build_site(Options(root=root))
    assert "delta" in again.timings
    _as_scratch(root, again, tmp_path / "scratch-2")


def test_new_problems_are_reported_as_a_full_build_does_and_strict_builds_in_full(
        tmp_path: Path) -> None:
    """A warning the edit brings is reported with the last build's other problems; under
    --strict (which would not publish) the full build runs and reports it."""
    root = synthetic(tmp_path, 60, search=False)
    build_site(Options(root=root))
    before = build_site(Options(root=root, write=False))
    _edit(root, "a00003", "for more.", 'for <span onclick="go()">more</span>.')
    strict = build_site(Options(root=root, strict=True))
    assert "delta" not in strict.timings
    assert [p.code for p in strict.problems.sorted() if p.path == "content/a00003.md"] == \
        ["raw-html"]
    warned = build_site(Options(root=root))
    assert "delta" in warned.timings
    assert len(warned.problems.sorted()) == len(before.problems.sorted()) + 1
    _as_scratch(root, warned, tmp_path / "scratch-1")
    _edit(root, "a00003", 'for <span onclick="go()">more</span>.', "for more!")
    fixed = build_site(Options(root=root))  # the warning is gone with the edit
    assert "delta" in fixed.timings
    assert [p.format() for p in fixed.problems.sorted()] == \
        [p.format() for p in before.problems.sorted()]
    _as_scratch(root, fixed, tmp_path / "scratch-2")


def test_with_the_search_index_the_rebuild_indexes_a_new_folder(tmp_path: Path) -> None:
    """With search on, the rebuilt page goes into a new folder that Pagefind indexes before
    it is swapped in (as a full build does): the same output as a build from scratch."""
    root = synthetic(tmp_path, 40, search=True)
    build_site(Options(root=root))
    _edit(root, "a00004", "for more.", "for more about restless legs.")
    edited = build_site(Options(root=root))
    assert "delta" in edited.timings and edited.counts["files_changed"] == 1
    index = root / "_site" / "pagefind"
    assert (index / "pagefind.js").is_file()
    _as_scratch(root, edited, tmp_path / "scratch")
