"""Stage 1 (load): read site.yaml against its declared schema into a frozen SiteConfig."""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, replace
from pathlib import Path
from types import MappingProxyType
from typing import Any
from urllib.parse import SplitResult, urlsplit

from ..catalogue import ALWAYS_ERRORS, CHECKS, LEVEL_NAMES
from ..errors import Level, ProblemList, did_you_mean, shown
from ..files import read_regular
from . import schema as s
from .addresses import usable
from .yamlio import Located, YamlError, parse

CONFIG_FILE = "site.yaml"
SLUG_CHARS = set("abcdefghijklmnopqrstuvwxyz0123456789-")
SLUG_MAX = 100  # characters: a slug is a URL segment and a folder name (most file systems
# allow 255 bytes, and a longer name fails to be written with ENAMETOOLONG)
# names Windows keeps for devices, in any case and with any extension: a file or folder
# named so cannot be checked out there
WINDOWS_NAMES = frozenset({"con", "prn", "aux", "nul",
                           *(f"{p}{i}" for p in ("com", "lpt") for i in range(10))})


def windows_name(name: str) -> bool:
    """Whether Windows keeps `name` for a device (CON, con.md, Nul.txt, COM1, LPT9…)."""
    return name.split(".")[0].rstrip(" ").lower() in WINDOWS_NAMES


def name_problem(slug: str) -> str:
    """Why `slug` cannot be a file or folder name on every system (too long, or a name
    Windows keeps), or an empty string when it can."""
    if len(slug) > SLUG_MAX:
        return (f"'{shown(slug, 40)}' is {len(slug):,} characters long; a slug may have at "
                f"most {SLUG_MAX}")
    if windows_name(slug):
        return (f"'{shown(slug)}' is a device name on Windows (CON, PRN, AUX, NUL, COM0-9, "
                "LPT0-9): the site could not be checked out there")
    return ""


TOPIC = {
    "slug": s.Field("str", "the topic's URL name, lowercase with hyphens", required=True),
    "title": s.Field("str", "the topic's name shown to readers", required=True),
    "description": s.Field("str", "one sentence about the topic", required=True),
    "parent": s.Field("str", "the slug of the broader topic"),
    "lay": s.Field("list", "everyday words for the topic (search synonyms)", default=list),
    "clinical": s.Field("list", "medical terms for the topic (search synonyms)", default=list),
    "names": s.Field("list", "other names of the topic, shown on its page as 'Also known as' "
                     "(the search synonyms are not shown)", default=list),
}

TOPIC_TRANSLATION = {
    "slug": s.Field("str", "the slug of a topic of the topic tree", required=True),
    "title": s.Field("str", "its name in this language", required=True),
    "description": s.Field("str", "one sentence about it in this language", required=True),
    "lay": s.Field("list", "everyday words for it in this language", default=list),
    "clinical": s.Field("list", "medical terms for it in this language", default=list),
    "names": s.Field("list", "its other names in this language, shown to readers", default=list),
}

ALARM_RULE = {
    "phrases": s.Field("list", "words or phrases (one in capitals, such as DVT, matches in "
                       "capitals only)", required=True),
    "cards": s.Field("list", "the shared cards (content/cards/) such a page must include",
                     required=True),
}

EDITION = {
    "code": s.Field("str", "the language's code (ISO 639, e.g. es or cy): the edition's folder "
                    "content/CODE/ and its addresses /CODE/...", required=True),
    "name": s.Field("str", "the language's name in itself, shown in the language switcher "
                    "(Español, Cymraeg)", required=True),
    "locale": s.Field("str", "its language tag for pages, dates and numbers (es-ES); the code "
                      "unless given"),
    "title": s.Field("str", "the site's name in this language (the site's title unless given)"),
    "description": s.Field("str", "one or two sentences about the site in this language"),
    "country": s.Field("str", "where the services this edition names are, in its language "
                       "(España): shown to readers"),
    "services": s.Field("map", "this edition's own services (its emergency number...): any not "
                        "given are the site's", default=dict),
    "topics": s.Field("model_list", "the topics' names in this language", model=TOPIC_TRANSLATION,
                      default=list),
    # (no default: an edition that gives none is checked with the site's, and told so)
    "alarm_terms": s.Field("list", "this language's phrases that need an urgent or emergency "
                           "care card; not given: the site's alarm_terms: (the default "
                           "language's) apply, with a warning"),
    "alarm_rules": s.Field("model_list", "this language's alarm rules, whose cards are its own "
                           "(content/CODE/cards/); not given: the site's alarm_rules: apply",
                           model=ALARM_RULE),
}

SCHEMA: dict[str, s.Field] = {
    "title": s.Field("str", "the site's name", required=True),
    "description": s.Field("str", "one or two sentences about the site", required=True),
    "base_url": s.Field("str", "the public address, e.g. https://example.org/", required=True),
    "language": s.Field("str", "the content language, e.g. en-GB", default="en"),
    "publisher": s.Field("str", "the organisation that publishes and reviews the site",
                         required=True),
    "output_dir": s.Field("str", "where the site is written", default="_site"),
    "services": s.Field("map", "names and numbers readers are told to use, each usable in "
                        "content as {{name}} (inserted as text); emergency_number (999), "
                        "emergency_department (A&E) and urgent_service (NHS 111) unless "
                        "given", default=dict),
    "review": s.Field("model", "the review policy", model={
        "interval_months": s.Field("int", "months between reviews", default=12, minimum=1,
                                   maximum=120),
        "min_sources": s.Field("int", "sources each article must cite", default=2, minimum=0,
                               maximum=100),
    }, default=dict),
    "reading_next": s.Field("model", "reading-next settings", model={
        "count": s.Field("int", "suggestions per article", default=4, minimum=1, maximum=50),
        "weights": s.Field("model", "score weights", model={
            "shared_topic": s.Field("number", "weight of a shared topic", default=1.0, minimum=0,
                                    maximum=1000),
            "parent_topic": s.Field("number", "weight of a shared parent topic", default=0.3,
                                    minimum=0, maximum=1000),
            "links_to": s.Field("number", "bonus when this article links to it", default=1.5,
                                minimum=0, maximum=1000),
            "linked_from": s.Field("number", "bonus when it links to this article", default=1.0,
                                   minimum=0, maximum=1000),
        }, default=dict),
    }, default=dict),
    "readability": s.Field("model", "plain-language target", model={
        "target_grade": s.Field("number", "highest Flesch-Kincaid grade", default=9, minimum=1,
                                maximum=100),
    }, default=dict),
    "alarm_terms": s.Field("list", "phrases that need an urgent or emergency care card",
                           default=list),
    "alarm_rules": s.Field("model_list", "phrases that need particular shared care cards: a "
                           "page that mentions one must include every card listed",
                           model=ALARM_RULE, default=list),
    "topics": s.Field("model_list", "the topic tree", model=TOPIC, required=True),
    "checks": s.Field("map", "per-check levels", item="choice",
                      choices=tuple(LEVEL_NAMES), default=dict),
    "footer": s.Field("list", "page slugs linked from every page's footer", default=list),
    "search": s.Field("bool", "build the Pagefind search index", default=True),
    "retired": s.Field("list", "old addresses removed on purpose (/old-page/): each gets a page "
                       "that says so, and the URL check accepts them", default=list),
    "raw_html": s.Field("choice", "what to do with raw HTML in Markdown",
                        choices=("sanitize", "escape", "allow"), default="sanitize"),
    "languages": s.Field("model_list", "the site's editions, the default language first: each "
                         "other one is translated in content/CODE/ and published under /CODE/",
                         model=EDITION, default=list),
    "country": s.Field("str", "where the services the site names are (the United Kingdom): "
                       "shown to readers"),
}


@dataclass(frozen=True)
class Topic:
    """A node of the topic tree."""

    slug: str
    title: str
    description: str
    parent: str | None
    lay: tuple[str, ...]
    clinical: tuple[str, ...]
    names: tuple[str, ...] = ()  # other names shown to readers (lay and clinical: search only)


@dataclass(frozen=True)
class Weights:
    shared_topic: float
    parent_topic: float
    links_to: float
    linked_from: float


@dataclass(frozen=True)
class AlarmRule:
    """A page that mentions one of `phrases` must include each of `cards` (shared cards);
    `places`: where each card is named in site.yaml (line, column)."""

    phrases: tuple[str, ...]
    cards: tuple[str, ...]
    places: tuple[tuple[int, int], ...]


@dataclass(frozen=True)
class Edition:
    """One language of the site: its code (content/CODE/ and /CODE/ for every edition but
    the default), its locale, its name in itself, and what it tells readers in its own
    words: the site's title and description, its services and where they are, its topics."""

    code: str
    locale: str
    name: str
    default: bool
    title: str
    description: str
    country: str
    services: MappingProxyType[str, str]
    topics: tuple[Topic, ...]  # the topic tree with this language's names
    untranslated: tuple[str, ...] = ()  # topics with no name in this language
    # this language's alarm phrases and rules (None: not given, the site's apply)
    alarm_terms: tuple[str, ...] | None = None
    alarm_rules: tuple[AlarmRule, ...] | None = None

    @property
    def key(self) -> str:
        """What the edition's articles and topics are known by: "" (the default) or its code."""
        return "" if self.default else self.code

    @property
    def prefix(self) -> str:
        """The edition's folder in content/ and in the site: "" (the default) or "code/"."""
        return "" if self.default else self.code + "/"


@dataclass(frozen=True)
class SiteConfig:
    """Everything site.yaml says, validated, with defaults filled in."""

    root: Path
    title: str
    description: str
    base_url: str
    language: str
    publisher: str
    output_dir: str
    services: MappingProxyType[str, str]
    review_interval_months: int
    min_sources: int
    reading_next_count: int
    weights: Weights
    target_grade: float
    alarm_terms: tuple[str, ...]
    topics: tuple[Topic, ...]
    levels: MappingProxyType[str, Level | None]
    raw_html: str
    footer: tuple[str, ...]
    search: bool
    retired: tuple[tuple[str, int, int], ...] = ()  # old addresses, with their line and col
    alarm_rules: tuple[AlarmRule, ...] = ()
    editions: tuple[Edition, ...] = ()  # the default first
    site_url: str = ""  # the whole site's address, ending in '/' (base_url: an edition's)
    edition_key: str = ""  # the edition these settings are for ("": the default)

    @property
    def base_path(self) -> str:
        """The URL path the site (or, in an edition's settings, the edition) lives under,
        always ending in '/'."""
        return url_path(self.base_url)

    @property
    def site_path(self) -> str:
        """The URL path of the whole site (its static files, sitemap and redirects)."""
        return url_path(self.site_url or self.base_url)

    @property
    def edition(self) -> Edition:
        """The edition these settings are for (the default for the site's own)."""
        return next((e for e in self.editions if e.key == self.edition_key), None) \
            or _lone_edition(self)

    @property
    def all_editions(self) -> tuple[Edition, ...]:
        """The editions, the default first (one, the site's own, when none is declared)."""
        return self.editions or (_lone_edition(self),)

    def editions_by_key(self) -> dict[str, Edition]:
        return {e.key: e for e in self.all_editions}

    def for_edition(self, edition: Edition) -> SiteConfig:
        """These settings as one edition sees them: its language, address, names, services
        and topics (the default edition's are the site's own)."""
        if edition.default:
            return self
        return replace(self, base_url=self.site_url + edition.prefix, language=edition.locale,
                       title=edition.title, description=edition.description,
                       services=edition.services, topics=edition.topics,
                       edition_key=edition.key,
                       alarm_terms=self.alarm_terms if edition.alarm_terms is None
                       else edition.alarm_terms,
                       alarm_rules=self.alarm_rules if edition.alarm_rules is None
                       else edition.alarm_rules)

    def topic(self, slug: str) -> Topic:
        return next(t for t in self.topics if t.slug == slug)


def url_path(url: str) -> str:
    """The path of an address, always ending in '/'."""
    path = urlsplit(url).path or "/"
    return path if path.endswith("/") else path + "/"


def _lone_edition(config: SiteConfig) -> Edition:
    return Edition(config.language.split("-")[0].lower(), config.language, config.language,
                   True, config.title, config.description, "", config.services, config.topics)


def load_config(root: Path, problems: ProblemList) -> SiteConfig | None:
    """Read and validate site.yaml; None when it is too broken to build with."""
    loc = _read(root, problems)
    if loc is None:
        return None

    def report(code: str, message: str, line: int, col: int, hint: str) -> None:
        level = CHECKS[code][0] if code in CHECKS else Level.ERROR  # (the code's own)
        problems.add(code, message, CONFIG_FILE, line, col, hint=hint, level=level)

    data = s.Checker(loc, report, "config").check(loc.value, SCHEMA, (), CONFIG_FILE)
    topics = _topics(data.get("topics") or [], loc, report)
    _check_services(data["services"], loc, report)  # (a model and a map are always dicts)
    data["retired"] = _retired(data["retired"], loc, report)
    data["alarm_rules"] = [_alarm_rule(r, ("alarm_rules", i), loc)
                           for i, r in enumerate(data["alarm_rules"])]
    if not _check_base_url(data.get("base_url"), loc, report):
        data["base_url"] = None  # (the site is checked as if it lived at '/')
    levels = _levels(data["checks"], loc, report)
    if any(k not in data for k in ("title", "base_url")) or data.get("title") is None:
        return None
    config = _build(root, data, topics, levels)
    editions = _editions(config, data["languages"], data.get("country"), loc, report)
    return replace(config, site_url=config.base_url.rstrip("/") + "/", editions=editions,
                   language=editions[0].locale, services=editions[0].services)


def _read(root: Path, problems: ProblemList) -> Located | None:
    """The parsed YAML of site.yaml; None (reported) when it cannot be read or parsed."""
    try:
        text = read_regular(os.fspath(root / CONFIG_FILE)).decode("utf-8-sig")
    except FileNotFoundError:
        problems.add("io", f"no {CONFIG_FILE} in {root}", CONFIG_FILE,
                     hint="run the command from the site's folder")
        return None
    except (OSError, UnicodeDecodeError) as e:
        problems.add("encoding" if isinstance(e, UnicodeDecodeError) else "io",
                     f"cannot read {CONFIG_FILE}: {e}", CONFIG_FILE)
        return None
    try:
        return parse(text.replace("\r\n", "\n"))
    except YamlError as e:
        problems.add(e.code, e.message, CONFIG_FILE, e.line, e.col, hint=e.hint)
        return None


def _build(root: Path, data: dict[str, Any], topics: tuple[Topic, ...],
           levels: dict[str, Level | None]) -> SiteConfig:
    given = {k: v for k, v in data["services"].items() if v is not None and _SERVICE.match(k)}
    services = {**DEFAULT_SERVICES, **given}
    review, rn = data["review"], data["reading_next"]
    w = rn["weights"]
    return SiteConfig(
        root=root,
        title=data["title"] or "",
        description=data["description"] or "",
        base_url=data["base_url"] or "/",
        language=data["language"],
        publisher=data["publisher"] or "",
        output_dir=data["output_dir"],
        services=MappingProxyType(services),
        review_interval_months=review["interval_months"],
        min_sources=review["min_sources"],
        reading_next_count=rn["count"],
        weights=Weights(float(w["shared_topic"]), float(w["parent_topic"]),
                        float(w["links_to"]), float(w["linked_from"])),
        target_grade=float(data["readability"]["target_grade"]),
        alarm_terms=tuple(t.lower() for t in data["alarm_terms"]),
        topics=topics,
        levels=MappingProxyType(levels),
        raw_html=data["raw_html"],
        footer=tuple(data["footer"]),
        search=data["search"],
        retired=tuple(data["retired"]),
        alarm_rules=tuple(data["alarm_rules"]),
    )


def _topics(raw: list[dict[str, Any]], loc: Located, report: s.Report) -> tuple[Topic, ...]:
    """The usable topics of site.yaml, in order; bad, repeated, orphaned and looping
    topics are reported."""
    topics, index = _declared(raw, loc, report)
    for topic in topics:
        if topic.parent is not None and topic.parent not in index:
            line, col = loc.at("topics", index[topic.slug], "parent")
            report("topic-unknown-parent",
                   f"topic '{topic.slug}' has unknown parent '{topic.parent}'", line, col,
                   did_you_mean(topic.parent, index) or "declare the parent topic first")
    _check_cycles(topics, index, loc, report)
    return tuple(topics)


def _declared(raw: list[dict[str, Any]], loc: Located,
              report: s.Report) -> tuple[list[Topic], dict[str, int]]:
    """The topics with a good, unique slug, and the position of each in the list."""
    topics: list[Topic] = []
    seen: dict[str, int] = {}
    for i, t in enumerate(raw):
        slug = t.get("slug")
        if not slug:
            continue
        line, col = loc.at("topics", i, "slug")
        fault = _slug_fault(slug)
        if fault is not None:
            report("bad-slug", fault[0], line, col, fault[1])
            continue
        if slug in seen:
            report("topic-duplicate", f"topic '{slug}' is declared twice (first as topic "
                   f"{seen[slug] + 1})", line, col, "give each topic a unique slug")
            continue
        seen[slug] = i
        topics.append(_topic(slug, t))
    return topics, {topic.slug: seen[topic.slug] for topic in topics}


def _slug_fault(slug: str) -> tuple[str, str] | None:
    """Why a topic slug cannot be used, and the hint; None when it can."""
    why = name_problem(slug)
    if why:
        return why, "choose another slug, e.g. 'kidney-disease'"
    if set(slug) - SLUG_CHARS or slug.startswith("-"):
        return (f"topic slug '{shown(slug)}' may use only a-z, 0-9 and '-'",
                "write it in lowercase with hyphens, e.g. 'kidney-disease'")
    return None


def _topic(slug: str, t: dict[str, Any]) -> Topic:
    return Topic(slug, t.get("title") or slug, t.get("description") or "", t.get("parent"),
                 tuple(t.get("lay") or ()), tuple(t.get("clinical") or ()),
                 tuple(t.get("names") or ()))


MAX_TOPIC_DEPTH = 20  # levels of topics under a root (a health site needs a handful)


def _check_cycles(topics: list[Topic], index: dict[str, int], loc: Located,
                  report: s.Report) -> None:
    """Report loops of parents, and topics deeper than MAX_TOPIC_DEPTH under their root.
    Each topic is walked up once (a chain of a few thousand took minutes when every topic
    walked its whole chain through a list)."""
    parent = {t.slug: t.parent for t in topics if t.parent in index}
    reported: set[str] = set()
    depth: dict[str, int] = {}  # topics known to be in no loop: their depth
    for start in sorted(parent):
        chain, node, looped = _walk_up(start, parent, depth)
        if looped:
            _report_loop(chain[chain.index(node):], reported, index, loc, report)
            depth.update(dict.fromkeys(chain, 0))  # (reported once, and not measured)
            continue
        level = depth.get(node, 0)
        for n in reversed(chain):
            level += 1
            depth[n] = level
            if level == MAX_TOPIC_DEPTH + 1:
                line, col = loc.at("topics", index[n], "parent")
                report("config-type", f"topic '{n}' is {level} levels below its root topic",
                       line, col, f"keep the topic tree to {MAX_TOPIC_DEPTH} levels")


def _walk_up(start: str, parent: dict[str, str],
             depth: dict[str, int]) -> tuple[list[str], str, bool]:
    """The topics from `start` up to a root, a topic already measured, or the first one
    met twice: that chain, where it stopped, and whether it stopped on a loop."""
    chain: list[str] = []
    on_chain: set[str] = set()
    node = start
    while node in parent and node not in on_chain and node not in depth:
        chain.append(node)
        on_chain.add(node)
        node = parent[node]
    return chain, node, node in on_chain


def _report_loop(loop: list[str], reported: set[str], index: dict[str, int], loc: Located,
                 report: s.Report) -> None:
    """Report a loop of parents once, starting from its topic declared first."""
    if reported & set(loop):
        return
    reported.update(loop)
    first = min(loop, key=lambda x: index[x])
    loop = loop[loop.index(first):] + loop[: loop.index(first)]
    line, col = loc.at("topics", index[first], "parent")
    cycle = " > ".join([*loop, loop[0]])
    report("topic-cycle", f"topics form a loop: {cycle}", line, col,
           "a topic cannot be its own ancestor; remove one 'parent:'")


def _check_base_url(url: Any, loc: Located, report: s.Report) -> bool:
    """Whether `url` may be the site's address (reported where it is not): an absolute
    http(s) address with no user name, password, query or fragment, as every page's
    canonical address and feed links publish it."""
    if not isinstance(url, str):
        return True  # (reported by the schema)
    fault = _base_url_fault(url)
    if fault is None:
        return True
    line, col = loc.at("base_url")
    report("config-type", fault[0], line, col, fault[1])
    return False


def _base_url_fault(url: str) -> tuple[str, str] | None:
    """What is wrong with a base_url, and the hint; None when nothing is."""
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018 (raises ValueError for a port out of range)
    except ValueError as e:
        return (f"base_url '{shown(url)}' is not a valid address: {e}",
                "write it like https://example.org/")
    if parts.scheme not in ("http", "https") or not parts.netloc:
        return (f"base_url '{shown(url)}' is not an absolute http(s) address",
                "write it like https://example.org/")
    extra = _published_extras(url, parts)
    if not extra:
        return None
    # (the address is not echoed: it may hold a password)
    listed = ", ".join(extra[:-1]) + " or " + extra[-1] if len(extra) > 1 else extra[0]
    return (f"base_url must not contain {listed}: it is published in every page's "
            "canonical address", "write just the site's address, like https://example.org/health/")


def _published_extras(url: str, parts: SplitResult) -> list[str]:
    """What an address has besides a scheme, host, port and path, in words."""
    return [what for what, there in (
        ("a user name or password", parts.username is not None or parts.password is not None),
        ("a query (?...)", "?" in url), ("a fragment (#...)", "#" in url),
        ("spaces or control characters", any(c.isspace() or not c.isprintable() for c in url)),
    ) if there]


_CONTROL = re.compile(r"[\x00-\x1f\x7f\u2028\u2029]")
# a placeholder in content or a shared card, `{{name}}`: a service's name
PLACEHOLDER = re.compile(r"\{\{\s*([A-Za-z_][\w.]*)\s*\}\}")
# a service's name is a placeholder's
_SERVICE = re.compile(r"[A-Za-z][A-Za-z0-9_]*\Z")
DEFAULT_SERVICES = {"emergency_number": "999", "emergency_department": "A&E",
                    "urgent_service": "NHS 111"}


LANGUAGE_CODE = re.compile(r"[a-z]{2,3}(-[a-z0-9]{2,8})*\Z")


def known_locale(tag: str) -> bool:
    """Whether Babel (CLDR) knows the language tag `tag` (en-GB, es, cy)."""
    from babel import Locale, UnknownLocaleError

    try:
        Locale.parse(tag, sep="-")
    except (ValueError, TypeError, UnknownLocaleError):
        return False
    return True


def _editions(config: SiteConfig, raw: list[dict[str, Any]], country: str | None,
              loc: Located, report: s.Report) -> tuple[Edition, ...]:
    """The site's editions: one (the site's own language) without `languages:`, else each
    usable one given, the first being the default. A bad or repeated code, a locale Babel
    does not know, a `language:` that is not the first edition's, and a translated topic
    that is not in the tree are reported."""
    lone = replace(_lone_edition(config), country=country or "")
    if not raw:
        return (lone,)
    editions: list[Edition] = []
    for i, item in enumerate(raw):
        edition = _edition(config, item, i, not editions, loc, report)
        if edition is None:
            continue
        if any(e.code == edition.code for e in editions):
            line, col = loc.at("languages", i, "code")
            report("config-type", f"language '{edition.code}' is listed twice", line, col,
                   "list each language once")
            continue
        editions.append(edition if not edition.default else
                        replace(edition, country=edition.country or country or ""))
    if not editions:
        return (lone,)
    first = editions[0]
    if "language" in loc.value and config.language != first.locale:
        line, col = loc.at("language")
        report("config-type", f"language is '{config.language}' but the first of languages: "
               f"(the default edition) is '{first.locale}'", line, col,
               "remove language:, or make it the first language's locale")
    return tuple(editions)


def _edition(config: SiteConfig, item: dict[str, Any], i: int, default: bool, loc: Located,
             report: s.Report) -> Edition | None:
    """One edition of `languages:` (None, reported, when its code or locale is bad)."""
    named = _language(item, i, loc, report)
    if named is None:
        return None
    code, locale = named
    services = {k: v for k, v in item["services"].items()
                if v is not None and _SERVICE.match(str(k))}
    _check_services(item["services"], loc, report, ("languages", i, "services"))
    topics, untranslated = _translated(config.topics, item["topics"], i, loc, report)
    terms, rules = _alarms(config, item, i, default, loc, report)
    return Edition(code, locale, item.get("name") or code, default,
                   item.get("title") or config.title,
                   item.get("description") or config.description, item.get("country") or "",
                   MappingProxyType({**config.services, **services}),
                   config.topics if default else topics, () if default else untranslated,
                   terms, rules)


def _language(item: dict[str, Any], i: int, loc: Located,
              report: s.Report) -> tuple[str, str] | None:
    """An edition's code and locale (None, reported, when either is not a language)."""
    code = item.get("code")
    if not isinstance(code, str):
        return None
    if not LANGUAGE_CODE.match(code) or not known_locale(code):
        line, col = loc.at("languages", i, "code")
        report("config-type", f"'{shown(code)}' is not a language code", line, col,
               "use the language's ISO 639 code in lowercase, such as es, cy or pt-br")
        return None
    locale = item.get("locale") or code
    if not known_locale(locale):
        line, col = loc.at("languages", i, "locale")
        report("config-type", f"'{shown(locale)}' is not a language tag Babel knows", line, col,
               "write it like es-ES or cy-GB")
        return None
    return code, locale


def _translated(topics: tuple[Topic, ...], given: list[dict[str, Any]], i: int, loc: Located,
                report: s.Report) -> tuple[tuple[Topic, ...], tuple[str, ...]]:
    """The topic tree with the names an edition gives (the site's own where it gives none:
    those topics are returned too), a translated topic not in the tree reported."""
    names = {t.slug: t for t in topics}
    found: dict[str, dict[str, Any]] = {}
    for j, t in enumerate(given):
        slug = t.get("slug")
        if slug in names:
            found[slug] = t
        elif isinstance(slug, str):
            line, col = loc.at("languages", i, "topics", j, "slug")
            report("unknown-topic", f"'{shown(slug)}' is not a topic of the topic tree", line,
                   col, did_you_mean(slug, names) or "translate the topics listed in topics:")
    out = tuple(replace(t, title=found[t.slug].get("title") or t.title,
                        description=found[t.slug].get("description") or "",
                        lay=tuple(found[t.slug].get("lay") or ()),
                        clinical=tuple(found[t.slug].get("clinical") or ()),
                        names=tuple(found[t.slug].get("names") or ()))
                if t.slug in found else t for t in topics)
    return out, tuple(t.slug for t in topics if t.slug not in found)


def _alarm_rule(raw: dict[str, Any], where: tuple[str | int, ...], loc: Located) -> AlarmRule:
    """One alarm rule, with where each of its cards is named (`where`: the rule's place in
    site.yaml)."""
    cards = tuple(map(str, raw["cards"]))
    return AlarmRule(tuple(map(str, raw["phrases"])), cards,
                     tuple(loc.at(*where, "cards", j) for j in range(len(cards))))


def _alarms(config: SiteConfig, item: dict[str, Any], i: int, default: bool, loc: Located,
            report: s.Report) -> tuple[tuple[str, ...] | None, tuple[AlarmRule, ...] | None]:
    """An edition's own alarm terms and rules (None where it gives none). The default
    edition's are the site's own (alarm_terms:, alarm_rules:); another edition that gives
    neither while the site has some is reported: its pages would be checked only for the
    default language's phrases, which its text rarely contains."""
    terms, rules = item.get("alarm_terms"), item.get("alarm_rules")
    if default:
        for key in ("alarm_terms", "alarm_rules"):
            if item.get(key) is not None:
                line, col = loc.key_at("languages", i, key)
                report("config-type", f"the default language's {key} are the site's own",
                       line, col, f"move them to {key}: at the top of {CONFIG_FILE}")
        return None, None
    if terms is None and rules is None and (config.alarm_terms or config.alarm_rules):
        line, col = loc.at("languages", i, "code")
        report("alarm-terms-untranslated", f"the '{item.get('code')}' edition has no "
               "alarm_terms of its own: its pages are checked only for the default "
               "language's alarm phrases", line, col,
               "give it alarm_terms: (and alarm_rules:, if the site has some) in its language")
    return (None if terms is None else tuple(str(t).lower() for t in terms),
            None if rules is None else tuple(_alarm_rule(r, ("languages", i, "alarm_rules", j),
                                                         loc) for j, r in enumerate(rules)))


def _retired(addresses: list[Any], loc: Located, report: s.Report
             ) -> list[tuple[str, int, int]]:
    """The usable retired addresses with their line and column (each other one reported)."""
    kept = set(usable(addresses, lambda i: loc.at("retired", i), "retired", report,
                      "config-type"))
    return [(a, *loc.at("retired", i)) for i, a in enumerate(addresses)
            if isinstance(a, str) and a in kept]


def _check_services(services: dict[str, Any], loc: Located, report: s.Report,
                    where: tuple[str | int, ...] = ("services",)) -> None:
    """A service's value goes into pages as one line of plain text (never Markdown or
    HTML): a line break or control character in it is reported here, not on the lines
    of the articles that use it."""
    for name, value in services.items():
        if not _SERVICE.match(str(name)):
            line, col = loc.key_at(*where, name)
            report("config-type", f"services.{shown(str(name))} cannot be a placeholder's name",
                   line, col, "use letters, digits and underscores, starting with a letter "
                   "(for example helpline or maternity_unit)")
        elif isinstance(value, str) and _CONTROL.search(value):
            line, col = loc.at(*where, name)
            report("config-type", f"services.{name} has a line break or control character",
                   line, col, "write the value on one line")


def _levels(raw: dict[str, str], loc: Located, report: s.Report) -> dict[str, Level | None]:
    levels: dict[str, Level | None] = {}
    for code, name in raw.items():
        if code not in CHECKS:
            line, col = loc.key_at("checks", code)
            report("config-unknown-key", f"unknown check '{code}' in 'checks'", line, col,
                   did_you_mean(code, CHECKS) or "see the list of checks in README.md")
            continue
        if code in ALWAYS_ERRORS and name != "error":
            line, col = loc.at("checks", code)
            report("config-type", f"'{code}' problems leave a page or file out of the site: "
                   "the check cannot be made a warning or turned off", line, col,
                   "fix the problem instead, or leave the page out with draft: true")
            continue
        levels[code] = LEVEL_NAMES[name]
    return levels
