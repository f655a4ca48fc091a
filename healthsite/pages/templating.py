"""Stage 6 (pages): the templates. Builds a typed view per page and renders it with Jinja.

Templates get explicit views (TypedDicts) with neighbours already resolved to
{url, title, reason}; Jinja runs with autoescape and StrictUndefined (Jinja's own
environment, or when it is on the quicker one of `healthsite.fast.jinja`).

The look comes from the default theme packaged with the engine (`healthsite/theme/`: its
`templates/` and `static/`). A site's own `templates/` and `static/` override it file by
file, as MkDocs' `custom_dir` does: `templates/base.html` in the site is used instead of
the theme's, and every file the site does not have comes from the theme. Only the site's
folders are inputs an editor controls, so only they are checked for links out and pipes.
"""

from __future__ import annotations

import datetime as dt
import functools
import hashlib
import json
import os
import stat
import sys
import traceback
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType
from typing import TYPE_CHECKING, Any, TypedDict, cast

import jinja2

from .. import fast
from ..errors import ProblemList
from ..files import kind, outside, printable, read_regular, undecodable
from ..link.graph import TopicGraph
from ..link.related import REASON_FORMATS, ReadingNext, Suggestion
from ..load.config import SiteConfig
from ..load.content import Article
from ..load.translations import Catalogue, newstyle
from ..render.markup import Rendered
from ..render.svg import svg_problem

if TYPE_CHECKING:
    from .editions import Versions

TEMPLATES_DIR = "templates"
STATIC_DIR = "static"
TEMPLATES = ("article.html", "home.html", "topics.html", "topic.html", "glossary.html",
             "search.html", "topic-map.html", "404.html", "sitemap.xml", "feed.xml",
             "robots.txt", "draft.html")
HASHED = (".css", ".js")
THEME = Path(__file__).resolve().parent.parent / "theme"  # the packaged default theme
THEME_LABEL = "theme"  # how problems name a file of the theme ("theme/templates/base.html")


class LinkView(TypedDict):
    url: str
    title: str


class TopicLinkView(TypedDict):
    url: str
    title: str
    also: list[str]


class SuggestionView(TypedDict):
    url: str
    title: str
    summary: str
    reasons: list[str]


class SourceView(TypedDict):
    n: int
    title: str
    publisher: str
    year: int | None
    url: str | None


class ArticleView(TypedDict):
    slug: str
    title: str
    summary: str
    url: str
    canonical: str
    is_article: bool
    draft: bool
    html: str
    toc: list[dict[str, Any]]
    topics: list[TopicLinkView]
    breadcrumbs: list[LinkView]
    sources: list[SourceView]
    reviewed: dt.date
    next_review: dt.date
    reading_next: list[SuggestionView]
    backlinks: list[LinkView]
    jsonld: str
    translation: dict[str, Any] | None
    overdue: bool
    problems: list[str]
    also_known_as: list[str]  # the names an editor declared (front matter also_known_as)
    search_terms: list[str]  # its topics' lay and clinical words: indexed, never shown


@dataclass(frozen=True)
class Templates:
    """A compiled Jinja environment for one build, and a fingerprint of the template sources."""

    env: jinja2.Environment
    root: Path
    fingerprint: str


class _Loader(jinja2.FileSystemLoader):
    """Jinja's loader for templates/, that reads no template through a symbolic link to a
    file outside templates/ and no named pipe or device (see `refused`; `load_templates`
    reports them)."""

    def __init__(self, folder: Path) -> None:
        super().__init__(folder)
        self.real = os.path.realpath(folder)

    def get_source(self, environment: jinja2.Environment,
                   template: str) -> tuple[str, str, Callable[[], bool]]:
        pieces = jinja2.loaders.split_template_path(template)
        if refused(os.path.join(self.real, *pieces), self.real, TEMPLATES_DIR):
            raise jinja2.TemplateNotFound(template)
        return super().get_source(environment, template)


def refused(path: str, real: str, folder: str) -> str:
    """Why the input file `path` in `folder` (whose real path is `real`) must not be read,
    or an empty string: a symbolic link whose target is outside the folder (its target is
    never read), or something that is not a regular file (a named pipe would stall the
    build, a device never ends)."""
    if outside(path, real):
        return f"a symbolic link that points outside {folder}/"
    if undecodable(path):
        return "a file name that is not UTF-8 text"
    try:
        mode = os.stat(path).st_mode
    except OSError:
        return ""  # (missing or unreadable: reported as such by whoever reads it)
    return "" if stat.S_ISREG(mode) or stat.S_ISDIR(mode) else \
        f"not a regular file but {kind(mode)}"


def load_templates(root: Path, problems: ProblemList,
                   cache: Path | None = None) -> Templates | None:
    """Compile every template once; syntax errors are reported as templates/NAME:LINE.
    With a `cache` folder, compiled templates are kept there (Jinja's bytecode cache, which
    checks each template's source before using it)."""
    if cache is not None:
        cache.mkdir(parents=True, exist_ok=True)
    bad = _refused_files(root, TEMPLATES_DIR, problems)
    env = _environment(root, cache)
    names = sorted(set(TEMPLATES) | set(env.list_templates()) - bad)
    failed = [name for name in names if not _compile(env, name, bad, problems)]
    if failed or bad:
        return None
    return Templates(env, root, _fingerprint(root, names))


def _environment(root: Path, cache: Path | None) -> jinja2.Environment:
    """The Jinja environment for templates/ (its bytecode kept in `cache`, if given)."""
    environment = fast.jinja_environment()  # Jinja's own, or the quicker one
    pattern = getattr(environment, "bytecode_pattern", "__jinja2_%s.cache")
    env = environment(
        loader=jinja2.ChoiceLoader([_Loader(root / TEMPLATES_DIR),
                                    jinja2.FileSystemLoader(THEME / TEMPLATES_DIR)]),
        bytecode_cache=jinja2.FileSystemBytecodeCache(str(cache), pattern) if cache else None,
        auto_reload=False,
        autoescape=jinja2.select_autoescape(["html", "xml"]),
        undefined=jinja2.StrictUndefined,
        keep_trailing_newline=True,
        trim_blocks=True,
        lstrip_blocks=True,
        extensions=["jinja2.ext.i18n"],  # ({{ _("...") }}, {% trans %}: load.translations)
    )
    cast(Any, env).install_null_translations(newstyle=True)  # (English: a page in another language
    env.filters["longdate"] = _longdate  # gets its catalogue's in its context: page_context)
    fast.tune_jinja(env)
    return env


@jinja2.pass_context
def _longdate(context: jinja2.runtime.Context, day: dt.date) -> str:
    """`{{ date | longdate }}`: the date written out in the site's language."""
    return long_date(day, context["site"]["language"])


@functools.lru_cache(maxsize=4096)
def long_date(day: dt.date, language: str) -> str:
    """A date as the language writes it in full, by Babel's CLDR data: "6 December 2026"
    (en-GB), "December 6, 2026" (en-US), "6 de diciembre de 2026" (es); English for a
    language Babel does not know. (Babel is imported when a page first shows a date.)"""
    from babel import Locale, UnknownLocaleError
    from babel.dates import format_date

    try:
        locale = Locale.parse(language, sep="-")
    except (ValueError, TypeError, UnknownLocaleError):
        locale = Locale.parse("en")
    return str(format_date(day, "long", locale=locale))


def _fingerprint(root: Path, names: list[str]) -> str:
    """A digest of the templates' names and sources (the site's, or else the theme's)."""
    digest = hashlib.sha256()
    for name in names:
        digest.update(name.encode() + b"\0" + template_source(root, name).read_bytes())
    return digest.hexdigest()


def template_label(root: Path, name: str) -> str:
    """How problems name the template `name`: templates/NAME (the site's own) or
    theme/templates/NAME."""
    own = root / TEMPLATES_DIR / name
    return f"{TEMPLATES_DIR}/{name}" if own.is_file() else f"{THEME_LABEL}/{TEMPLATES_DIR}/{name}"


def template_source(root: Path, name: str) -> Path:
    """The file the template `name` is read from: the site's own, or else the theme's."""
    own = root / TEMPLATES_DIR / name
    return own if own.is_file() else THEME / TEMPLATES_DIR / name


def _compile(env: jinja2.Environment, name: str, bad: set[str], problems: ProblemList) -> bool:
    """Compile one template; whether it compiled. A syntax error or a missing template is
    reported (unless it is one of the files refused, `bad`, reported already)."""
    try:
        env.get_template(name)
    except jinja2.TemplateSyntaxError as e:
        problems.add("template", f"template syntax error: {e.message}",
                     f"{TEMPLATES_DIR}/{e.name or name}", e.lineno or 1, 1)
        return False
    except jinja2.TemplateNotFound as e:
        missing = e.name if isinstance(e.name, str) else name
        if missing not in bad:  # (else reported: a link outside templates/, a named pipe…)
            problems.add("template", f"missing template '{missing}'",
                         f"{TEMPLATES_DIR}/{missing}", hint=f"create {TEMPLATES_DIR}/{missing}")
        return False
    return True


def render(tpl: Templates, name: str, context: dict[str, Any], what: str,
           problems: ProblemList) -> bytes | None:
    """Render one template; a failure is reported with the template line and the page."""
    try:
        return tpl.env.get_template(name).render(context).encode("utf-8")
    except jinja2.TemplateNotFound as e:  # an include or import of a file no one has
        path, line = _template_frame(tpl.root, name)
        problems.add("template", f"while rendering {what}: missing template '{e.name}'", path,
                     line, 1, hint=f"create {TEMPLATES_DIR}/{e.name}")
    except Exception as e:  # noqa: BLE001 (template code can raise anything; report it)
        path, line = _template_frame(tpl.root, name)
        problems.add("template", f"while rendering {what}: {type(e).__name__}: {e}", path, line, 1)
    return None


def _template_frame(root: Path, name: str) -> tuple[str, int]:
    """The template file and line the exception being handled was raised at (the last
    template frame of its traceback): a site's template as templates/NAME, the theme's as
    theme/templates/NAME."""
    folders = (((root / TEMPLATES_DIR).resolve(), TEMPLATES_DIR),
               (THEME / TEMPLATES_DIR, f"{THEME_LABEL}/{TEMPLATES_DIR}"))
    own = template_source(root, name) == root / TEMPLATES_DIR / name
    found = (f"{TEMPLATES_DIR if own else folders[1][1]}/{name}", 1)
    for frame in traceback.extract_tb(sys.exc_info()[2]):
        found = _in_template(frame, folders) or found
    return found


def _in_template(frame: traceback.FrameSummary,
                 folders: tuple[tuple[Path, str], ...]) -> tuple[str, int] | None:
    try:
        p = Path(frame.filename).resolve()
    except (OSError, ValueError):
        return None
    for folder, label in folders:
        if p.is_relative_to(folder) and frame.lineno:
            return f"{label}/{p.relative_to(folder).as_posix()}", frame.lineno
    return None


def _refused_files(root: Path, folder: str, problems: ProblemList) -> set[str]:
    """The files in an input folder that must not be read (see `refused`), by their path
    in it, each reported at its own path. Folders that are symbolic links are not followed
    (one pointing outside is reported)."""
    base = os.path.join(root, folder)
    real = os.path.realpath(base)
    found: set[str] = set()
    for here, dirs, files in os.walk(base):
        for name in sorted((*dirs, *files)):
            path = os.path.join(here, name)
            if name in dirs and not os.path.islink(path):
                continue
            why = refused(path, real, folder)
            if why:
                rel = os.path.relpath(path, base).replace(os.sep, "/")
                _report_refused(problems, folder, rel, why)
                found.add(rel)
        dirs[:] = _real_folders(here, dirs)
    return found


def _report_refused(problems: ProblemList, folder: str, rel: str, why: str) -> None:
    """Report a file of an input folder that must not be read (`why`: see `refused`)."""
    if why.startswith("a file name"):
        code, hint = "encoding", "rename it"
    elif why.startswith("a symbolic"):
        code, hint = "io", f"copy the file into {folder}/ instead"
    else:
        code, hint = "io", "remove it"
    problems.add(code, why, printable(f"{folder}/{rel}"), hint=hint)


def _real_folders(here: str, dirs: list[str]) -> list[str]:
    """The folders of `dirs` (in `here`) that are not symbolic links."""
    return [d for d in dirs if not os.path.islink(os.path.join(here, d))]


def static_files(root: Path, problems: ProblemList | None = None
                 ) -> dict[str, tuple[str, bytes | None]]:
    """The theme's static files and the site's static/ over them, as {source name:
    (published path, bytes)}; CSS and JS get a content hash. A site's file that
    may not be read or published (a symbolic link out of static/, a named pipe, an unsafe
    SVG: reported to `problems`) keeps its name, so that pages can still be rendered, but
    has no bytes and is not published. Folders that are symbolic links are not followed."""
    theme = THEME / STATIC_DIR
    out: dict[str, tuple[str, bytes | None]] = {rel: (_published(rel, data), data)
           for rel in _walk(theme) for data in [(theme / rel).read_bytes()]}
    base = root / STATIC_DIR
    if not base.is_dir():
        return dict(sorted(out.items(), key=lambda kv: kv[0].split("/")))
    problems = problems if problems is not None else ProblemList()
    bad = _refused_files(root, STATIC_DIR, problems)
    for rel in _walk(base):
        data = None if rel in bad else _static_bytes(base, rel, problems)
        out[rel] = (_published(rel, data), data)
    return dict(sorted(out.items(), key=lambda kv: kv[0].split("/")))


def _walk(base: Path) -> list[str]:
    """Every file's path in `base`, folder by folder in name order (symbolic links to
    folders not followed)."""
    files: list[str] = []
    for here, dirs, names in os.walk(base):
        dirs[:] = _real_folders(here, dirs)
        folder = os.path.relpath(here, base).replace(os.sep, "/")
        files += [name if folder == "." else f"{folder}/{name}" for name in names]
    return sorted(files, key=lambda p: p.split("/"))


def _static_bytes(base: Path, rel: str, problems: ProblemList) -> bytes | None:
    """A static file's bytes, or None (reported) when it cannot be read or is an SVG that
    may not be published."""
    try:
        data = read_regular(os.path.join(base, rel))
    except OSError as e:
        problems.add("io", f"cannot read the file: {e.strerror or e}", f"{STATIC_DIR}/{rel}")
        return None
    suffix = os.path.splitext(rel)[1].lower()
    if suffix not in (".svg", ".svgz"):
        return data
    why = svg_problem(data) if suffix == ".svg" else \
        ("a compressed SVG cannot be checked: publish it as .svg", 1, 1)
    if not why:
        return data
    message, line, col = why
    problems.add("unsafe-svg", message, f"{STATIC_DIR}/{rel}", line, col,
                 hint="an SVG opened on its own runs on the site's address: "
                 "export it again as a plain picture, or remove it")
    return None


def _published(rel: str, data: bytes | None) -> str:
    """Where a static file is published: CSS and JS with a hash of their bytes."""
    suffix = os.path.splitext(rel)[1].lower()
    if suffix not in HASHED or data is None:
        return f"static/{rel}"
    digest = hashlib.sha256(data).hexdigest()[:10]
    return f"static/{rel[: -len(suffix)]}.{digest}{suffix}"


def site_view(config: SiteConfig, graph: TopicGraph,
              assets: dict[str, tuple[str, bytes | None]], updated: dt.date,
              versions: Versions | None = None) -> dict[str, Any]:
    """What every template may use about the site as a whole (or, with `config` an
    edition's settings, the edition: `versions` gives its footer and the other editions)."""
    base = config.base_path
    view = {
        "title": config.title,
        "description": config.description,
        "base_url": config.base_url.rstrip("/") + "/",
        "base_path": base,
        "language": config.language,
        "publisher": config.publisher,
        "services": dict(config.services),
        "assets": {k: config.site_path + v[0] for k, v in assets.items()},
        "footer": [LinkView(url=graph.articles[s].url, title=graph.articles[s].title)
                   for s in config.footer if s in graph.articles],
        "updated": updated,
        "search": config.search,
        "urls": {"home": base, "topics": base + "topics/", "glossary": base + "glossary/",
                 "feed": base + "feed.xml", "search": base + "search/",
                 "topic_map": base + "topic-map/"},
    }
    if versions is not None and versions.several:
        edition = config.edition
        view.update(footer=versions.footer(config), editions=versions.editions(config),
                    edition={"code": edition.code, "name": edition.name,
                             "country": edition.country, "default": edition.default})
    return view


def page_context(site: dict[str, Any], catalogue: Catalogue | None,
                 alternates: list[dict[str, Any]], **values: Any) -> dict[str, Any]:
    """A page's whole template context: the site-wide view (`site`), the page in its other
    languages (`alternates`: the switcher and hreflang links), the interface text of its
    language (`_`, `gettext`, `ngettext`, when it is not English) and the page's own values."""
    context = {"site": site, "alternates": alternates, **values}
    if catalogue is not None and not catalogue.english:
        context.update(newstyle(catalogue))
    return context


Card = tuple[str, str, str]  # what a page shows of another article: URL, title, summary


def card_of(graph: TopicGraph, slug: str) -> Card:
    a = graph.articles[slug]
    return a.url, a.title, a.meta.summary


@dataclass(frozen=True)
class Lookups:
    """Where an article page finds what its graph may hold only in part: its rendering
    with its HTML (`rendered`: the graph may hold it without) and what it shows of other
    articles (`card`: the graph may hold only this one). By default, the graph's own."""

    rendered: Callable[[str], Rendered] | None = None
    card: Callable[[str], Card] | None = None
    gettext: Callable[[str], str] = str  # the interface text of the page's language
    # for a translation whose original was updated after it: the original's address,
    # language and date (`editions.Versions.status`)
    translation: Callable[[str], dict[str, Any] | None] | None = None
    # drafts' problems, by file
    notes: Mapping[str, tuple[str, ...]] = field(default_factory=lambda: MappingProxyType({}))


FROM_GRAPH = Lookups()


def article_view(config: SiteConfig, graph: TopicGraph, slug: str, nxt: ReadingNext,
                 site: dict[str, Any], lookups: Lookups = FROM_GRAPH) -> ArticleView:
    """The resolved view of one article page."""
    card = lookups.card if lookups.card is not None else functools.partial(card_of, graph)
    gettext = lookups.gettext
    a = graph.articles[slug]
    r = lookups.rendered(slug) if lookups.rendered is not None else graph.rendered[slug]
    topics = _topic_links(config, graph, a.meta.topics)
    crumbs = _breadcrumbs(config, graph, a.meta.topics, gettext)
    sources = [SourceView(n=i, title=s.title, publisher=s.publisher, year=s.year, url=s.url)
               for i, s in enumerate(a.meta.sources, start=1)]
    suggestions = _suggestions(nxt.by_article.get(slug, ()), card, gettext)
    # (an article suggested to read next, with its reason, is not listed again below it)
    shown = {s.slug for s in nxt.by_article.get(slug, ())}
    backlinks = [LinkView(url=url, title=title) for url, title, _ in
                 map(card, (b for b in graph.links_in.get(slug, ()) if b not in shown))]
    canonical = site["base_url"] + a.url[len(config.base_path):]
    return ArticleView(
        slug=slug, title=a.title, summary=a.meta.summary, url=a.url, canonical=canonical,
        is_article=a.is_article, draft=a.meta.draft, html=r.html,
        toc=[{"level": lv, "id": i, "name": n} for lv, i, n in r.toc],
        topics=topics, breadcrumbs=crumbs, sources=sources, reviewed=a.meta.reviewed,
        next_review=a.meta.next_review, reading_next=suggestions, backlinks=backlinks,
        jsonld=jsonld(config, a, canonical, _condition(config, graph, a), sources),
        translation=lookups.translation(slug) if lookups.translation is not None else None,
        overdue=slug in nxt.overdue,
        problems=list(lookups.notes.get(a.path, ())) if a.meta.draft else [],
        also_known_as=list(a.meta.also_known_as),
        search_terms=list(dict.fromkeys(w for t in topics for w in t["also"])),
    )


def _topic_links(config: SiteConfig, graph: TopicGraph,
                 topics: tuple[str, ...]) -> list[TopicLinkView]:
    """The article's topics, each with its other names."""
    return [TopicLinkView(url=topic_url(config, t), title=graph.topics[t].title,
                          also=[*graph.topics[t].lay, *graph.topics[t].clinical])
            for t in topics]


def _suggestions(suggested: Iterable[Suggestion], card: Callable[[str], Card],
                 gettext: Callable[[str], str] = str) -> list[SuggestionView]:
    """The articles suggested to read next, with why (in the page's language)."""
    return [SuggestionView(url=url, title=title, summary=summary,
                           reasons=[reason_text(r, gettext) for r in s.reasons])
            for s in suggested for url, title, summary in (card(s.slug),)]


def reason_text(reason: str, gettext: Callable[[str], str]) -> str:
    """A reading-next reason (as `related` words it, in English) in a page's language."""
    if gettext is str:
        return reason
    for prefix, message in REASON_FORMATS.items():
        if reason.startswith(prefix):
            return gettext(message) % {"topics": reason[len(prefix):]}
    return gettext(reason)


def _breadcrumbs(config: SiteConfig, graph: TopicGraph,
                 topics: tuple[str, ...], gettext: Callable[[str], str] = str) -> list[LinkView]:
    """Home, then the article's first topic and those above it, top down."""
    crumbs = [LinkView(url=config.base_path, title=gettext("Home"))]
    if topics:
        first = topics[0]
        for t in (*reversed(graph.ancestors(first)), first):
            crumbs.append(LinkView(url=topic_url(config, t), title=graph.topics[t].title))
    return crumbs


def _condition(config: SiteConfig, graph: TopicGraph, a: Article) -> str:
    """What an article is about: its `condition`, else its first topic, else the site."""
    if a.meta.condition:
        return a.meta.condition
    return graph.topics[a.meta.topics[0]].title if a.meta.topics else config.title


def jsonld(config: SiteConfig, a: Article, canonical: str, condition: str,
           sources: list[SourceView]) -> str:
    """schema.org MedicalWebPage data for one page, safe to embed in a script element."""
    org = {"@type": "Organization", "name": config.publisher}
    data: dict[str, Any] = {
        "@context": "https://schema.org",
        "@type": "MedicalWebPage" if a.is_article else "WebPage",
        "name": a.title,
        "description": a.meta.summary,
        "url": canonical,
        "inLanguage": config.language,
        "lastReviewed": a.meta.reviewed.isoformat(),
        "reviewedBy": org,
        "publisher": org,
    }
    if a.is_article:
        data["about"] = {"@type": "MedicalCondition", "name": condition}
        data["medicalAudience"] = {"@type": "MedicalAudience", "audienceType": "Patient"}
        data["citation"] = [_citation(s) for s in sources]
    text = json.dumps(data, ensure_ascii=False, sort_keys=True)  # compact: C encoder
    return text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")


def _citation(s: SourceView) -> dict[str, Any]:
    """One source as a schema.org CreativeWork."""
    return {"@type": "CreativeWork", "name": s["title"],
            "publisher": {"@type": "Organization", "name": s["publisher"]},
            **({"datePublished": str(s["year"])} if s["year"] else {}),
            **({"url": s["url"]} if s["url"] else {})}


def topic_url(config: SiteConfig, slug: str) -> str:
    return f"{config.base_path}topics/{slug}/"
