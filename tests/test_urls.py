"""Permanent URLs (issue 18, point 6): aliases and their redirect pages, retired addresses,
and the comparison with the URLs published before (url-removed)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from conftest import good_files

from healthsite.pipeline import BuildResult, Options, build_site

MakeSite = Callable[[dict[str, str | bytes]], Path]


def _lines(result: BuildResult, code: str | None = None) -> list[str]:
    return [p.format() for p in result.problems.sorted() if code is None or p.code == code]


def _with(files: dict[str, str], name: str, key: str, value: str) -> dict[str, str]:
    """The files with `key: value` added to the front matter of content/`name`."""
    text = files[f"content/{name}"]
    return {**files, f"content/{name}": text.replace("---\n", f"---\n{key}: {value}\n", 1)}


def test_an_alias_is_a_redirect_page_and_a_line_of_redirects_never_in_the_sitemap(
        make_site: MakeSite) -> None:
    files = good_files()
    files["site.yaml"] = files["site.yaml"].replace("base_url: https://example.org/",
                                                    "base_url: https://org.github.io/guide/")
    root = make_site(_with(files, "iron.md", "aliases", "[/iron-levels/, /leaflets/iron.html]"))
    result = build_site(Options(root=root))
    assert not result.problems.errors, _lines(result)
    out = root / "_site"
    page = (out / "iron-levels" / "index.html").read_text()
    assert '<meta http-equiv="refresh" content="0; url=/guide/iron/">' in page
    assert '<link rel="canonical" href="https://org.github.io/guide/iron/">' in page
    assert '<meta name="robots" content="noindex">' in page
    assert (out / "leaflets" / "iron.html").read_text() == page
    assert (out / "_redirects").read_text() == (
        "/guide/iron-levels/ /guide/iron/ 301\n/guide/leaflets/iron.html /guide/iron/ 301\n")
    sitemap = (out / "sitemap.xml").read_text()
    assert "/guide/iron/" in sitemap and "iron-levels" not in sitemap and "leaflets" not in sitemap


def test_an_alias_that_is_already_an_address_is_an_error(make_site: MakeSite) -> None:
    files = _with(good_files(), "iron.md", "aliases", "[/clots/, /topics/, /old/]")
    files = _with(files, "clots.md", "aliases", "[/old/]")
    result = build_site(Options(root=make_site(files), write=False))
    assert _lines(result, "alias-collision") == [
        "content/iron.md:2:11: error[alias-collision]: '/clots/' is already a page of the site "
        "(choose another old address, or remove this one)",
        "content/iron.md:2:20: error[alias-collision]: '/topics/' is already a page of the site "
        "(choose another old address, or remove this one)",
        "content/iron.md:2:30: error[alias-collision]: '/old/' is already the old address of "
        "content/clots.md (choose another old address, or remove this one)"]
    files = _with(good_files(), "iron.md", "aliases", "[/fine/, bad, /../up/, /]")
    result = build_site(Options(root=make_site(files), write=False))
    assert _lines(result) == [
        "content/iron.md:2:19: error[fm-type]: 'aliases' item 2: an address on this site "
        "starts with / and has only letters, digits and - . _ ~ between its slashes (write the "
        "old address as the browser shows it after the site's name, e.g. /old-page/)",
        "content/iron.md:2:24: error[fm-type]: 'aliases' item 3: an address of its own is "
        "needed (not the home page, no . or .. parts) (write the old address as the browser "
        "shows it after the site's name, e.g. /old-page/)",
        "content/iron.md:2:33: error[fm-type]: 'aliases' item 4: an address of its own is "
        "needed (not the home page, no . or .. parts) (write the old address as the browser "
        "shows it after the site's name, e.g. /old-page/)"]


def test_a_url_removed_is_an_error_until_it_is_an_alias_or_retired(make_site: MakeSite) -> None:
    files = good_files()
    root = make_site(files)
    assert not build_site(Options(root=root)).problems.errors
    sitemap = (root / "_site" / "sitemap.xml").read_bytes()
    (root / "content" / "iron.md").rename(root / "content" / "iron-and-rls.md")
    (root / "content" / "overview.md").write_text(
        files["content/overview.md"].replace("(iron.md)", "(iron-and-rls.md)")
        .replace("next: [iron]", "next: [iron-and-rls]"))
    (root / "content" / "clots.md").write_text(
        files["content/clots.md"].replace("(iron.md#", "(iron-and-rls.md#"))
    failed = build_site(Options(root=root))
    assert _lines(failed) == [
        "content/iron-and-rls.md:1:1: error[url-removed]: '/iron/' was published before and is "
        "no longer (if this page replaced it, add aliases: [/iron/] to its front matter; or "
        "list it under retired: in site.yaml if it is gone on purpose)"]
    assert (root / "_site" / "sitemap.xml").read_bytes() == sitemap  # (nothing written)
    moved = root / "content" / "iron-and-rls.md"
    moved.write_text(moved.read_text().replace("---\n", "---\naliases: [/iron/]\n", 1))
    fixed = build_site(Options(root=root))
    assert not fixed.problems.errors, _lines(fixed)
    assert "url=/iron-and-rls/" in (root / "_site" / "iron" / "index.html").read_text()
    # retired on purpose instead: a page that says so
    moved.write_text(moved.read_text().replace("aliases: [/iron/]\n", ""))
    config = root / "site.yaml"
    config.write_text(config.read_text() + "retired: [/iron/]\n")
    retired = build_site(Options(root=root))
    assert not retired.problems.errors, _lines(retired)
    gone = (root / "_site" / "iron" / "index.html").read_text()
    assert "This page has been removed" in gone and 'content="noindex"' in gone


def test_the_published_sitemap_can_be_given_and_drafts_are_taken_out_on_purpose(
        make_site: MakeSite, tmp_path: Path) -> None:
    live = tmp_path / "live-sitemap.xml"
    live.write_text('<?xml version="1.0"?>\n<urlset><url><loc>https://example.org/iron/</loc>'
                    "</url><url><loc>https://example.org/clots/</loc></url>"
                    "<url><loc>https://example.org/retired-long-ago/</loc></url></urlset>\n")
    files = _with(good_files(), "clots.md", "draft", "true")
    files["content/overview.md"] = files["content/overview.md"].replace(
        " and [clots](clots.md)", "")
    files["content/iron.md"] = files["content/iron.md"].replace(" and [clots](clots.md)", "")
    root = make_site(files)
    result = build_site(Options(root=root, write=False, published=live))
    assert not [line for line in _lines(result) if "url-removed" not in line], _lines(result)
    assert _lines(result, "url-removed") == [
        "site.yaml:1:1: error[url-removed]: '/retired-long-ago/' was published before and is no "
        "longer (give the page that replaced it aliases: [/retired-long-ago/], or list it "
        "under retired: in site.yaml if it is gone on purpose)"]
    # without a sitemap of before (a first build), nothing is compared
    assert not _lines(build_site(Options(root=root, write=False)), "url-removed")


def test_a_renamed_article_is_named_in_the_hints(make_site: MakeSite) -> None:
    root = make_site(good_files())
    assert not build_site(Options(root=root)).problems.errors
    (root / "content" / "clots.md").rename(root / "content" / "blood-clots.md")
    result = build_site(Options(root=root))
    assert [line for line in _lines(result) if "renamed" in line] == [
        "content/iron.md:13:70: error[broken-link]: link to 'clots.md': no such file (it "
        "was renamed: link to 'blood-clots.md')",
        "content/overview.md:12:40: error[broken-link]: link to 'clots.md': no such file (it "
        "was renamed: link to 'blood-clots.md')"]


def test_a_new_published_sitemap_is_checked_though_nothing_else_changed(
        make_site: MakeSite, tmp_path: Path) -> None:
    """The quick routes (nothing changed; only articles' text changed) stand by the last
    build's check of the URLs published before only when given the same sitemap: another
    one is checked again."""
    root = make_site(good_files())
    live = tmp_path / "live-sitemap.xml"
    live.write_text('<?xml version="1.0"?>\n<urlset><url><loc>https://example.org/iron/</loc>'
                    "</url></urlset>\n")
    first = build_site(Options(root=root, published=live))
    assert not first.problems.errors, _lines(first)
    again = build_site(Options(root=root, published=live))
    assert again.route == "unchanged"
    live.write_text(live.read_text().replace(
        "</urlset>", "<url><loc>https://example.org/gone-since/</loc></url></urlset>"))
    moved = build_site(Options(root=root, published=live))
    assert moved.route == "full"
    assert [line.split(": (")[0] for line in _lines(moved, "url-removed")] == [
        "site.yaml:1:1: error[url-removed]: '/gone-since/' was published before and is no "
        "longer (give the page that replaced it aliases: [/gone-since/], or list it under "
        "retired: in site.yaml if it is gone on purpose)"]
    iron = root / "content" / "iron.md"
    iron.write_text(iron.read_text().replace("Low iron can matter", "Low iron matters"))
    text = build_site(Options(root=root, published=live))
    assert text.route == "full" and _lines(text, "url-removed")


def test_the_urls_are_checked_when_workers_write_the_pages(tmp_path: Path) -> None:
    """A written build of a site large enough for worker processes, which write most pages
    themselves: the sitemap still comes back to be compared with the one published before."""
    from test_cache import synthetic

    root = synthetic(tmp_path, 250, search=False)
    live = tmp_path / "live-sitemap.xml"
    live.write_text('<?xml version="1.0"?>\n<urlset><url><loc>'
                    "https://synthetic.example.org/gone-since/</loc></url></urlset>\n")
    result = build_site(Options(root=root, published=live))
    assert result.route == "full"
    assert [p.message for p in result.problems.sorted() if p.code == "url-removed"] == [
        "'/gone-since/' was published before and is no longer"]
