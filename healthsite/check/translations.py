"""Stage 5 (checks): the checks of a site with several languages.

- `translation-outdated` (warning): a translation whose original was reviewed after it (its
  page tells readers so too: `pages.editions.Versions.status`).
- `missing-care-card` (error): a translation that leaves out a shared card its original
  includes. The alarm rules are written in the default language; this keeps a
  translation's safety advice at least its original's, whatever language it is in.
- `missing-translation` (warning): an interface string (the templates', or one the engine
  writes: care cards' own headings, reading-next reasons) that an edition's catalogue does
  not translate; and a topic that has pages in an edition but no name in its language.
- A translation with no original is allowed and not reported: an edition may have pages of
  its own (a local service, say); such a page simply has no other language.
"""

from __future__ import annotations

from collections.abc import Mapping

from ..errors import Level, ProblemList
from ..link.graph import TopicGraph
from ..link.related import REASON_FORMATS, REASONS
from ..load.config import CONFIG_FILE, SiteConfig
from ..load.content import topic_key
from ..load.translations import missing, template_strings
from ..pages import topicmap
from ..pages.editions import Versions
from ..pages.templating import Templates, template_label, template_source
from ..render.markup import CARE_KINDS, FOOTNOTE_BACKLINK, Surroundings

ENGINE = "healthsite"  # where problems say the engine's own strings are used
# the strings the engine itself shows readers (each needs a translation too)
ENGINE_STRINGS = (*(text for pair in CARE_KINDS.values() for text in pair), *REASONS,
                  *REASON_FORMATS.values(), "Home", "Topics", FOOTNOTE_BACKLINK,
                  topicmap.TITLE, topicmap.DESCRIPTION, topicmap.MORE)


def check_translations(config: SiteConfig, graph: TopicGraph, problems: ProblemList) -> None:
    """Outdated translations, and translations without a card their original includes."""
    if len(config.all_editions) < 2:
        return
    versions = Versions.of(config, graph)
    for slug, source, mine, theirs in versions.outdated():
        a = graph.articles[slug]
        line, col = a.meta.at("reviewed")
        problems.add("translation-outdated", f"the original ({source}) was reviewed on "
                     f"{theirs}, after this translation ({mine})", a.path, line, col,
                     level=Level.WARNING, hint="bring the translation up to date with the "
                     "original, then set its reviewed: date")
    for slug, a in graph.articles.items():
        original = versions.original(slug)
        if original is None:
            continue
        lost = graph.rendered[original].cards - graph.rendered[slug].cards
        for name in sorted(lost):
            problems.add("missing-care-card", f"the original ({a.original}) includes the "
                         f"shared card '{name}'; this translation does not", a.path,
                         hint=f"include it where the original does: !!! card {name} (the "
                         f"edition's own, in content/{a.lang}/cards/{name}.yaml)")


def check_interface(config: SiteConfig, templates: Templates,
                    around: Mapping[str, Surroundings], graph: TopicGraph,
                    problems: ProblemList) -> None:
    """Every interface string and topic name each edition's language lacks (English, the
    templates' own, lacks none)."""
    catalogues = [(e, around[e.key].language.catalogue) for e in config.all_editions
                  if e.key in around]
    if all(c is None or c.english for _, c in catalogues):
        return
    env = templates.env
    names = [n for n in env.list_templates() if n.endswith((".html", ".xml", ".txt"))]
    used = template_strings(env, names, lambda name: _source(templates, name))
    for text in ENGINE_STRINGS:
        used.setdefault(text, (ENGINE, 1))
    for edition, catalogue in catalogues:
        if catalogue is not None:
            missing(catalogue, used, problems)
        _untranslated_topics(edition.key, edition.untranslated, graph, problems)


def _source(templates: Templates, name: str) -> tuple[str, str]:
    path = template_source(templates.root, name)
    return path.read_text("utf-8", "replace"), template_label(templates.root, name)


def _untranslated_topics(key: str, untranslated: tuple[str, ...], graph: TopicGraph,
                         problems: ProblemList) -> None:
    """A topic with pages in an edition but no name in its language (its pages would show
    the default language's name)."""
    for slug in untranslated:
        if graph.subtree_articles(topic_key(key, slug)):
            problems.add("missing-translation", f"topic '{slug}' has pages in '{key}' but no "
                         f"name in that language", CONFIG_FILE, level=Level.WARNING,
                         hint=f"add it to the topics: of language '{key}' in languages:")
