"""The published guide itself: complete, sourced, linked, readable, and original."""

from __future__ import annotations

import subprocess
import sys

import pytest
from conftest import REPO, SHARED

from healthsite.errors import ProblemList
from healthsite.load.content import load_glossary
from healthsite.pipeline import BuildResult, Options, build_site, strict_failed

REQUIRED_PAGES = {"about", "editorial-policy", "disclaimer", "contact", "faq"}


@pytest.fixture(scope="module")
def site() -> BuildResult:
    return build_site(Options(root=REPO, write=False, cache=False))


def test_strict_build_has_no_problems(site: BuildResult) -> None:
    assert [p.format() for p in site.problems.sorted()] == []
    assert not strict_failed(site, strict=True)


def test_every_article_is_sourced_linked_and_topical(site: BuildResult) -> None:
    g = site.graph
    assert g is not None and site.reading_next is not None
    articles = [a for a in g.articles.values() if a.is_article]
    assert len(articles) >= 20
    assert REQUIRED_PAGES <= set(g.articles)
    for a in articles:
        assert len(a.meta.sources) >= 2, a.path
        assert len(g.links_out.get(a.slug, ())) >= 2, a.path
        assert a.meta.topics, a.path
        assert site.reading_next.by_article[a.slug], a.path
        assert g.links_in.get(a.slug), f"{a.path} is an orphan"
        assert site.grades[a.slug].grade <= 9, a.path


def test_average_reading_grade_is_9_or_lower(site: BuildResult) -> None:
    grades = [r.grade for r in site.grades.values()]
    assert sum(grades) / len(grades) <= 9


def test_glossary_has_at_least_25_terms() -> None:
    from healthsite.load.config import load_config

    problems = ProblemList()
    config = load_config(REPO, problems)
    assert config is not None
    assert len(load_glossary(config, problems)) >= 25 and not problems.sorted()


def test_alarm_symptoms_sit_in_care_cards(site: BuildResult) -> None:
    g = site.graph
    assert g is not None
    for slug in ("deep-vein-thrombosis", "pulmonary-embolism", "dvt-and-restless-legs"):
        assert "emergency" in g.rendered[slug].care_kinds, slug
    assert "warning" in g.rendered["preventing-dvt"].care_kinds


@pytest.mark.skipif(not (SHARED / "tools" / "seed_overlap.py").is_file(),
                    reason="../shared (the seed pages) is not beside this checkout")
def test_no_sentence_is_copied_from_the_seed_pages() -> None:
    done = subprocess.run([sys.executable, str(SHARED / "tools" / "seed_overlap.py"), "--max",
                           "0", str(REPO / "content")], capture_output=True, text=True)
    assert done.returncode == 0, done.stdout[-2000:]
