"""The search index in shards (issue 23, publish/search.py): each edition's pages split by a
stable hash into shards, each indexed by its own Pagefind run, merged at query time by
search.js. Tests of correctness, never of speed: a site's shards after any sequence of
edits are byte for byte those a build from scratch makes, a build indexes again only the
shards whose pages changed, and searching the shards in Chromium finds what one whole
index finds, ranked alike (on the repository's site and on a generated corpus)."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import pytest
from browser import serve
from test_cache import _files, generate_site, synthetic
from test_search import hrefs, search

from healthsite.pipeline import Options, build_site
from healthsite.publish import search as shards
from healthsite.publish.search import Edition, plan, shard_count
from healthsite.publish.vocabulary import write_vocabulary

REPO = Path(__file__).resolve().parent.parent
ENGLISH, SPANISH = Edition("", "en-GB"), Edition("es/", "es-ES")


# --- the plan ---

def test_an_edition_is_split_in_a_power_of_two_shards() -> None:
    assert [shard_count(n) for n in (0, 1, 512, 513, 1024, 1025, 10_066)] == \
        [1, 1, 1, 2, 2, 4, 32]


def test_each_page_is_in_one_shard_of_its_own_edition(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(shards, "SHARD_PAGES", 10)
    pages = [f"a{i:03}/index.html" for i in range(60)] + \
        [f"es/a{i:03}/index.html" for i in range(15)] + ["404.html", "es/index.html"]
    planned = plan(sorted(pages), (ENGLISH, SPANISH))
    assert planned[0].name == "" and planned[0].language == ""  # several languages: its own
    named = {s.name: s for s in planned[1:]}
    assert {n.rsplit(".", 1)[0] for n in named} == {"en-gb", "es-es"}
    assert all(s.language == ("es" if s.name.startswith("es") else "en") for s in named.values())
    assert all(all(p.startswith("es/") for p in s.pages) == s.name.startswith("es")
               for s in named.values())
    listed = [p for s in planned for p in s.pages]
    assert sorted(listed) == sorted(pages)  # every page once
    # a page added (the same number of shards) moves no other page
    again = plan(sorted([*pages, "a999/index.html"]), (ENGLISH, SPANISH))
    before = {p: s.name for s in planned for p in s.pages}
    after = {p: s.name for s in again for p in s.pages}
    assert all(after[p] == before[p] for p in before)
    # one edition alone: every shard, the main one too, indexed as its language
    assert {s.language for s in plan(pages[:60], (ENGLISH,))} == {"en"}


# --- the index a build makes, after edits ---

def _shard_files(site: Path) -> dict[str, int]:
    """Every file of the index with its inode (a shard linked over keeps its inodes)."""
    index = site / "pagefind"
    return {p.relative_to(index).as_posix(): p.stat().st_ino
            for p in sorted(index.rglob("*")) if p.is_file()}


def _folder_of(rel: str) -> str:
    parts = rel.split("/")
    return "/".join(parts[:2]) if parts[0] == "shards" else ""


def test_after_each_edit_the_shards_are_what_a_build_from_scratch_makes(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A text edit (the changed-articles route), a new article, a title changed (a full
    build updating its output) and an article gone: each time only the shards of the pages
    that changed are indexed again, and the whole output (the index included) is byte for
    byte a build from scratch's."""
    monkeypatch.setattr(shards, "SHARD_PAGES", 8)
    # (without the URL history: a build from scratch into a new folder has none)
    root = generate_site(tmp_path / "site", 40, search=True, url_history=False)
    content = root / "content"
    build_site(Options(root=root))
    site = root / "_site"
    manifest = json.loads((site / "pagefind" / "shards.json").read_bytes())
    assert len(manifest["languages"]["en-gb"]) >= 7  # (about 50 pages: 8 shards)

    def step(n: int, change: Any, changed_pages: set[str]) -> None:
        before = _shard_files(site)
        change()
        result = build_site(Options(root=root))
        assert not result.problems.errors, result.problems.sorted()
        # the build's record of its output (updated, not listed again) is right: the next
        # build stands by it
        assert build_site(Options(root=root)).up_to_date, n
        after = _shard_files(site)
        planned = plan(sorted(p.relative_to(site).as_posix() for p in site.rglob("*.html")
                              if "pagefind" not in p.parts), (ENGLISH,))
        touched = {f"shards/{s.name}" if s.name else ""
                   for s in planned if set(s.pages) & changed_pages}
        assert len(touched) == 1
        kept = {_folder_of(rel) for rel, ino in after.items() if before.get(rel) == ino}
        relinked = {_folder_of(rel) for rel in after} - touched
        # the shards none of whose pages changed are the same files (linked over)
        assert {f for f in relinked if f} <= kept, (n, relinked - kept)
        scratch = tmp_path / f"scratch-{n}"
        build_site(Options(root=root, out=scratch, cache=False))
        assert _files(site) == _files(scratch), n
        _vocabulary_as_counted_afresh(site, tmp_path / f"words-{n}")

    def edit_text() -> None:
        path = content / "a00004.md"
        path.write_text(path.read_text().replace("for more.", "for more on zebrafish.", 1))

    step(1, edit_text, {"a00004/index.html"})
    new = content / "a00099.md"

    def add() -> None:
        text = (content / "a00007.md").read_text()
        new.write_text(text.replace("Synthetic article 7", "Synthetic article 99"))

    build_site(Options(root=root))  # (warm the record: the next step's changes are its own)
    add_result_pages = {"a00099/index.html"}
    before_add = _shard_files(site)
    add()
    build_site(Options(root=root))
    assert any(k.startswith("shards/") for k in _shard_files(site))
    assert _shard_files(site) != before_add
    scratch = tmp_path / "scratch-add"
    build_site(Options(root=root, out=scratch, cache=False))
    assert _files(site) == _files(scratch)
    assert add_result_pages <= {p.relative_to(site).as_posix() for p in site.rglob("*.html")}

    def gone() -> None:
        new.unlink()

    def retitle() -> None:
        path = content / "a00012.md"
        path.write_text(path.read_text().replace("Synthetic article 12", "Zebra article 12", 1))

    for n, change in ((3, retitle), (4, gone)):
        before = _shard_files(site)
        change()
        build_site(Options(root=root))
        assert build_site(Options(root=root)).up_to_date, n
        scratch = tmp_path / f"scratch-{n}"
        build_site(Options(root=root, out=scratch, cache=False))
        assert _files(site) == _files(scratch), n
        assert _shard_files(site) != before
        _vocabulary_as_counted_afresh(site, tmp_path / f"words-{n}")


def _vocabulary_as_counted_afresh(site: Path, out: Path) -> None:
    """Each edition's "did you mean" words, kept shard by shard and brought up to date from
    each edit, are what counting every page of the site again gives."""
    out.mkdir()
    written = write_vocabulary(site, out)
    assert written
    for path in written:
        assert (site / "pagefind" / path.name).read_bytes() == path.read_bytes(), path.name


def test_a_shard_left_by_an_interrupted_build_is_not_trusted(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A shard's digest names its pages and Pagefind's options and version: a manifest that
    does not match (another engine's, or damaged) means the shard is indexed again."""
    monkeypatch.setattr(shards, "SHARD_PAGES", 8)
    root = synthetic(tmp_path, 20, search=True)
    build_site(Options(root=root))
    site = root / "_site"
    index = site / "pagefind"
    data = json.loads((index / "shards.json").read_bytes())
    name = data["languages"]["en-gb"][0]
    before = _shard_files(site)
    # the previous manifest says another digest for one shard: that shard is made again
    previous = tmp_path / "previous"
    shutil.copytree(index, previous / "pagefind")
    data["shards"][name] = "0" * 20
    (previous / "pagefind" / "shards.json").write_text(json.dumps(data))
    out = tmp_path / "again"
    shutil.copytree(site, out, ignore=shutil.ignore_patterns("pagefind"))
    pages = sorted(p.relative_to(out).as_posix() for p in out.rglob("*.html"))
    assert shards.index_site(out, out / "pagefind", previous / "pagefind", frozenset(),
                             (ENGLISH,), pages=pages) == ""
    again = {rel: ino for rel, ino in _shard_files(out).items()}
    copied = {rel: (previous / "pagefind" / rel).stat().st_ino for rel in before
              if (previous / "pagefind" / rel).is_file()}
    relinked = {_folder_of(r) for r, ino in again.items() if copied.get(r) == ino}
    assert f"shards/{name}" not in relinked and relinked  # (the others were linked)
    assert _files(out / "pagefind") == _files(index)


# --- searching the shards ---

# The generated corpus draws every article's words from the same few dozen, so a query for
# one of them matches nearly every page with nearly the same score: their order is noise
# (one index or several), and only how many are found is compared. Rare words, put into
# a few articles a different number of times each, have a ranking to keep.
COMMON = ["leg", "clot", "iron", "restless legs", "pregnancy", "zzzznothing", "calf swelling"]
RARE = {"zebrafish": 5, "quokka": 4, "axolotl": 6}


def _results(browser: Any, site: Path, queries: list[str],
             path: str = "search/") -> dict[str, list[str]]:
    """Each query's results on `site`'s search page, in order (the first screen of them),
    after the status line (how many were found)."""
    found = {}
    with serve(site) as base:
        for query in queries:
            page, trouble = search(browser, f"{base}/{path}", 1280, query)
            found[query] = [page.inner_text("#search-status"), *hrefs(page)]
            assert not trouble, trouble
            page.close()
    return found


@pytest.fixture(scope="module")
def corpus(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """A generated corpus of 300 articles built twice: with one whole index and in shards
    of about 48 pages (8 shards)."""
    tmp = tmp_path_factory.mktemp("corpus")
    root = synthetic(tmp, 300, search=True)
    for w, (word, pages) in enumerate(RARE.items()):
        for k in range(pages):  # article k+1 of the word's: the word (pages - k) times
            path = root / "content" / f"a{(k + 1) * 41 + w:05}.md"
            text = path.read_text()
            assert "for more." in text
            path.write_text(text.replace("for more.", "for more " + " ".join(
                [word] * (pages - k)) + ".", 1))
    whole, sharded = tmp / "whole", tmp / "sharded"
    build_site(Options(root=root, out=whole, cache=False))
    patch = pytest.MonkeyPatch()
    patch.setattr(shards, "SHARD_PAGES", 48)
    try:
        build_site(Options(root=root, out=sharded, cache=False))
    finally:
        patch.undo()
    return whole, sharded


def _agree(whole: dict[str, list[str]], sharded: dict[str, list[str]]) -> None:
    """As many pages found, and the same best results: the top three of each list are in
    the other's top five, and the first screens share all but two of their pages. (Shards
    this small may rank near ties differently: Pagefind weighs how much of a page a word is
    by the average page length of the page's own shard, which in shards of 8 to 16 pages
    is from half to one and a half times the site's; in shards of 300 to 512 pages, within
    2% (bench/README.md).)"""
    for query, (status, *expected) in whole.items():
        got_status, *got = sharded[query]
        assert got_status == status, query
        assert set(got[:3]) <= set(expected[:5]) and set(expected[:3]) <= set(got[:5]), \
            (query, expected[:5], got[:5])
        assert len(set(got) & set(expected)) >= len(expected) - 2, (query, expected, got)


def test_the_shards_find_what_one_index_finds_on_a_generated_corpus(
        browser: Any, corpus: tuple[Path, Path]) -> None:
    whole, sharded = corpus
    manifest = json.loads((sharded / "pagefind" / "shards.json").read_bytes())
    assert len(manifest["languages"]["en-gb"]) == 7
    assert not (whole / "pagefind" / "shards").exists()
    # each shard's pages as Pagefind counted them (search.js weighs words by their sum)
    entry = json.loads((whole / "pagefind" / "pagefind-entry.json").read_bytes())
    counts = manifest["pages"]["en-gb"]
    assert set(counts) == {"", *manifest["languages"]["en-gb"]}
    assert sum(counts.values()) == entry["languages"]["en"]["page_count"] > 300
    one, several = _results(browser, whole, COMMON), _results(browser, sharded, COMMON)
    assert {q: r[0] for q, r in one.items()} == {q: r[0] for q, r in several.items()}


def test_a_rare_word_is_found_and_ranked_as_one_index_does(
        browser: Any, corpus: tuple[Path, Path]) -> None:
    whole, sharded = corpus
    """A word only some shards have: a shard without it finds nothing (Pagefind, in an index
    without the word, would match the longest word it begins with), and the pages that have
    it are ranked by the word's weight in the whole site, not in each shard. With a common
    word too, the pages having both."""
    rare = [*RARE, "zebrafish leg", "leg quokka"]
    one, several = _results(browser, whole, rare), _results(browser, sharded, rare)
    assert one == several  # the same pages in the same order
    for w, (word, pages) in enumerate(RARE.items()):
        assert one[word][1:] == [f"/a{(k + 1) * 41 + w:05}/" for k in range(pages)]
    assert set(one["zebrafish leg"][1:]) == set(one["zebrafish"][1:])


def test_each_result_is_weighed_as_its_shard_by_the_ids_the_manifest_lists(
        browser: Any, corpus: tuple[Path, Path], tmp_path: Path) -> None:
    """search.js searches every shard at once and tells each result's shard by its id:
    shards.json lists each shard's ids, which are its fragment files' names. With lists that
    name no page, every result passes for the main shard's, and a word only other shards
    have ("zebrafish": its five pages hash to shards 1, 2, 6 and 7) is found nowhere."""
    _, sharded = corpus
    manifest = json.loads((sharded / "pagefind" / "shards.json").read_bytes())
    for name in manifest["languages"]["en-gb"]:
        held = sorted(p.name.removesuffix(".pf_fragment") for p in
                      (sharded / "pagefind" / "shards" / name / "fragment").iterdir())
        assert held and manifest["fragments"][name].split() == held
    assert len(_results(browser, sharded, ["zebrafish"])["zebrafish"]) == 1 + 5
    wrong = tmp_path / "wrong"
    shutil.copytree(sharded, wrong, symlinks=True)
    manifest["fragments"] = {name: "nothing" for name in manifest["fragments"]}
    (wrong / "pagefind" / "shards.json").write_text(json.dumps(manifest), encoding="utf-8")
    assert _results(browser, wrong, ["zebrafish"])["zebrafish"][1:] == []


def test_the_shards_find_what_one_index_finds_on_the_site(
        browser: Any, tmp_path: Path, built_repo_site: Path,
        monkeypatch: pytest.MonkeyPatch) -> None:
    """The repository's site in shards of at most 16 pages (four for the English edition,
    two for the Spanish) against its one index, in English and in Spanish."""
    monkeypatch.setattr(shards, "SHARD_PAGES", 16)
    sharded = tmp_path / "sharded"
    build_site(Options(root=REPO, out=sharded, cache=False))
    languages = json.loads((sharded / "pagefind" / "shards.json").read_bytes())["languages"]
    assert languages["en-gb"] and languages["es-es"]
    english = ["restless legs", "iron", "clot", "pregnancy", "flight", "ferritin", "dvt",
               "leg pain", "blood clot", "iron deficiency"]
    _agree(_results(browser, built_repo_site, english),
           _results(browser, sharded, english))
    spanish = ["piernas", "hierro", "coágulo", "embarazo"]
    whole_es = _results(browser, built_repo_site, spanish, "es/search/")
    assert all(len(whole_es[q]) > 1 for q in spanish)
    _agree(whole_es, _results(browser, sharded, spanish, "es/search/"))
