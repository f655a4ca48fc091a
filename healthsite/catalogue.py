"""The catalogue of checks: every diagnostic code, its default level and what it means."""

from __future__ import annotations

from .errors import Level

E, W, N = Level.ERROR, Level.WARNING, Level.NOTICE

CHECKS: dict[str, tuple[Level, str]] = {
    "yaml": (E, "YAML that cannot be read"),
    "encoding": (E, "a file that is not UTF-8 text"),
    "io": (E, "a file that cannot be read, or an output folder that cannot be written"),
    "too-large": (E, "a content file too large to be an article"),
    "environment": (E, "the build's environment cannot be used (a bad SOURCE_DATE_EPOCH)"),
    "too-complex": (E, "an article that takes too long to render or nests too deeply"),
    "config-missing": (E, "a required site.yaml key is missing"),
    "config-type": (E, "a site.yaml value has the wrong type"),
    "config-unknown-key": (E, "an unknown site.yaml key"),
    "fm-unclosed": (E, "front matter that is opened with --- but never closed"),
    "fm-missing": (E, "a required front-matter key is missing or empty"),
    "fm-type": (E, "a front-matter value has the wrong type"),
    "fm-unknown-key": (E, "an unknown front-matter key"),
    "bad-date": (E, "a review date that is impossible or in the wrong order"),
    "bad-slug": (E, "a slug that cannot be a safe URL or file name (too long, a Windows "
                 "device name)"),
    "duplicate-slug": (E, "two files that would publish to the same URL, or whose names differ "
                       "only in Unicode form"),
    "unknown-topic": (E, "an article names a topic that site.yaml does not declare"),
    "topic-unknown-parent": (E, "a topic's parent is not declared"),
    "topic-duplicate": (E, "a topic slug declared twice"),
    "topic-cycle": (E, "topics whose parents form a loop"),
    "unknown-article": (E, "an editor's pick (next:) names no article"),
    "broken-link": (E, "an internal link to a file that does not exist"),
    "broken-anchor": (E, "an internal link to a #fragment that does not exist"),
    "link-to-draft": (E, "a published page links to a draft"),
    "bad-placeholder": (E, "an unknown {{placeholder}} in content"),
    "bad-citation": (E, "a [^N] citation with no matching source"),
    "bad-care-card": (E, "a care card of an unknown kind"),
    "care-card-link": (E, "an emergency care card with a link that leads away from getting help"),
    "glossary": (E, "a glossary entry that is malformed or duplicated, or whose link id another "
                 "term has"),
    "search-index": (E, "the search index could not be built"),
    "external-resource": (E, "a page that would load a script, style, font, image or frame "
                          "from another site"),
    "unsafe-svg": (E, "an SVG file in static/ that could run script or load another site's "
                   "file (not published)"),
    "template": (E, "a template that cannot be compiled or rendered"),
    "heading-order": (E, "a skipped heading level or a second h1"),
    "image-alt": (E, "an image without alt text"),
    "alias-collision": (E, "an old address (aliases:, retired:) that is already a page's or "
                        "another old address"),
    "url-removed": (E, "a URL published before that is no longer a page, an alias or retired"),
    "broken-image": (E, "an image that is not there (with the nearest picture suggested), or "
                     "that may not be shown (an SVG with scripts, a file that is not a picture)"),
    "large-image": (W, "a picture file over 1 MB"),
    "image-location": (W, "a photo whose file says where it was taken (GPS), which would be "
                       "published with it"),
    "unknown-language": (E, "a folder of content/ named like a language the site does not "
                         "declare in languages: (its pages would be published as the default "
                         "language's)"),
    "missing-translation": (W, "an interface string or topic name an edition has no "
                            "translation of (the default language's is shown)"),
    "translation-outdated": (W, "a translation whose original was reviewed after it"),
    "min-sources": (E, "an article with fewer sources than the site requires"),
    "alarm-without-care-card": (E, "alarm symptoms mentioned without an urgent or emergency "
                                "care card"),
    "alarm-terms-untranslated": (W, "an edition (languages:) with no alarm_terms or alarm_rules "
                                 "of its own while the site has some: its pages are checked "
                                 "only for the default language's phrases"),
    "missing-care-card": (E, "an article that mentions a phrase of an alarm rule (site.yaml) "
                          "without including every shared card the rule names"),
    "empty-care-card": (E, "a care card with nothing in it (its lines not indented under it), "
                        "or a shared card with no items"),
    "review-overdue": (N, "an article past its next review date (a notice: a lapsed review "
                       "never blocks publishing; `healthsite review` fails on it)"),
    "review-due": (N, "an article whose next review is due within 30 days"),
    "orphan": (W, "an article with no topic and no page linking to it"),
    "dead-end": (W, "an article that links to no other article"),
    "no-reading-next": (W, "an article for which no reading next could be found"),
    "readability": (W, "an article whose reading grade is above the site target"),
    "raw-html": (W, "raw HTML that the sanitiser changed (unsafe parts removed)"),
    "unsafe-attribute": (W, "an attribute list that set an unsafe attribute or a reserved or "
                         "repeated id (removed)"),
    "summary-length": (W, "a summary too long for search results"),
    "source-dead": (W, "a source's url that does not answer, or answers with an error "
                    "(check --external)"),
    "source-redirected": (W, "a source's url that has moved permanently (check --external)"),
}

LEVEL_NAMES = {"error": E, "warning": W, "notice": N, "off": None}

# Problems that leave a page or file out of the site (or the site unbuildable): a site may
# not make them warnings or switch them off, or pages would go missing without a word.
ALWAYS_ERRORS = frozenset({
    "yaml", "encoding", "io", "too-large", "too-complex", "config-missing", "config-type",
    "config-unknown-key", "fm-unclosed", "fm-missing", "fm-type", "bad-date", "bad-slug",
    "duplicate-slug", "template", "search-index", "unsafe-svg"})
