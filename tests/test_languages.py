"""A site in two languages (issue 20): each edition's pages are correct for its readers, stay
within the edition, and are told when they fall behind their original."""

from __future__ import annotations

import json
import re
import shutil
from collections.abc import Callable
from pathlib import Path

import pytest
from conftest import SITE_YAML, article, build

from healthsite.load.content import new_slug
from healthsite.pipeline import BuildResult, Options, build_site
from healthsite.render.readability import reading_grade

LANGUAGES = """\
languages:
  - code: en
    name: English
    locale: en-GB
    country: the United Kingdom
  - code: es
    name: Español
    locale: es-ES
    title: Sitio de prueba
    country: España
    services:
      emergency_number: "112"
      emergency_department: urgencias
      urgent_service: su centro de salud
    alarm_terms: [dolor en el pecho]
    topics:
      - slug: rls
        title: Piernas inquietas
        description: Sobre las piernas inquietas.
        lay: [piernas nerviosas]
      - {slug: causes, title: Causas, description: Qué lo causa.}
      - {slug: iron, title: Hierro, description: El hierro., clinical: [ferritina]}
      - {slug: dvt, title: Coágulos, description: La trombosis venosa profunda.}
"""

CARD = {
    "content/cards/clot-emergency.yaml": 'kind: emergency\nheading: "Call {{emergency_number}} '
    'now if you have:"\nitems: [chest pain]\n',
    "content/es/cards/clot-emergency.yaml": 'kind: emergency\nheading: "Llame al '
    '{{emergency_number}} ahora si tiene:"\nitems: [dolor en el pecho]\n',
}


def files(es_reviewed: str = "2026-01-10") -> dict[str, str]:
    """English a, b, c (c untranslated); Spanish a, b and a page of its own (solo)."""
    return {
        "site.yaml": SITE_YAML + LANGUAGES,
        **CARD,
        "content/a.md": article("Alpha", "[iron]", "## Iron\n\nSee [b](b.md) and [c](c.md)."
                                "\n\n!!! card clot-emergency"),
        "content/b.md": article("Beta", "[iron]", "## More\n\nBack to [a](a.md)."),
        "content/c.md": article("Gamma", "[iron]", "## Other\n\nSee [a](a.md)."),
        "content/es/a.md": article("Alfa", "[iron]", "## Hierro\n\nVea [b](b.md) y [c, en "
                                   "inglés](../c.md).\n\n!!! card clot-emergency",
                                   reviewed=es_reviewed),
        "content/es/b.md": article("Beta en español", "[iron]", "## Más\n\nVuelva a [a](a.md) "
                                   "o a [solo](solo.md)."),
        "content/es/solo.md": article("Solo", "[iron]", "## Propia\n\nVea [a](a.md)."),
    }


@pytest.fixture
def site(make_site: Callable[[dict[str, str]], Path], today: None) -> Path:
    return make_site(files())


def written(root: Path) -> Path:
    result = build_site(Options(root=root, strict=True))
    assert not result.problems.errors and not result.problems.warnings, \
        [p.format() for p in result.problems.sorted()]
    return root / "_site"


def read(out: Path, path: str) -> str:
    return (out / path).read_text(encoding="utf-8")


def test_each_edition_publishes_under_its_folder_in_its_language(site: Path) -> None:
    out = written(site)
    en, es = read(out, "a/index.html"), read(out, "es/a/index.html")
    assert '<html lang="en-GB">' in en and '<html lang="es-ES">' in es
    assert (out / "es/solo/index.html").is_file() and not (out / "solo").exists()
    # hreflang both ways, with x-default the default language's
    for page in (en, es):
        assert '<link rel="alternate" hreflang="en-GB" href="https://example.org/a/">' in page
        assert '<link rel="alternate" hreflang="es-ES" href="https://example.org/es/a/">' in page
        assert '<link rel="alternate" hreflang="x-default" href="https://example.org/a/">' in page
    assert '<a href="/es/a/" hreflang="es-ES" lang="es-ES">Español</a>' in en
    assert '<a href="/a/" hreflang="en-GB" lang="en-GB">English</a>' in es
    # the switcher only where a translation exists
    for page in ("c/index.html", "es/solo/index.html"):
        assert "language-switcher" not in read(out, page) and "hreflang" not in read(out, page)
    assert json.loads(re.search(r'ld\+json">(.*?)</script>', es).group(1))["inLanguage"] == "es-ES"
    assert '<link rel="canonical" href="https://example.org/es/a/">' in es


def test_interface_text_services_and_dates_are_the_editions(site: Path) -> None:
    out = written(site)
    es = read(out, "es/a/index.html")
    assert "Para seguir leyendo" in es and "Reading next" not in es
    assert "10 de enero de 2026" in es and "January" not in es
    assert "Llame al 112 ahora si tiene:" in es and "Actúe de inmediato" in es
    assert "En caso de emergencia, llame al 112" in es and "son los de España" in es
    assert '<a href="/es/topics/iron/">Hierro</a>' in es
    assert "10 January 2026" in read(out, "a/index.html")


def test_lists_reading_next_and_backlinks_stay_within_an_edition(site: Path) -> None:
    result = build(site)
    nxt = result.reading_next
    assert nxt is not None
    assert {s.slug for s in nxt.by_article["es/a"]} <= {"es/b", "es/solo"}
    assert {s.slug for s in nxt.by_article["a"]} <= {"b", "c"}
    graph = result.graph
    assert graph is not None
    assert graph.links_in["c"] == ("a",)  # (the Spanish page's link to c makes no backlink)
    out = written(site)
    topic = read(out, "es/topics/iron/index.html")
    assert "/es/a/" in topic and 'href="/a/"' not in topic and "Hierro" in topic
    assert "ferritina" in topic
    listing = read(out, "es/topic-map/index.html")
    assert "/es/b/" in listing and 'href="/b/"' not in listing
    assert "/es/a/" not in read(out, "topic-map/index.html")
    # each edition's own site pages
    for page in ("es/glossary/index.html", "es/search/index.html", "es/404.html",
                 "es/topic-map/index.html", "es/feed.xml", "es/topics/index.html"):
        assert (out / page).is_file(), page
    assert 'xml:lang="es-ES"' in read(out, "es/feed.xml")
    assert "/es/c/" not in read(out, "es/feed.xml") and "/es/b/" in read(out, "es/feed.xml")


def test_the_sitemap_lists_every_version_with_its_alternates(site: Path) -> None:
    sitemap = read(written(site), "sitemap.xml")
    assert 'xmlns:xhtml="http://www.w3.org/1999/xhtml"' in sitemap
    entry = re.search(r"<url><loc>https://example.org/es/a/</loc>.*?</url>", sitemap).group(0)
    assert '<xhtml:link rel="alternate" hreflang="en-GB" href="https://example.org/a/"/>' in entry
    assert 'hreflang="x-default" href="https://example.org/a/"' in entry
    assert "<loc>https://example.org/es/solo/</loc>" in sitemap
    assert "<loc>https://example.org/es/topics/iron/</loc>" in sitemap


def test_an_outdated_translation_is_a_warning_and_tells_readers(
        make_site: Callable[[dict[str, str]], Path], today: None) -> None:
    root = make_site(files(es_reviewed="2025-12-01"))
    result = build_site(Options(root=root))
    found = [p for p in result.problems.items() if p.code == "translation-outdated"]
    assert [(p.path, p.line) for p in found] == [("content/es/a.md", 5)]
    page = read(root / "_site", "es/a/index.html")
    assert 'La <a href="/a/">página original</a> (English) se actualizó el 10 de enero de ' \
           "2026" in page
    assert "translation-status" not in read(root / "_site", "es/b/index.html")


def test_a_translation_must_keep_its_originals_shared_cards(
        make_site: Callable[[dict[str, str]], Path], today: None) -> None:
    given = files()
    given["content/es/a.md"] = given["content/es/a.md"].replace("!!! card clot-emergency", "")
    result = build(make_site(given))
    found = [p for p in result.problems.items() if p.code == "missing-care-card"]
    assert [(p.path, "clot-emergency" in p.message) for p in found] == [("content/es/a.md", True)]


def test_an_edition_without_its_card_is_an_error_naming_its_folder(
        make_site: Callable[[dict[str, str]], Path], today: None) -> None:
    given = files()
    del given["content/es/cards/clot-emergency.yaml"]
    result = build(make_site(given))
    found = [p for p in result.problems.items() if p.code == "bad-care-card"]
    assert found and "content/es/cards/clot-emergency.yaml" in str(found[0].hint)


def _alarms(result: BuildResult) -> list[tuple[str, str, int, str]]:
    return sorted((p.code, p.path, p.line, p.message) for p in result.problems.items()
                  if "alarm" in p.code or "care-card" in p.code)


def test_each_editions_pages_are_checked_for_its_own_alarm_phrases(
        make_site: Callable[[dict[str, str]], Path], today: None) -> None:
    """A Spanish page of its own (no original whose cards it must keep) that names an alarm
    symptom in Spanish needs a care card, as an English page naming it in English does;
    the English phrase in a Spanish page is not one of the edition's."""
    given = files()
    given["content/es/solo.md"] = article("Solo", "[iron]", "## Propia\n\nVea [a](a.md).\n\n"
                                          "Si tiene dolor en el pecho, pida ayuda.")
    given["content/es/b.md"] += "\nNo dice chest pain en inglés.\n"
    result = build(make_site(given))
    assert _alarms(result) == [("alarm-without-care-card", "content/es/solo.md", 15,
                                "mentions 'dolor en el pecho' but has no urgent or emergency "
                                "care card")]
    given["content/es/solo.md"] += "\n!!! card clot-emergency\n"
    assert _alarms(build(make_site(given))) == []


def test_an_edition_without_alarm_phrases_is_warned_and_checked_with_the_sites(
        make_site: Callable[[dict[str, str]], Path], today: None) -> None:
    given = files()
    given["site.yaml"] = given["site.yaml"].replace("    alarm_terms: [dolor en el pecho]\n", "")
    given["content/es/solo.md"] = article("Solo", "[iron]", "## Propia\n\nVea [a](a.md).\n\n"
                                          "Chest pain, en inglés.")
    result = build(make_site(given))
    warned = [p for p in result.problems.items() if p.code == "alarm-terms-untranslated"]
    assert [(p.path, p.line, p.level.name) for p in warned] == [("site.yaml", 36, "WARNING")]
    assert "'es' edition has no alarm_terms" in warned[0].message
    assert ("alarm-without-care-card", "content/es/solo.md", 15,
            "mentions 'chest pain' but has no urgent or emergency care card") in _alarms(result)


RULES = """\
    alarm_rules:
      - phrases: [coágulo, TVP]
        cards: [clot-emergency, clot-urgent]
"""


def test_an_editions_alarm_rules_name_its_own_cards(
        make_site: Callable[[dict[str, str]], Path], today: None) -> None:
    """The edition's rules are matched in its pages (TVP in capitals only) and name cards of
    content/es/cards/: one it lacks is reported where the rule names it; the site's rules
    do not apply to it (their English phrases are not its own)."""
    given = files()
    given["site.yaml"] = given["site.yaml"].replace(
        "    alarm_terms: [dolor en el pecho]\n", "    alarm_terms: [dolor en el pecho]\n"
        + RULES) + "alarm_rules:\n  - {phrases: [clot], cards: [clot-emergency]}\n"
    given["content/es/solo.md"] = article("Solo", "[iron]", "## Propia\n\nVea [a](a.md).\n\n"
                                          "Una tvp no; una TVP sí. Un clot no.")
    result = build(make_site(given))
    found = _alarms(result)
    assert ("bad-care-card", "site.yaml", 48,
            "alarm_rules names no shared card of the 'es' edition: 'clot-urgent'") in found
    assert ("missing-care-card", "content/es/solo.md", 15, "mentions 'TVP' but does not "
            "include the shared card 'clot-emergency'") in found
    assert not any(path == "content/es/solo.md" and "clot'" in message
                   for _, path, _, message in found)
    assert [f for f in found if f[1] != "site.yaml"] == [
        ("missing-care-card", "content/es/solo.md", 15, "mentions 'TVP' but does not include "
         "the shared card 'clot-emergency'"),
        ("missing-care-card", "content/es/solo.md", 15, "mentions 'TVP' but does not include "
         "the shared card 'clot-urgent'")]


def test_the_default_languages_alarm_phrases_are_the_sites_own(
        make_site: Callable[[dict[str, str]], Path], today: None) -> None:
    given = files()
    given["site.yaml"] = given["site.yaml"].replace(
        "    country: the United Kingdom\n",
        "    country: the United Kingdom\n    alarm_terms: [chest pain]\n", 1)
    result = build(make_site(given))
    assert [(p.code, p.message) for p in result.problems.items() if p.path == "site.yaml"] == \
        [("config-type", "the default language's alarm_terms are the site's own")]


def test_a_missing_interface_string_names_the_string_and_language(
        make_site: Callable[[dict[str, str]], Path], today: None) -> None:
    given = files()
    given["templates/partials/home-intro.es.html"] = '<p>{{ _("Worried?") }}</p>\n'
    given["templates/locale/es.po"] = ('msgid ""\nmsgstr ""\n"Content-Type: text/plain; '
                                       'charset=UTF-8\\n"\n\nmsgid "Reading next"\n'
                                       'msgstr "Lea también"\n')
    root = make_site(given)
    result = build_site(Options(root=root))
    found = [(p.path, p.message) for p in result.problems.items()
             if p.code == "missing-translation"]
    assert found == [("templates/partials/home-intro.es.html",
                      "the es-ES catalogue does not translate 'Worried?'")]
    page = read(root / "_site", "es/index.html")
    assert "<p>Worried?</p>" in page  # (shown in English)
    assert "Lea también" in read(root / "_site", "es/a/index.html")  # (the site's wins)


def test_a_language_with_no_catalogue_is_one_warning(
        make_site: Callable[[dict[str, str]], Path], today: None) -> None:
    given = files()
    given["site.yaml"] = given["site.yaml"].replace("code: es", "code: cy").replace(
        "locale: es-ES", "locale: cy-GB")
    given = {k.replace("/es/", "/cy/"): v for k, v in given.items()}
    result = build(make_site(given))
    found = [p.message for p in result.problems.items() if p.code == "missing-translation"]
    assert len(found) == 1 and found[0].startswith("no catalogue for 'cy-GB'")


def test_readability_uses_the_languages_formula_or_none() -> None:
    text = ("El síndrome de piernas inquietas es un trastorno del sistema nervioso. Produce "
            "ganas de mover las piernas. Suele empeorar por la noche.")
    spanish = reading_grade(text, "es-ES")
    assert spanish.words == 22 and 0 < spanish.grade < 6
    welsh = reading_grade("Mae gan rai pobl goesau aflonydd yn y nos.", "cy")
    assert welsh.words == 9 and welsh.grade != welsh.grade  # (NaN: no grade)
    assert reading_grade(text, "en").grade != spanish.grade


def test_the_report_gives_no_english_grade_for_a_language_without_a_formula(
        make_site: Callable[[dict[str, str]], Path], today: None,
        capsys: pytest.CaptureFixture[str]) -> None:
    from conftest import run_cli

    given = files()
    given["site.yaml"] = given["site.yaml"].replace("code: es", "code: cy").replace(
        "locale: es-ES", "locale: cy-GB")
    given = {k.replace("/es/", "/cy/"): v for k, v in given.items()}
    root = make_site(given)
    run_cli(["build", "--root", str(root), "--report", str(root / "report.json")], capsys)
    report = json.loads((root / "report.json").read_text())
    by_path = {a["path"]: a for a in report["articles"]}
    assert by_path["content/cy/a.md"]["readability"]["grade"] is None
    assert "no readability formula for 'cy-GB'" in by_path["content/cy/a.md"]["readability"]["note"]
    assert by_path["content/a.md"]["readability"]["formula"] == "Flesch-Kincaid grade"


def test_unknown_language_and_bad_language_settings_are_reported(
        make_site: Callable[[dict[str, str]], Path], today: None) -> None:
    given = files()
    given["site.yaml"] = given["site.yaml"].replace("locale: es-ES", "locale: xx-QQ") + \
        "  - {code: es, name: Again}\n"
    given["content/de/x.md"] = article("Deutsch", "[iron]")
    result = build(make_site(given))
    messages = sorted((p.code, p.message) for p in result.problems.items()
                      if p.code in ("config-type", "unknown-language"))
    assert ("config-type", "'xx-QQ' is not a language tag Babel knows") in messages
    assert any(code == "unknown-language" and "content/de/" in m for code, m in messages)


def test_edited_translation_and_original_rebuild_as_from_scratch(
        site: Path, tmp_path: Path) -> None:
    written(site)
    for path, old, new in (("content/es/a.md", "## Hierro", "## Hierro y ferritina"),
                           ("content/a.md", "## Iron", "## Iron and ferritin"),
                           ("content/a.md", "reviewed: 2026-01-10", "reviewed: 2026-02-10")):
        file = site / path
        file.write_text(file.read_text(encoding="utf-8").replace(old, new), encoding="utf-8")
        again = build_site(Options(root=site))
        fresh = tmp_path / f"fresh-{path.replace('/', '-')}-{new[-2:]}"
        shutil.copytree(site, fresh, ignore=shutil.ignore_patterns("_site", ".cache"))
        scratch = build_site(Options(root=fresh, cache=False))
        assert sorted(p.format() for p in again.problems.items()) == \
            sorted(p.format() for p in scratch.problems.items())
        ours = {p.relative_to(site / "_site").as_posix(): p.read_bytes()
                for p in (site / "_site").rglob("*") if p.is_file() and "pagefind" not in p.parts}
        theirs = {p.relative_to(fresh / "_site").as_posix(): p.read_bytes()
                  for p in (fresh / "_site").rglob("*")
                  if p.is_file() and "pagefind" not in p.parts}
        assert ours == theirs, path
    assert "translation-status" in read(site / "_site", "es/a/index.html")


def test_new_slugs_from_any_script_are_valid() -> None:
    assert new_slug("Síndrome de piernas inquietas") == "sindrome-de-piernas-inquietas"
    assert new_slug("Coesau aflonydd: ŵ ŷ") == "coesau-aflonydd-w-y"
