"""The output, the cache and the build's environment under stress: a folder that cannot be
written, a full disk, a cache that cannot be kept, a bad SOURCE_DATE_EPOCH, refused output
folders, a failure in the middle of an update, leftovers of stopped builds, stale facts,
file modes whatever the umask, an output that is a symbolic link. Each is a one-line error
(or only costs time), never a traceback, and the previous site stays as it was."""

from __future__ import annotations

import errno
import os
import pickle
import resource
import shutil
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from pathlib import Path
from typing import Any

import pytest
from conftest import REPO, SITE_YAML, good_files

from healthsite.cli import main
from healthsite.pipeline import Options, build_site
from healthsite.publish import output

MakeSite = Callable[..., Path]
EPOCH = "1780272000"


def tree(out: Path) -> dict[str, bytes]:
    return {p.relative_to(out).as_posix(): p.read_bytes() for p in sorted(out.rglob("*"))
            if p.is_file()}


def run(root: Path, *args: str, limit: int | None = None,
        env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    """build.py in a process of its own (a file size limit applies to it alone)."""

    def limited() -> None:
        if limit is not None:
            resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))

    return subprocess.run([sys.executable, str(REPO / "build.py"), *args, "--root", str(root)],
                          capture_output=True, text=True, preexec_fn=limited,
                          env={**os.environ, "SOURCE_DATE_EPOCH": EPOCH, **(env or {})})


def no_search() -> dict[str, str]:
    files = good_files()
    files["site.yaml"] = SITE_YAML + "search: false\n"
    return files


def retitle(root: Path, new: str) -> None:
    iron = root / "content" / "iron.md"
    text = iron.read_text()
    iron.write_text(text.replace(text.split("title: ", 1)[1].split("\n", 1)[0], new, 1))


# 6: the environment


def test_an_output_folder_that_cannot_be_made_is_a_one_line_error(make_site: MakeSite,
                                                                  today: None) -> None:
    root = make_site(good_files())
    done = run(root, "build", "--out", "/proc/healthsite-test")
    assert done.returncode == 1, done.stderr
    assert "Traceback" not in done.stderr
    errors = [line for line in done.stdout.splitlines() if "error[" in line]
    assert errors == ["/proc/healthsite-test:1:1: error[io]: cannot write the site to "
                      "/proc/healthsite-test: No such file or directory (/proc/"
                      ".healthsite-test.lock); the previous site was left as it was"]


@pytest.mark.parametrize("search", [True, False])
def test_a_full_disk_is_a_one_line_error_and_the_site_stays(make_site: MakeSite, today: None,
                                                            search: bool) -> None:
    root = make_site(good_files() if search else no_search())
    assert run(root, "build").returncode == 0
    before = tree(root / "_site")
    retitle(root, "Iron, and how it is measured")
    done = run(root, "build", limit=4000)  # as `ulimit -f`: a page is larger than that
    assert done.returncode == 1, (done.stdout, done.stderr)
    assert "Traceback" not in done.stderr
    errors = [line for line in done.stdout.splitlines() if "error[" in line]
    assert len(errors) == 1 and "error[io]: cannot write the site to" in errors[0]
    assert "File too large" in errors[0]
    assert tree(root / "_site") == before
    assert not [p for p in root.iterdir() if ".new-" in p.name or ".old-" in p.name]
    again = run(root, "build")  # with room again, the build publishes
    assert again.returncode == 0, again.stdout
    assert b"how it is measured" in (root / "_site" / "iron" / "index.html").read_bytes()


@contextmanager
def immutable(path: Path) -> Iterator[None]:
    """A folder even root cannot write into (chattr +i), or the test is skipped."""
    if subprocess.run(["chattr", "+i", str(path)], capture_output=True).returncode != 0:
        pytest.skip("chattr +i is not available here")
    try:
        yield
    finally:
        subprocess.run(["chattr", "-i", str(path)], check=True)


@pytest.mark.parametrize("how", ["a file", "read-only", "full"])
def test_a_cache_that_cannot_be_written_only_costs_time(make_site: MakeSite, today: None,
                                                        how: str) -> None:
    root = make_site(no_search())  # (Pagefind does not report a full disk: see README)
    expected = run(root, "build", "--no-cache", "--out", str(root.parent / "expected"))
    assert expected.returncode == 0, expected.stdout
    # room for every file the site publishes (the largest: search.js, 12 kB), not for the
    # cache's larger files (Jinja's bytecode, 11-26 kB here; larger pickles)
    limit = 1 + max(p.stat().st_size for p in (root.parent / "expected").rglob("*")
                    if p.is_file())
    if how == "a file":
        (root / ".cache").write_text("not a folder")
        done = run(root, "build")
    elif how == "full":
        done = run(root, "build", limit=limit)
    else:
        (root / ".cache").mkdir()
        with immutable(root / ".cache"):
            done = run(root, "build")
    assert done.returncode == 0, (done.stdout, done.stderr)
    assert "Traceback" not in done.stderr
    assert tree(root / "_site") == tree(root.parent / "expected")
    if how == "a file":
        assert (root / ".cache").read_text() == "not a folder"
    elif how == "read-only":
        assert not any((root / ".cache").iterdir())
    else:
        assert not list((root / ".cache").rglob(".tmp-*"))  # none left half-written
        # (the cache the build would have written has larger files than the limit)
        other = root.parent / "unlimited"
        shutil.copytree(root, other, ignore=shutil.ignore_patterns(".cache", "_site"))
        assert run(other, "build").returncode == 0
        assert max(p.stat().st_size for p in (other / ".cache").rglob("*") if p.is_file()) \
            > limit


def test_a_report_that_cannot_be_written_is_a_one_line_error(make_site: MakeSite,
                                                             today: None) -> None:
    root = make_site(good_files())
    assert run(root, "build").returncode == 0
    before = tree(root / "_site")
    retitle(root, "Iron again")
    iron = root / "content" / "clots.md"
    iron.write_text(iron.read_text().replace("topics: [dvt]", "topics: [dvtt]"))
    done = run(root, "build", "--report", str(root / "content"))
    assert done.returncode == 1 and "Traceback" not in done.stderr
    assert done.stderr.splitlines() == [
        f"healthsite: error: cannot write the report to {root / 'content'}: it is a folder; "
        "the site was checked, not written"]
    assert any("error[unknown-topic]" in line for line in done.stdout.splitlines())
    assert tree(root / "_site") == before
    done = run(root, "check", "--report", str(root / "missing" / "r.json"))
    assert done.returncode == 1 and "Traceback" not in done.stderr
    assert done.stderr.splitlines() == [f"healthsite: error: cannot write the report to "
                                        f"{root / 'missing' / 'r.json'}: {root / 'missing'} "
                                        "is not a folder"]


@pytest.mark.parametrize("value", ["99999999999999", "-1", "1.5e9", "yesterday", "1_000",
                                   "\u0661\u0662", "9" * 5000, " 17 80"])
def test_a_bad_source_date_epoch_is_a_one_line_error(make_site: MakeSite, value: str,
                                                     capsys: pytest.CaptureFixture[str],
                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    """reproducible-builds.org: SOURCE_DATE_EPOCH must be an integer, and a value out of
    range is an error. The command exits 2 (how it was run is wrong: nothing was checked),
    the library reports an `environment` error."""
    root = make_site(good_files())
    monkeypatch.setenv("SOURCE_DATE_EPOCH", value)
    for verb in ("build", "check"):
        assert main([verb, "--root", str(root)]) == 2
        captured = capsys.readouterr()
        assert captured.out == ""
        assert len(captured.err.splitlines()) == 1
        assert captured.err.startswith("healthsite: error: SOURCE_DATE_EPOCH=")
        assert len(captured.err) < 200
    assert main(["new", "A title", "--root", str(root)]) == 2
    assert not (root / "content" / "a-title.md").exists()
    assert not (root / "_site").exists()
    result = build_site(Options(root=root))
    assert [p.code for p in result.problems.items()] == ["environment"]
    assert not (root / "_site").exists()


def test_an_empty_source_date_epoch_is_unset(make_site: MakeSite,
                                             monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "")
    root = make_site(good_files())
    assert not [p for p in build_site(Options(root=root, write=False)).problems.items()
                if p.code == "environment"]


# 16 and 27: output folders that are refused


@pytest.mark.parametrize("folder", [".cache", ".cache/site", ".hidden", ".hidden/site",
                                    "content/site", "templates", "static/out", "_site/.x"])
def test_output_folders_inside_caches_sources_or_hidden_folders_are_refused(
        make_site: MakeSite, today: None, folder: str) -> None:
    files = good_files()
    files["site.yaml"] = SITE_YAML + f"output_dir: {folder}\n"
    root = make_site(files)
    (root / "_site").mkdir()
    (root / "_site" / output.MARKER).write_text("")
    before = {k: v for k, v in tree(root).items() if not k.startswith(".cache/")}
    result = build_site(Options(root=root))
    found = [p.format() for p in result.problems.sorted()]
    assert len(found) == 1 and "error[io]: refusing to write the site to" in found[0], found
    assert {k: v for k, v in tree(root).items() if not k.startswith(".cache/")} == before
    assert not list((root / ".cache").rglob("*.html"))


def test_an_output_folder_that_is_a_symbolic_link_is_refused(make_site: MakeSite,
                                                             today: None) -> None:
    root = make_site(good_files())
    webroot = root.parent / "webroot"
    webroot.mkdir()
    (webroot / "index.html").write_text("the web server's own page")
    (root / "_site").symlink_to(webroot)
    done = run(root, "build")
    assert done.returncode == 1 and "Traceback" not in done.stderr
    errors = [line for line in done.stdout.splitlines() if "error[" in line]
    assert errors == [f"{root / '_site'}:1:1: error[io]: refusing to write the site to "
                      f"{root / '_site'}: it is a symbolic link (to {webroot}); give the "
                      "folder it points to as --out, or remove the link"]
    assert (root / "_site").is_symlink() and os.readlink(root / "_site") == str(webroot)
    assert tree(webroot) == {"index.html": b"the web server's own page"}
    assert sorted(p.name for p in root.parent.iterdir()) == ["site", "webroot"]


# 20: a failure in the middle of an update


class _FailingOS:
    """The `os` module as output.py sees it, failing the n-th file written, linked or
    renamed (whichever way the output is written)."""

    def __init__(self, after: int) -> None:
        self.left = after

    def __getattr__(self, name: str) -> Any:
        real = getattr(os, name)
        if name not in ("open", "replace", "link", "rename", "fdopen"):
            return real

        def failing(*args: Any, **kwargs: Any) -> Any:
            self.left -= 1
            if self.left < 0:
                raise OSError(errno.EIO, "injected failure")
            return real(*args, **kwargs)

        return failing


@pytest.mark.parametrize("change", ["template", "text"])
def test_a_failure_in_the_middle_of_an_update_leaves_the_previous_site(
        make_site: MakeSite, today: None, monkeypatch: pytest.MonkeyPatch,
        change: str, tmp_path: Path) -> None:
    """Without the search index, a template change updates the output (pipeline) and an
    article's text change rebuilds its page alone (delta): a failure at any point of the
    writing leaves the published folder exactly as it was."""
    root = make_site(no_search())
    base = root / "templates" / "base.html"
    iron, clots = root / "content" / "iron.md", root / "content" / "clots.md"
    old_base, old_iron, old_clots = base.read_text(), iron.read_text(), clots.read_text()
    assert not build_site(Options(root=root)).problems.errors
    old = tree(root / "_site")

    def edit() -> None:
        if change == "template":
            base.write_text(old_base.replace("</main>", "<!-- new --></main>"))
        else:  # two pages: each written atomically, but not both at once
            iron.write_text(old_iron.replace("Low iron can matter", "Low iron matters"))
            clots.write_text(old_clots + "\nOne more line.\n")

    edit()
    assert not build_site(Options(root=root, out=tmp_path / "new", cache=False)).problems.errors
    new = tree(tmp_path / "new")
    outcomes = []
    for after in (0, 1, 2, 3, 5, 8, 13, 21, 34):
        edit()
        monkeypatch.setattr(output, "os", _FailingOS(after))
        result = None
        with suppress(OSError, output.OutputError):
            result = build_site(Options(root=root))
        monkeypatch.undo()
        if result is not None and not result.problems.errors:  # it had written all
            assert tree(root / "_site") == new, after
            outcomes.append("new")
        else:
            assert tree(root / "_site") == old, after  # not one page of the new site
            outcomes.append("old")
        base.write_text(old_base)
        iron.write_text(old_iron)
        clots.write_text(old_clots)
        assert not build_site(Options(root=root)).problems.errors
        assert tree(root / "_site") == old
    assert outcomes[0] == "old" and outcomes[-1] == "new", outcomes
    edit()
    result = build_site(Options(root=root))
    assert ("delta" in result.timings) == (change == "text")
    assert not result.problems.errors
    fresh = build_site(Options(root=root, out=tmp_path / "scratch", cache=False))
    assert not fresh.problems.errors
    assert tree(root / "_site") == tree(tmp_path / "scratch") != old


# 21: leftovers of stopped builds


def test_leftovers_of_stopped_builds_are_removed_by_the_next(make_site: MakeSite,
                                                              today: None) -> None:
    root = make_site(good_files())
    assert not build_site(Options(root=root)).problems.errors
    for name in ("._site.new-abc123", "._site.old-def456/site"):
        (root / name / "a").mkdir(parents=True)
        (root / name / "a" / "index.html").write_text("half written")
    old_tmp = root / ".cache" / "render" / ".tmp-stale"
    jinja_tmp = next((root / ".cache" / "jinja").glob("*/")) / "__jinja2_x.cacheab12.tmp"
    fresh_tmp = root / ".cache" / "parsed" / ".tmp-in-use"
    for path in (old_tmp, jinja_tmp, fresh_tmp):
        path.write_bytes(b"x" * 100)
    hour_ago = time.time() - 3600
    os.utime(old_tmp, (hour_ago, hour_ago))
    os.utime(jinja_tmp, (hour_ago, hour_ago))
    other = root / ".mine.new-keep"  # another folder's, or not ours: left alone
    other.mkdir()
    retitle(root, "Iron, renamed")
    assert not build_site(Options(root=root)).problems.errors
    assert not (root / "._site.new-abc123").exists() and not (root / "._site.old-def456").exists()
    assert not old_tmp.exists() and not jinja_tmp.exists()
    assert fresh_tmp.exists() and other.is_dir()  # (written a moment ago: perhaps in use)
    ignored = (REPO / ".gitignore").read_text().splitlines()
    assert {".*.new-*", ".*.old-*", ".*.spare", ".tmp-*"} <= set(ignored)


def test_a_cache_file_that_could_not_be_written_leaves_no_temporary_file(
        tmp_path: Path) -> None:
    from healthsite.incremental.cache import write_pickled

    def limited() -> None:
        resource.setrlimit(resource.RLIMIT_FSIZE, (1000, 1000))

    code = ("import sys; from pathlib import Path; "
            "from healthsite.incremental.cache import write_pickled;"
            f"write_pickled(Path({str(tmp_path / 'x.pickle')!r}), b'x' * 5000)")
    done = subprocess.run([sys.executable, "-c", code], preexec_fn=limited,
                          capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert list(tmp_path.iterdir()) == []
    write_pickled(tmp_path / "y.pickle", b"y")
    assert [p.name for p in tmp_path.iterdir()] == ["y.pickle"]


# 22: facts shards are verified against the digest in their names


def test_a_sound_but_stale_facts_shard_is_not_trusted(tmp_path: Path) -> None:
    from test_cache import synthetic
    from test_delta import _as_scratch, _edit

    from healthsite.incremental import delta

    root = synthetic(tmp_path, 60, search=False)
    build_site(Options(root=root))
    folder = root / ".cache" / "facts"
    shard = folder / next(n for n in os.listdir(folder) if n.startswith(
        f"{delta._shard('a00005'):02x}-"))
    stale = shard.read_bytes()
    _edit(root, "a00005", "title: ", "title: Renamed ")  # a full build: a new shard
    full = build_site(Options(root=root))
    assert "delta" not in full.timings and not shard.exists()
    renamed = folder / next(n for n in os.listdir(folder) if n.startswith(shard.name[:3]))
    renamed.write_bytes(stale)  # checksum sound, contents those of before the title
    assert pickle.loads(stale.partition(b"\n")[2])[1]["a00005"][2][1] != "Renamed"
    assert full.reading_next is not None
    target = next(s for s, shown in sorted(full.reading_next.by_article.items())
                  if any(x.slug == "a00005" for x in shown))  # a page that shows its title
    _edit(root, target, "for more.", "for more detail.")
    again = build_site(Options(root=root))
    assert "delta" not in again.timings  # (the shard is not trusted: a full build)
    assert b"Renamed" in (root / "_site" / target / "index.html").read_bytes()
    _as_scratch(root, again, tmp_path / "scratch")


# 25: file modes


def _modes(out: Path) -> set[tuple[str, str]]:
    return {("d" if p.is_dir() else "f", oct(p.stat().st_mode & 0o777))
            for p in [out, *out.rglob("*")]}


@pytest.mark.parametrize("search", [True, False])
@pytest.mark.parametrize("umask", [0o077, 0o000])
def test_files_are_0644_and_folders_0755_whatever_the_umask(
        make_site: MakeSite, today: None, umask: int, search: bool) -> None:
    root = make_site(good_files() if search else no_search())
    base = root / "templates" / "base.html"
    before = os.umask(umask)
    try:
        steps: list[Callable[[], object]] = [
            lambda: None,  # a fresh build
            lambda: base.write_text(base.read_text().replace("</main>", "<!-- x --></main>")),
            lambda: retitle(root, "Iron, renamed"),
            lambda: (root / "content" / "iron.md").write_text(
                (root / "content" / "iron.md").read_text() + "\nOne more line.\n"),
        ]
        for step in steps:
            step()
            result = build_site(Options(root=root))
            assert not result.problems.errors
            assert _modes(root / "_site") == {("d", "0o755"), ("f", "0o644")}
        assert "delta" in result.timings  # (the last step)
        fresh = build_site(Options(root=root, out=root.parent / "scratch", cache=False))
        assert not fresh.problems.errors
        assert _modes(root.parent / "scratch") == {("d", "0o755"), ("f", "0o644")}
    finally:
        os.umask(before)


def test_a_spare_from_an_engine_that_followed_the_umask_is_put_right(
        make_site: MakeSite, today: None) -> None:
    """The output an earlier engine made under umask 077 becomes the spare (folders 0700,
    another marker): the update that swaps it in gives its folders 0755."""
    root = make_site(no_search())
    spare = root / "._site.spare"
    assert not build_site(Options(root=root)).problems.errors
    retitle(root, "Iron, first")
    assert not build_site(Options(root=root)).problems.errors
    for folder in [spare, *(p for p in spare.rglob("*") if p.is_dir())]:
        folder.chmod(0o700)
    (spare / output.MARKER).unlink()
    (spare / output.MARKER).write_bytes(b"This directory is written by healthsite; it is "
                                        b"replaced on every build.\n")
    retitle(root, "Iron, second")
    assert not build_site(Options(root=root)).problems.errors
    assert _modes(root / "_site") == {("d", "0o755"), ("f", "0o644")}


def test_updates_keep_the_previous_output_as_the_spare(make_site: MakeSite,
                                                       today: None) -> None:
    """An update swaps in the spare (made right first) and keeps the published folder as
    the next spare: the unchanged pages stay the same files (hard links), and a spare
    that was tampered with is made right again."""
    root = make_site(no_search())
    out, spare = root / "_site", root / "._site.spare"
    assert not build_site(Options(root=root)).problems.errors
    assert not spare.exists()
    page = out / "robots.txt"
    inode = page.stat().st_ino
    retitle(root, "Iron, first")
    assert not build_site(Options(root=root)).problems.errors
    assert spare.is_dir() and page.stat().st_ino == inode
    (spare / "robots.txt").unlink()  # (written into, it would be the published file
    (spare / "robots.txt").write_text("tampered")  # too: a hard link)
    (spare / "stray.html").write_text("stray")
    (spare / "iron").rename(spare / "iron-moved")
    retitle(root, "Iron, second")
    second = build_site(Options(root=root))
    assert not second.problems.errors
    assert page.stat().st_ino == inode and b"tampered" not in page.read_bytes()
    assert not (out / "stray.html").exists() and not (out / "iron-moved").exists()
    assert not build_site(Options(root=root, out=root.parent / "scratch",
                                  cache=False)).problems.errors
    assert tree(out) == tree(root.parent / "scratch")
    assert build_site(Options(root=root)).up_to_date
