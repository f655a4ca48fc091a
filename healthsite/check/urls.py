"""Permanent URLs: a published address keeps working.

Owns three things:
- an article's `aliases:` (its old addresses, `/old-path/`): a redirect page at each (a
  meta refresh and a canonical link to the new address, `noindex`) and a `_redirects` file
  for hosts that read one (Netlify, Cloudflare Pages); an alias that is another page's or
  another alias's address is `alias-collision` at its line;
- `retired:` in site.yaml, addresses removed on purpose: a "gone" page at each, saying so;
- the comparison with what was published before (the last build's sitemap.xml in the output
  folder, or a sitemap given with `--published`): an address that disappears without an
  alias or a retirement is `url-removed`, naming the old address and the page most likely to
  have replaced it.

An alias is an address on the site (under its base path: `/old/` on a site at
`https://org.github.io/guide/` is `/guide/old/`). Aliases never appear in the sitemap.
"""

from __future__ import annotations

import difflib
import html
import posixpath
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import unquote, urlsplit

from ..errors import ProblemList
from ..link.graph import Renamed, TopicGraph
from ..load.config import SiteConfig
from ..load.content import Article

_LOC = re.compile(rb"<loc>\s*([^<\s]+)\s*</loc>")
SITEMAP = "sitemap.xml"
MAX_SITEMAP = 50_000_000  # bytes read of a sitemap, at most (the format's own limit)


def output_path(address: str) -> str:
    """The output file that answers at an address: /old/ and /old -> old/index.html,
    /old.html -> old.html."""
    path = address.strip("/")
    return path if path.endswith(".html") else f"{path}/index.html"


def url_path(address: str, base: str) -> str:
    """An address under the base path, as a browser asks for it."""
    return base + address.lstrip("/") + ("" if address.endswith(("/", ".html")) else "/")


@dataclass(frozen=True)
class Moved:
    """An old address and where it leads: an article's URL, or None when it was retired."""

    address: str
    to: str | None
    title: str = ""
    path: str = ""  # the article that names it (content/x.md), or site.yaml
    line: int = 1
    col: int = 1


def moved(config: SiteConfig, graph: TopicGraph) -> list[Moved]:
    """Every alias of a published article, then every retired address, in order."""
    found = [Moved(alias, a.url, a.title, a.path, *a.meta.at("aliases", i))
             for a in graph.articles.values() for i, alias in enumerate(a.meta.aliases)]
    return found + [Moved(address, None, path="site.yaml", line=line, col=col)
                    for address, line, col in config.retired]


def redirect_files(config: SiteConfig, graph: TopicGraph, taken: Iterable[str],
                   problems: ProblemList) -> dict[str, bytes]:
    """The redirect and gone pages, and `_redirects`, by output path; a collision with a
    page, a file or another old address is reported and its file left out."""
    files: dict[str, bytes] = {}
    owners = {path: "a page of the site" for path in taken}
    lines: list[str] = []
    for m in moved(config, graph):
        path = output_path(m.address)
        if path in owners:
            problems.add("alias-collision", f"'{m.address}' is already {owners[path]}", m.path,
                         m.line, m.col, hint="choose another old address, or remove this one")
            continue
        owners[path] = f"the old address of {m.path}" if m.to else "retired in site.yaml"
        files[path] = _redirect(config, m) if m.to else _gone(config, m)
        if m.to:
            lines.append(f"{url_path(m.address, config.base_path)} {m.to} 301")
    if lines:
        files["_redirects"] = ("\n".join(lines) + "\n").encode()
    return files


def _redirect(config: SiteConfig, m: Moved) -> bytes:
    """A page that sends the reader on to the article's address at once."""
    to = html.escape(m.to or "")
    canonical = html.escape(config.base_url.rstrip("/") + (m.to or "")[len(config.base_path)-1:])
    title = html.escape(m.title)
    return (f'<!DOCTYPE html>\n<html lang="{html.escape(config.language)}">\n<head>\n'
            f'<meta charset="utf-8">\n<title>{title}</title>\n'
            f'<link rel="canonical" href="{canonical}">\n'
            f'<meta name="robots" content="noindex">\n'
            f'<meta http-equiv="refresh" content="0; url={to}">\n</head>\n<body>\n'
            f'<p>This page has moved to <a href="{to}">{title}</a>.</p>\n</body>\n</html>\n'
            ).encode()


def _gone(config: SiteConfig, m: Moved) -> bytes:
    """A page that says the address was removed on purpose, with the way on."""
    base = html.escape(config.base_path)
    return (f'<!DOCTYPE html>\n<html lang="{html.escape(config.language)}">\n<head>\n'
            f'<meta charset="utf-8">\n<meta name="viewport" content="width=device-width, '
            f'initial-scale=1">\n<title>Page removed - {html.escape(config.title)}</title>\n'
            f'<meta name="robots" content="noindex">\n</head>\n<body>\n<main>\n'
            f"<h1>This page has been removed</h1>\n<p>It is no longer part of "
            f"{html.escape(config.title)}. Go to the <a href=\"{base}\">home page</a> or the "
            f'<a href="{base}topics/">list of topics</a>.</p>\n</main>\n</body>\n</html>\n'
            ).encode()


def sitemap_paths(data: bytes) -> list[str]:
    """The URL paths a sitemap lists, in its order."""
    return [unquote(urlsplit(m.decode("utf-8", "replace")).path) for m in _LOC.findall(data)]


def read_sitemap(path: Path) -> bytes | None:
    """A sitemap's bytes (at most MAX_SITEMAP), or None when there is none to read."""
    try:
        with path.open("rb") as fh:
            return fh.read(MAX_SITEMAP)
    except OSError:
        return None


@dataclass(frozen=True)
class Sitemaps:
    """The sitemap published before and this build's."""

    before: bytes
    after: bytes
    drafts: frozenset[str] = frozenset()  # drafts' addresses: taken out on purpose


def check_removed(sitemaps: Sitemaps, config: SiteConfig, graph: TopicGraph,
                  renamed: Renamed, problems: ProblemList) -> None:
    """Report each address of the sitemap published before that this build's lacks and no
    alias or retirement keeps (`url-removed`), at the article that replaced it: the renamed
    one, or the one whose address is most like it."""
    kept = set(sitemap_paths(sitemaps.after)) | sitemaps.drafts | {
        url_path(m.address, config.base_path) for m in moved(config, graph)}
    for old in dict.fromkeys(sitemap_paths(sitemaps.before)):
        if old not in kept:
            _report_removed(old, config, graph.articles, renamed, problems)


def _report_removed(old: str, config: SiteConfig, articles: Mapping[str, Article],
                    renamed: Renamed, problems: ProblemList) -> None:
    """url-removed, at the article that likely replaced the old address, or at site.yaml
    when none is known."""
    address = "/" + old[len(config.base_path):] if old.startswith(config.base_path) else old
    name = posixpath.basename(address.rstrip("/")).removesuffix(".html")
    near = [renamed.slugs[name]] if renamed.slugs.get(name) in articles else \
        difflib.get_close_matches(name, list(articles), n=1, cutoff=0.6)
    retire = "or list it under retired: in site.yaml if it is gone on purpose"
    where, hint = "site.yaml", f"give the page that replaced it aliases: [{address}], {retire}"
    if near:
        where = articles[near[0]].path
        hint = f"if this page replaced it, add aliases: [{address}] to its front matter; {retire}"
    problems.add("url-removed", f"'{old}' was published before and is no longer", where,
                 hint=hint)
