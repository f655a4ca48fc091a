"""Shared care cards: safety advice written once and included by name.

Owns `content/cards/<name>.yaml`, one card per file: its kind (`urgent`, `emergency`, ...),
its heading, its items and an optional closing paragraph, each of which may use the site's
`{{placeholders}}`; and `variant_of`, for a card that stands in for another (a pregnancy
version of the urgent clot card counts as the urgent clot card). An article includes one
with a line of its own, `!!! card clot-urgent`; every inclusion renders the same HTML (the
renderer expands it: `render.markup`).

A definition is checked against its schema (every problem at its line in the card's file),
its placeholders against `services:`, and `variant_of` against the other cards.
"""

from __future__ import annotations

import hashlib
import os
import re
from dataclasses import dataclass
from typing import Any

from ..errors import ProblemList, did_you_mean
from . import schema as s
from .config import CONFIG_FILE, PLACEHOLDER, SiteConfig
from .content import CONTENT_DIR, read_yaml
from .yamlio import Located

KINDS = ("emergency", "urgent", "non-urgent", "warning", "info")  # render.markup.CARE_KINDS
NAME = re.compile(r"[a-z0-9]+(?:-[a-z0-9]+)*\Z")
INCLUDE = re.compile(r"^!!! card[ \t]+(\S*)[ \t]*$", re.M)  # an article's `!!! card NAME` line

SCHEMA = {
    "kind": s.Field("choice", "the card's kind (its colour and urgency)", required=True,
                    choices=KINDS),
    "heading": s.Field("str", "what to do, ending with 'if:' when items follow",
                       required=True),
    "items": s.Field("list", "the signs, one per item", required=True),
    "text": s.Field("str", "a closing paragraph (such as 'Do not drive yourself.')"),
    "variant_of": s.Field("str", "the card this one stands in for (a pregnancy version)"),
}


@dataclass(frozen=True)
class Card:
    """One shared card, as its file defines it."""

    name: str
    kind: str
    heading: str
    items: tuple[str, ...]
    text: str = ""
    variant_of: str = ""

    @property
    def counts_as(self) -> frozenset[str]:
        """The names an inclusion of this card satisfies in the alarm rules."""
        return frozenset({self.name, self.variant_of} - {""})

    def markdown(self) -> str:
        """The card in the site's care-card syntax, as an article would write it inline."""
        lines = [f'!!! {self.kind} "{self.heading}"', *(f"    - {item}" for item in self.items)]
        if self.text:
            lines += ["", f"    {self.text}"]
        return "\n".join(lines)


Cards = dict[str, Card]


def load_cards(config: SiteConfig, problems: ProblemList) -> Cards:
    """Every card under content/cards/ (an edition's: content/CODE/cards/), by name (those
    with problems left out, reported)."""
    rel = cards_dir(config)
    folder = config.root / rel
    if not folder.is_dir() or folder.is_symlink():
        return {}
    cards: Cards = {}
    for file in sorted(os.listdir(folder)):
        if file.endswith(".yaml") and not file.startswith("."):
            card = _card(config, f"{rel}/{file}", problems)
            if card is not None:
                cards[card.name] = card
    _check_variants(cards, rel, problems)
    return cards


def cards_dir(config: SiteConfig) -> str:
    """The shared cards' folder of the edition `config` is for."""
    return f"{CONTENT_DIR}/{config.edition.prefix}cards"


def _card(config: SiteConfig, rel: str, problems: ProblemList) -> Card | None:
    """The card a file defines, or None (reported) when it cannot be one."""
    name = rel.rsplit("/", 1)[1].removesuffix(".yaml")
    if not NAME.match(name):
        problems.add("bad-care-card", f"'{name}' cannot be a card's name", rel,
                     hint="name the file in lowercase letters, digits and hyphens, "
                     "e.g. clot-urgent.yaml")
        return None
    loc = _parse(config, rel, problems)
    if loc is None:
        return None

    def report(code: str, message: str, line: int, col: int, hint: str) -> None:
        code = "bad-care-card" if code.startswith("card-") else code  # (the schema's codes)
        problems.add(code, message, rel, line, col, hint=hint)

    data = s.Checker(loc, report, "card").check(loc.value, SCHEMA, (), rel)
    if not data.get("heading") or not data.get("items") or data.get("kind") is None:
        _report_empty(data, loc, report)
        return None
    _check_placeholders(data, loc, config, report)
    return Card(name, data["kind"], data["heading"], tuple(map(str, data["items"])),
                data.get("text") or "", data.get("variant_of") or "")


def _parse(config: SiteConfig, rel: str, problems: ProblemList) -> Located | None:
    """The card file's YAML when it is a mapping (anything else reported)."""
    loc = read_yaml(config, rel, problems)
    if loc is None:
        return None
    if not isinstance(loc.value, dict):
        problems.add("bad-care-card", "a card is a mapping of kind:, heading: and items:", rel,
                     hint="see content/cards/ in a new site (healthsite init)")
        return None
    return loc


def _report_empty(data: dict[str, Any], loc: Located, report: s.Report) -> None:
    """A card with no heading or no items says nothing: `empty-care-card`."""
    if data.get("kind") is not None and data.get("heading") is not None and \
            data.get("items") is not None:
        line, col = loc.at("items")
        report("empty-care-card", "the card has no items", line, col,
               "list the signs under items:, one per line")


def _check_placeholders(data: dict[str, Any], loc: Located, config: SiteConfig,
                        report: s.Report) -> None:
    """Each placeholder a card uses names a service of site.yaml."""
    places: list[tuple[tuple[str | int, ...], str]] = [
        (("heading",), data["heading"]), (("text",), data.get("text") or "")]
    places += [(("items", i), str(item)) for i, item in enumerate(data["items"])]
    for path, text in places:
        for m in PLACEHOLDER.finditer(text):
            if m.group(1) not in config.services:
                line, col = loc.at(*path)
                report("bad-placeholder", f"unknown placeholder '{{{{{m.group(1)}}}}}'", line,
                       col, did_you_mean(m.group(1), config.services)
                       or f"known: {', '.join(sorted(config.services))}")


def _check_variants(cards: Cards, folder: str, problems: ProblemList) -> None:
    for card in list(cards.values()):
        if card.variant_of and card.variant_of not in cards:
            problems.add("bad-care-card", f"variant_of names no card: '{card.variant_of}'",
                         f"{folder}/{card.name}.yaml",
                         hint=did_you_mean(card.variant_of, cards) or "name a card's file")


def cards_digest(cards: Cards) -> str:
    """Everything an inclusion renders from, as one digest (for the render memo's key)."""
    return hashlib.sha256(repr(sorted(cards.items())).encode()).hexdigest()


def check_rules(config: SiteConfig, cards: Cards, problems: ProblemList) -> None:
    """Every card an alarm rule names is defined among the cards of the edition `config` is
    for (`cards`: an edition's pages include its own); each other one is reported at its
    place in site.yaml."""
    edition = config.edition
    whose = "" if edition.default else f" of the '{edition.code}' edition"
    for rule in config.alarm_rules:
        for name, (line, col) in zip(rule.cards, rule.places, strict=True):
            if name not in cards:
                problems.add("bad-care-card", f"alarm_rules names no shared card{whose}: "
                             f"'{name}'", CONFIG_FILE, line, col, hint=did_you_mean(name, cards)
                             or f"define it in {cards_dir(config)}/{name}.yaml")
