"""Shared care cards and alarm rules (issue 19, points 1 and 2)."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path

from conftest import good_files

from healthsite.pipeline import BuildResult, Options, build_site

MakeSite = Callable[[dict[str, str | bytes]], Path]

URGENT = """kind: urgent
heading: "Get help from {{urgent_service}} if:"
items:
  - pain in one leg
  - swelling in one leg
text: You do not need both.
"""
EMERGENCY = """kind: emergency
heading: "Call {{emergency_number}} now if you have:"
items:
  - sudden breathlessness
  - chest pain
text: Do not drive yourself.
"""
PREGNANCY = URGENT.replace("kind: urgent", "kind: urgent\nvariant_of: clot-urgent").replace(
    "Get help from", "Call your midwife or get help from")
RULES = """alarm_rules:
  - phrases: [blood clot, DVT]
    cards: [clot-urgent, clot-emergency]
"""


def _site(make_site: MakeSite, rules: bool = True) -> tuple[Path, dict[str, str]]:
    files = good_files()
    files["content/cards/clot-urgent.yaml"] = URGENT
    files["content/cards/clot-emergency.yaml"] = EMERGENCY
    files["content/cards/clot-urgent-pregnancy.yaml"] = PREGNANCY
    for name in ("clots.md", "iron.md"):
        files[f"content/{name}"] += ("\nA blood clot needs checking.\n\n## When to get help\n\n"
                                     "!!! card clot-urgent\n\n!!! card clot-emergency\n")
    if rules:
        files["site.yaml"] += RULES
    return make_site(files), files


def _cards(html: str) -> list[str]:
    return re.findall(r'<div class="care-card care-card--.*?</div></div>', html, re.S)


def _lines(result: BuildResult) -> list[str]:
    return [p.format() for p in result.problems.sorted()]


def test_every_inclusion_renders_the_same_card(make_site: MakeSite) -> None:
    root, _ = _site(make_site)
    result = build_site(Options(root=root))
    assert not result.problems.errors, _lines(result)
    clots = _cards((root / "_site" / "clots" / "index.html").read_text())
    iron = _cards((root / "_site" / "iron" / "index.html").read_text())
    assert clots[1:] == iron and len(iron) == 2  # (clots.md has its own card first)
    urgent, emergency = iron
    assert "Get help from NHS 111 if:" in urgent and "<li>swelling in one leg</li>" in urgent
    assert "<p>You do not need both.</p>" in urgent
    assert "Call 999 now if you have:" in emergency and "care-card--emergency" in emergency


def test_editing_a_card_changes_every_page_that_includes_it(make_site: MakeSite,
                                                            tmp_path: Path) -> None:
    root, _ = _site(make_site)
    build_site(Options(root=root))
    before = {p: (root / "_site" / p / "index.html").read_bytes()
              for p in ("clots", "iron", "overview")}
    card = root / "content" / "cards" / "clot-urgent.yaml"
    card.write_text(card.read_text().replace("  - swelling in one leg\n",
                                             "  - swelling in one leg\n  - warm skin\n"))
    incremental = build_site(Options(root=root))
    assert not incremental.problems.errors, _lines(incremental)
    after = {p: (root / "_site" / p / "index.html").read_bytes() for p in before}
    assert after["clots"] != before["clots"] and after["iron"] != before["iron"]
    assert b"<li>warm skin</li>" in after["clots"] and b"<li>warm skin</li>" in after["iron"]
    assert after["overview"] == before["overview"]  # (it includes no card)
    scratch = build_site(Options(root=root, out=tmp_path / "scratch", cache=False))
    assert not scratch.problems.errors
    for p in before:
        assert (tmp_path / "scratch" / p / "index.html").read_bytes() == after[p], p


def test_an_alarm_rule_needs_every_card_it_names(make_site: MakeSite) -> None:
    root, files = _site(make_site)
    iron = root / "content" / "iron.md"
    iron.write_text(files["content/iron.md"].replace("!!! card clot-urgent\n\n", ""))
    result = build_site(Options(root=root, write=False))
    assert _lines(result) == [
        "content/iron.md:15:1: error[missing-care-card]: mentions 'blood clot' but does not "
        "include the shared card 'clot-urgent' (add the line !!! card clot-urgent in its "
        "'When to get help' section)"]
    # the pregnancy variant stands in for the urgent card
    iron.write_text(files["content/iron.md"].replace("!!! card clot-urgent",
                                                     "!!! card clot-urgent-pregnancy"))
    assert not build_site(Options(root=root, write=False)).problems.errors
    # a rule is about articles: a phrase in capitals matches capitals only
    iron.write_text(files["content/iron.md"].replace("A blood clot needs checking.",
                                                     "Dvt is not DVT.").replace(
        "!!! card clot-urgent\n\n", ""))
    assert [p.code for p in build_site(Options(root=root, write=False)).problems.sorted()] \
        == ["missing-care-card"]
    iron.write_text(files["content/iron.md"].replace("A blood clot needs checking.",
                                                     "Dvt written so is not the acronym.")
                    .replace("!!! card clot-urgent\n\n", ""))
    assert not build_site(Options(root=root, write=False)).problems.errors


def test_definitions_and_rules_are_checked_where_they_are_written(make_site: MakeSite) -> None:
    root, files = _site(make_site)
    (root / "content" / "cards" / "clot-urgent.yaml").write_text(
        URGENT.replace("kind: urgent", "kind: urgnt").replace("{{urgent_service}}",
                                                                "{{urgent_servce}}"))
    (root / "content" / "cards" / "Bad Name.yaml").write_text(URGENT)
    (root / "site.yaml").write_text(files["site.yaml"].replace(
        "cards: [clot-urgent, clot-emergency]", "cards: [clot-urgent, clot-emergncy]"))
    lines = _lines(build_site(Options(root=root, write=False)))
    assert "content/cards/Bad Name.yaml:1:1: error[bad-care-card]: 'Bad Name' cannot be a " \
        "card's name (name the file in lowercase letters, digits and hyphens, e.g. " \
        "clot-urgent.yaml)" in lines
    assert any(line.startswith("content/cards/clot-urgent.yaml:1:7: error[bad-care-card]: ")
               and "urgnt" in line for line in lines), lines
    assert any(line.startswith("site.yaml:") and "'clot-emergncy'" in line and
               "did you mean 'clot-emergency'?" in line for line in lines), lines


def test_a_card_file_that_links_out_of_content_is_not_read(make_site: MakeSite,
                                                           tmp_path: Path) -> None:
    root, _ = _site(make_site, rules=False)
    secret = tmp_path / "secret.yaml"
    secret.write_text(URGENT)
    (root / "content" / "cards" / "linked.yaml").symlink_to(secret)
    lines = _lines(build_site(Options(root=root, write=False)))
    assert "content/cards/linked.yaml:1:1: error[io]: a symbolic link that points outside " \
        "content/ (copy the file into content/ instead)" in lines
