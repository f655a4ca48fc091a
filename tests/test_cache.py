"""The rendered-Markdown cache: reused only when every input matches, never trusted when
damaged, safe to share between builds running at once; unchanged output files are kept."""

from __future__ import annotations

import os
import pickle
import subprocess
import sys
import zlib
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from conftest import REPO, good_files

from healthsite.pipeline import Options, build_site

MakeSite = Callable[..., Path]


def synthetic(tmp_path: Path, n: int = 250, search: bool = True) -> Path:
    return generate_site(tmp_path / "site", n, search=search)


def generate_site(out: Path, n: int, **options: bool) -> Path:
    sys.path.insert(0, str(REPO / "bench"))
    from synth import generate

    return generate(out, n, **options)


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
    shards = sorted((root / ".cache" / "render").glob("*.pickle"))
    assert len(shards) >= 12  # 60 entries spread over 16 files by key
    forged = pickle.dumps((("render", "another engine"), {}))
    bodies = sorted((root / ".cache" / "render" / "bodies").glob("*.pickle"))
    assert all(b"<p>" in b.read_bytes() for b in bodies)
    for i, shard in enumerate(shards + bodies):
        data = shard.read_bytes()
        n = len(data) // 2
        damaged = [b"", data[:n], data[:n] + bytes([data[n] ^ 1]) + data[n + 1:],
                   b"not a pickle at all", b"%08x\n" % zlib.crc32(forged) + forged]
        if shard in bodies:
            damaged.append(data.replace(b"<p>", b"<p>EVIL"))
        shard.write_bytes(damaged[i % len(damaged)])
    again = build_site(Options(root=root, write=False))
    assert again.counts["articles_rendered"] == 60
    assert again.files == good
    assert build_site(Options(root=root, write=False)).counts["articles_rendered"] == 0
    # the parsed front matter is kept the same way, and so are the HTML bodies (read only
    # for pages rendered again: a lost body is rendered again, never left empty)
    for shard in [*(root / ".cache" / "parsed").glob("*.pickle"),
                  *(root / ".cache" / "render" / "bodies").glob("*.pickle")]:
        shard.write_bytes(shard.read_bytes()[:-3])
    assert build_site(Options(root=root, write=False)).files == good


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
    second = build_site(Options(root=root, skip_unchanged=False))
    assert first.counts["pages_rendered"] == 16 and second.counts["pages_rendered"] == 0
    # the output is intact, so unchanged pages are left there unread
    assert set(second.files) | second.kept == set(first.files) and len(second.kept) == 16
    assert all((root / "_site" / p).read_bytes() == first.files[p] for p in second.kept)
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


def test_pages_with_problems_are_checked_again_by_the_next_build(make_site: MakeSite,
                                                                today: None) -> None:
    from healthsite.pipeline import BuildState

    root = make_site(good_files())
    base = root / "templates" / "base.html"
    base.write_text(base.read_text().replace(
        "</head>", '<script src="https://cdn.example.com/a.js"></script>\n</head>'))
    state = BuildState()  # kept between rebuilds, as by the preview server
    first = build_site(Options(root=root), state)
    pages = {p.path for p in first.problems.items() if p.code == "external-resource"}
    assert len(pages) == 13
    iron = root / "content" / "iron.md"
    iron.write_text(iron.read_text().replace("Low iron can matter", "Low iron matters"))
    second = build_site(Options(root=root), state)
    assert {p.path for p in second.problems.items() if p.code == "external-resource"} == pages


def _tree(out: Path) -> dict[str, tuple[bytes, int, int]]:
    return {p.relative_to(out).as_posix(): (p.read_bytes(), p.stat().st_ino, p.stat().st_mtime_ns)
            for p in sorted(out.rglob("*")) if p.is_file()}


def test_build_with_nothing_changed_does_nothing_and_reports_the_same(
        make_site: MakeSite, today: None, monkeypatch: pytest.MonkeyPatch) -> None:
    files = good_files()
    files["content/iron.md"] = files["content/iron.md"].replace(
        "summary: ", "summary: " + "Very long. " * 16, 1)  # a warning to be reported again
    root = make_site(files)
    first = build_site(Options(root=root))
    assert not first.up_to_date and first.counts["articles_rendered"] == 3
    warnings = [p.format() for p in first.problems.sorted()]
    assert any("summary-length" in w for w in warnings)
    before = _tree(root / "_site")
    second = build_site(Options(root=root))
    assert second.up_to_date and "markdown" not in second.timings
    assert [p.format() for p in second.problems.sorted()] == warnings
    assert second.summary == first.summary
    assert _tree(root / "_site") == before  # not one file touched

    def rebuilt() -> bool:
        result = build_site(Options(root=root))
        assert not result.problems.errors
        return not result.up_to_date

    # every kind of input change is seen, and the build after it is up to date again
    changes: list[Callable[[], object]] = [
        lambda: (root / "content" / "clots.md").write_text(
            (root / "content" / "clots.md").read_text() + "\nOne more line.\n"),
        lambda: (root / "content" / "extra").mkdir(),
        lambda: (root / "templates" / "404.html").write_text(
            (root / "templates" / "404.html").read_text() + "\n"),
        lambda: (root / "static" / "note.txt").write_text("hello"),
        lambda: (root / "site.yaml").write_text((root / "site.yaml").read_text() + "\n"),
        lambda: monkeypatch.setenv("SOURCE_DATE_EPOCH", "1780358400"),  # the next day
    ]
    for change in changes:
        change()
        assert rebuilt()
        assert not rebuilt()
    # a build from scratch into another folder leaves the record of this one alone
    assert not build_site(Options(root=root, out=root / "scratch", cache=False)).up_to_date
    assert not rebuilt()
    # a different output folder, or drafts, is a different build
    assert not build_site(Options(root=root, out=root / "other")).up_to_date
    assert not build_site(Options(root=root, drafts=True)).up_to_date
    assert rebuilt() and not rebuilt()  # the drafts build replaced the output
    # the output is checked too: a changed, removed or added file means a real build
    page = root / "_site" / "clots" / "index.html"
    good_page = page.read_bytes()
    page.write_bytes(good_page.replace(b"Clots", b"Tampered"))
    assert rebuilt() and page.read_bytes() == good_page
    page.unlink()
    assert rebuilt() and page.read_bytes() == good_page
    (root / "_site" / "stray.html").write_text("stray")
    assert rebuilt() and not (root / "_site" / "stray.html").exists()
    # an input and the output changed at once (the output is then checked in a child
    # process while the build reads its caches): the output is not trusted either
    iron = root / "_site" / "iron" / "index.html"
    good_iron = iron.read_bytes()
    iron.write_bytes(good_iron.replace(b"iron", b"tampered"))
    (root / "content" / "clots.md").write_text(
        (root / "content" / "clots.md").read_text() + "\nAnother line.\n")
    assert rebuilt() and iron.read_bytes() == good_iron and not rebuilt()
    # a damaged or foreign record is ignored
    record = root / ".cache" / "build.pickle"
    record.write_bytes(record.read_bytes()[:-10])
    assert rebuilt() and not rebuilt()
    record.write_bytes(b"0" * 64 + b"\n" + b"cos\nsystem\n(S'echo pwned'\ntR.")
    assert rebuilt() and not rebuilt()
    # a different engine (source or library versions) never trusts the record
    monkeypatch.setattr("healthsite.incremental.cache._ENGINE", "another engine")
    assert rebuilt() and not rebuilt()
    # --report and --no-cache always build
    assert not build_site(Options(root=root, skip_unchanged=False)).up_to_date
    assert not build_site(Options(root=root, cache=False)).up_to_date


def test_inputs_taken_on_trust_only_while_their_stat_is_unchanged(
        make_site: MakeSite, today: None, monkeypatch: pytest.MonkeyPatch) -> None:
    from healthsite.incremental import snapshot

    root = make_site(good_files())
    first = snapshot.scan_inputs(root)
    assert first.known == {}  # everything was written just now: nothing is trusted yet
    monkeypatch.setattr(snapshot, "RACY_NS", -10**12)  # as if the files were old
    trusted = snapshot.scan_inputs(root)
    assert set(trusted.known) == {k for k in trusted.digests if trusted.digests[k] != "dir"}
    reads: list[str] = []
    real_open = open

    def counting_open(path: str, *args: object, **kwargs: object) -> object:
        reads.append(str(path))
        return real_open(path, *args, **kwargs)  # type: ignore[call-overload]

    monkeypatch.setattr("builtins.open", counting_open)
    again = snapshot.scan_inputs(root, trusted.known)
    assert again.digests == trusted.digests and reads == []  # nothing read
    # same size, same modification time, other bytes: the change time gives it away
    iron = root / "content" / "iron.md"
    st = iron.stat()
    iron.write_bytes(iron.read_bytes().replace(b"Low iron", b"LOW IRON"))
    os.utime(iron, ns=(st.st_atime_ns, st.st_mtime_ns))
    assert iron.stat().st_size == st.st_size and iron.stat().st_mtime_ns == st.st_mtime_ns
    changed = snapshot.scan_inputs(root, trusted.known)
    assert [k for k in changed.digests if changed.digests[k] != trusted.digests[k]] == \
        ["content/iron.md"]


def _files(out: Path) -> dict[str, bytes]:
    return {p.relative_to(out).as_posix(): p.read_bytes() for p in sorted(out.rglob("*"))
            if p.is_file()}


def test_incremental_builds_equal_builds_from_scratch(tmp_path: Path) -> None:
    """After each kind of change, the cached, in-place build writes exactly what a build
    from scratch writes, and reports exactly the same problems."""
    # (without the URL check: a build from scratch into a new folder has no URL history;
    # tests/test_urls.py tests it)
    root = generate_site(tmp_path / "site", 240, search=False, url_history=False)
    content = root / "content"

    def replace(name: str, old: str, new: str) -> None:
        path = content / name
        text = path.read_text()
        assert old in text, (name, old)
        path.write_text(text.replace(old, new, 1))

    first = build_site(Options(root=root, write=False, cache=False))
    assert first.graph is not None and first.reading_next is not None
    suggested = first.reading_next.by_article["a00001"][0].slug
    g = first.graph  # an article nothing links to or picks can be made a draft
    unlinked = next(s for s in sorted(g.articles) if s > "a00010" and not g.links_in.get(s)
                    and not any(s in p for p in g.picks.values()))
    changes: list[tuple[str, Callable[[], object]]] = [
        ("body text", lambda: replace("a00001.md", "for more.", "for more detail.")),
        ("a new line shifts every link", lambda: replace("a00002.md", "\n\n", "\n\nNew line.\n\n")),
        ("title of a suggested article", lambda: replace(f"{suggested}.md", "title: ",
                                                         "title: Renamed ")),
        ("summary", lambda: replace("a00003.md", "summary: ", "summary: Shorter. ")),
        ("topics", lambda: replace("a00004.md", "topics: [", "topics: [topic-0-1, ")),
        ("a heading added", lambda: replace("a00007.md", "## Section 2", "## New\n\nText.\n\n"
                                                                        "## Section 2")),
        ("a link added", lambda: replace("a00008.md", "for more.",
                                         "for more, and [this](a00200.md).")),
        ("an article made a draft", lambda: replace(f"{unlinked}.md", "title: ",
                                                    "draft: true\ntitle: ")),
        ("text of a draft", lambda: replace(f"{unlinked}.md", "for more.", "for more detail.")),
        ("an alarm without a care card", lambda: replace(
            "a00010.md", "!!! urgent", "Chest pain.\n\n!!! info")),
        ("the care card back", lambda: replace("a00010.md", "Chest pain.\n\n!!! info",
                                               "!!! urgent")),
        ("a link to a heading", lambda: replace("a00011.md", "for more.", "for more, and "
                                                "[this](a00012.md#section-1-of-article-12).")),
        ("that heading renamed", lambda: replace("a00012.md", "## Section 1 of article 12",
                                                 "## Renamed section")),
        ("the link to it fixed", lambda: replace("a00011.md", "#section-1-of-article-12",
                                                 "#renamed-section")),
        ("a broken link", lambda: replace("a00005.md", "for more.", "[gone](nowhere.md).")),
        ("the link fixed", lambda: replace("a00005.md", "[gone](nowhere.md).", "for more.")),
        ("an article added", lambda: (content / "a99999.md").write_text(
            (content / "a00006.md").read_text().replace("title: ", "title: Added ", 1))),
        ("an article removed", lambda: (content / "a99999.md").unlink()),
        ("a template", lambda: (root / "templates" / "base.html").write_text(
            (root / "templates" / "base.html").read_text().replace("</main>",
                                                                  "<!-- x --></main>"))),
        ("a stylesheet", lambda: (root / "static" / "style.css").write_text(
            (root / "static" / "style.css").read_text() + "\n/* x */\n")),
        ("site.yaml", lambda: (root / "site.yaml").write_text(
            (root / "site.yaml").read_text().replace("title: ", "title: New ", 1))),
        ("a glossary added", lambda: (content / "glossary.yaml").write_text(
            "- term: Vein\n  definition: A blood vessel that carries blood to the heart.\n")),
        ("a definition changed", lambda: (content / "glossary.yaml").write_text(
            "- term: Vein\n  definition: A vessel carrying blood back to the heart.\n")),
    ]
    build_site(Options(root=root))
    for what, change in changes:
        change()
        incremental = build_site(Options(root=root))
        scratch = build_site(Options(root=root, out=tmp_path / f"scratch-{what}", cache=False))
        assert [p.format() for p in incremental.problems.sorted()] == \
            [p.format() for p in scratch.problems.sorted()], what
        # only the text of articles changed, not what other pages show of them: only their
        # own pages are rendered again (delta), else the full build runs
        assert ("delta" in incremental.timings) == (what in (
            "body text", "a new line shifts every link", "text of a draft")), what
        if scratch.problems.errors:  # neither writes; the last good output stands
            assert what in ("a broken link", "an alarm without a care card",
                            "that heading renamed")
            assert incremental.problems.errors, what
            continue
        assert _files(root / "_site") == _files(tmp_path / f"scratch-{what}"), what
        if what.startswith("title"):  # of the topic pages, only its own topics' change
            topics = incremental.graph.articles[suggested].meta.topics  # type: ignore[union-attr]
            assert {p for p in incremental.files
                    if p.startswith("topics/") and p != "topics/index.html"} == \
                {f"topics/{t}/index.html" for t in topics}, what
        if what in ("body text", "a new line shifts every link"):
            assert incremental.counts["pages_rendered"] == 1, what
            assert incremental.counts["files_changed"] == 1, what
            assert incremental.summary == scratch.summary, what


def test_pages_written_by_worker_processes_equal_pages_written_here(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A page rendered in a worker process is written there, not handed back: the output
    is what one process writes, and a page whose bytes did not change is still carried over
    from the previous output by a hard link."""
    from healthsite import parallel

    root = synthetic(tmp_path, 210, search=False)
    first = build_site(Options(root=root))
    forked = parallel.cores() >= 2 and parallel.can_fork()
    # every page (the static files are copied here)
    assert first.counts["pages_rendered"] == 278
    # those the forked child rendered, never the sitemap (it comes back to be compared with
    # the one published before); this process renders the others and hands them on
    assert (0 < len(first.placed) < 277) if forked else not first.placed
    assert len(set(first.placed) | set(first.files)) == 278 + 3  # (and the static files)
    assert "sitemap.xml" in first.files and "sitemap.xml" not in first.placed
    assert first.summary["pages"] == 210 + 60 + 5  # counted with the rest
    assert not set(first.placed) & set(first.files)
    monkeypatch.setattr(parallel, "cores", lambda: 1)
    alone = build_site(Options(root=root, out=tmp_path / "alone", cache=False))
    assert not alone.placed
    assert _files(root / "_site") == _files(tmp_path / "alone")
    monkeypatch.undo()
    page = root / "_site" / "a00007" / "index.html"
    inode = page.stat().st_ino
    # rendered again (no cache) into a new folder next to an output it cannot trust as is
    second = build_site(Options(root=root, cache=False))
    assert second.counts["files_changed"] == 0 and bool(second.placed) == forked
    assert page.stat().st_ino == inode


def test_a_file_unreadable_when_parsed_is_reported_once(
        make_site: MakeSite, today: None, monkeypatch: pytest.MonkeyPatch) -> None:
    """Files the input scan has read are read again where they are parsed (in the worker
    processes, for many); one that cannot be read there is read again here, which reports
    why (once), and it is not kept in the parse cache."""
    from healthsite.load import content

    root = make_site(good_files())
    real = content._read

    def failing(path: str, rel: str, problems: Any) -> bytes | None:
        if rel == "content/iron.md":
            problems.add("io", "cannot read the file: Permission denied", rel)
            return None
        return real(path, rel, problems)

    monkeypatch.setattr(content, "_read", failing)
    first = build_site(Options(root=root, write=False))
    assert [(p.code, p.path) for p in first.problems.items() if p.code == "io"] == \
        [("io", "content/iron.md")]
    assert first.graph is not None and "iron" not in first.graph.articles
    monkeypatch.setattr(content, "_read", real)
    second = build_site(Options(root=root, write=False))
    assert second.graph is not None and "iron" in second.graph.articles
    assert not [p for p in second.problems.items() if p.code == "io"]


def test_a_first_build_hashes_the_articles_where_it_parses_them(make_site: MakeSite,
                                                                today: None) -> None:
    """With nothing known and nothing parsed, the input scan leaves the articles' digests to
    the workers that read them to parse them; the record holds what a full scan finds, so
    the next build trusts the same files and, with nothing changed, does nothing."""
    import time

    from healthsite.incremental import snapshot
    from healthsite.incremental.memo import _article_file
    from healthsite.load.content import PENDING

    root = make_site(good_files())
    time.sleep(2.1)  # older than a scan's racy window: the next scan may trust them
    scan = snapshot.scan_inputs(root, None, _article_file)
    assert scan.pending and all(scan.digests[rel] == PENDING for rel in scan.pending)
    build_site(Options(root=root))
    record = snapshot.load(root)
    full = snapshot.scan_inputs(root)  # every file read and hashed here
    assert record is not None and record.inputs == full.known
    assert set(scan.pending) <= set(record.inputs)
    assert build_site(Options(root=root)).up_to_date
    (root / "content" / "iron.md").write_text((root / "content" / "iron.md").read_text()
                                              + "\nMore.\n")
    assert not build_site(Options(root=root)).up_to_date

def test_engine_fingerprint_follows_the_installed_library_versions(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from importlib.metadata import version

    from healthsite import versions
    from healthsite.incremental import cache

    assert {lib: versions.version(lib) for lib in cache.LIBRARIES} == \
        {lib: version(lib) for lib in cache.LIBRARIES}
    before = cache.engine_fingerprint()
    # another Markdown installed earlier on the path is the one imported, and the one that
    # counts: as importlib.metadata sees it, so does the fingerprint
    newer = tmp_path / "Markdown-99.1.dist-info"
    newer.mkdir()
    (newer / "METADATA").write_text("Metadata-Version: 2.1\nName: Markdown\nVersion: 99.1\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.setattr(cache, "_ENGINE", None)
    versions.installed.cache_clear()
    try:
        assert version("markdown") == "99.1" == versions.version("markdown")
        assert cache.engine_fingerprint() != before
    finally:
        versions.installed.cache_clear()  # (the path is put back after this test)


def test_cached_named_tuples_come_back_as_themselves() -> None:
    from healthsite.link.related import Suggestion
    from healthsite.render.markup import Link

    for value in (Link("content/a.md", "top", 3, 7, "a.md#top"), Link(None, "x", 1, 1, "#x"),
                  Suggestion("a", 1.25, ("Also about iron",))):
        back = pickle.loads(pickle.dumps(value, protocol=pickle.HIGHEST_PROTOCOL))
        assert type(back) is type(value) and back == value and back._fields == value._fields


def test_cache_files_kept_later_are_the_files_kept_at_once(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The files the first stages keep in .cache/ are written by a forked child while the
    build goes on (`cache.Later`); they are byte for byte the files written at once, and
    the next build finds every article in them."""
    from functools import partial

    from healthsite import parallel
    from healthsite.incremental import cache

    def kept(root: Path) -> dict[str, bytes]:
        folder = root / ".cache"
        return {p.relative_to(folder).as_posix(): p.read_bytes()
                for p in sorted(folder.rglob("*.pickle"))
                if p.parts[-2] in ("render", "bodies", "parsed")}

    later = synthetic(tmp_path, 30, search=False)
    first = build_site(Options(root=later))
    assert first.counts["articles_rendered"] == 30
    monkeypatch.setattr(cache, "Background", partial(parallel.Background, now=True))
    at_once = generate_site(tmp_path / "at-once", 30, search=False)
    build_site(Options(root=at_once))
    monkeypatch.undo()
    files = kept(later)
    assert any(k.startswith("render/bodies/") for k in files) and \
        any(k.startswith("parsed/") for k in files)
    assert files == kept(at_once)
    (later / "content" / "a00003.md").write_text(
        (later / "content" / "a00003.md").read_text().replace("title: ", "title: New ", 1))
    again = build_site(Options(root=later))
    # (only the article whose file changed is rendered again: the rest were kept)
    assert again.route == "full" and again.counts["articles_rendered"] == 1


def test_a_later_writes_when_it_closes_and_before_any_other_cache_file(
        tmp_path: Path) -> None:
    from healthsite.incremental import cache

    path, other = tmp_path / "c" / "one.pickle", tmp_path / "c" / "two.pickle"
    with cache.Later() as later:
        cache.write_pickle(path, "t", {"a": 1})
        assert not path.exists()
    later.finish()
    assert cache.read_pickle(path, "t") == {"a": 1}
    cache.write_pickle(other, "t", {"a": 1})
    assert path.read_bytes() == other.read_bytes()  # (what writing at once writes)
    with cache.Later() as later:
        cache.write_pickle(path, "t", {"a": 2})
    # a file written meanwhile waits for the child's: the last one asked for is kept
    cache.write_pickle(path, "t", {"a": 3})
    assert cache.read_pickle(path, "t") == {"a": 3}
    later.finish()
    assert cache.read_pickle(path, "t") == {"a": 3}
    with pytest.raises(KeyError), cache.Later() as later:
        cache.write_pickle(path, "t", {"a": 4})
        raise KeyError("the stage failed")
    later.finish()
    assert cache.read_pickle(path, "t") == {"a": 3}  # (nothing written)
    assert cache._LATER is None and cache._WRITING is None
