"""The glossary's A–Z index (issue 22, point 6): every letter shown, a letter linked to the
first term under it (accents ignored: Á is under A), a heading per letter, and a labelled
navigation landmark, in English and in Spanish."""

from __future__ import annotations

from pathlib import Path

import pytest
from bs4 import BeautifulSoup

from healthsite.load.content import GlossaryEntry
from healthsite.pages.views import fold, glossary_page, initial


def entry(term: str) -> GlossaryEntry:
    return GlossaryEntry(term=term, definition="A plain definition.", also=(),
                         id="term-" + term.lower().replace(" ", "-"))


def test_terms_are_grouped_by_their_letter_without_its_accent() -> None:
    view = glossary_page([entry(t) for t in
                          ("ecografía", "Ácido fólico", "Anemia", "Émbolo", "3D scan", "Zinc")])
    assert [(g["letter"], [e["term"] for e in g["entries"]]) for g in view["groups"]] == [
        ("A", ["Ácido fólico", "Anemia"]), ("E", ["ecografía", "Émbolo"]), ("Z", ["Zinc"]),
        ("#", ["3D scan"])]
    letters = {item["letter"]: item["id"] for item in view["letters"]}
    assert list(letters)[:26] == [chr(c) for c in range(ord("A"), ord("Z") + 1)]
    assert letters["A"] == "term-ácido-fólico" and letters["E"] == "term-ecografía"
    assert letters["B"] is None and letters["#"] == "term-3d-scan"


def test_without_a_term_outside_a_to_z_the_index_is_the_26_letters() -> None:
    view = glossary_page([entry("Ñandú"), entry("Ferritin")])
    assert len(view["letters"]) == 26
    assert [g["letter"] for g in view["groups"]] == ["F", "N"]
    assert fold("Ñandú") == "NANDU" and initial(" über") == "U"


@pytest.mark.parametrize(("path", "label"), [("glossary/index.html", "Glossary A to Z"),
                                             ("es/glossary/index.html",
                                              "Glosario de la A a la Z")])
def test_the_glossary_page_has_an_a_to_z_index(built_repo_site: Path, path: str,
                                               label: str) -> None:
    soup = BeautifulSoup((built_repo_site / path).read_text(encoding="utf-8"), "html.parser")
    nav = soup.find("nav", class_="az")
    assert nav is not None and nav["aria-label"] == label
    items = nav.find_all("li")
    assert [li.get_text(strip=True) for li in items][:26] == [chr(c) for c in range(65, 91)]
    terms = soup.select("dl.glossary dt")
    assert len(terms) == len({t["id"] for t in terms}) >= 20
    headings = [h.get_text(strip=True) for h in soup.select("h2.az__heading")]
    for li in items:
        letter, link = li.get_text(strip=True), li.find("a")
        under = [t for t in terms if fold(t.get_text(strip=True))[:1] == letter]
        if not under:
            assert link is None and li.find("span", class_="az__none"), letter
            continue
        assert link is not None and link["href"] == "#" + str(under[0]["id"]), letter
        assert letter in headings
    assert headings == sorted(headings)
    shown = [fold(t.find(string=True, recursive=False) or "") for t in terms]
    assert shown == sorted(shown)  # (A–Z, accents and case ignored)
