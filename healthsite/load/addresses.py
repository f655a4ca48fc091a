"""Old addresses an editor writes (an article's `aliases:`, site.yaml's `retired:`): what
makes one usable. Checked where they are read, used by `check.urls`."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

_ADDRESS = re.compile(r"/(?:[A-Za-z0-9._~-]+/)*(?:[A-Za-z0-9._~-]+)?\Z")
HINT = "write the old address as the browser shows it after the site's name, e.g. /old-page/"


def address_problem(address: str) -> str:
    """What is wrong with an old address, or "" when it is usable."""
    if not _ADDRESS.match(address):
        return ("an address on this site starts with / and has only letters, digits and "
                "- . _ ~ between its slashes")
    if address == "/" or any(part in (".", "..") for part in address.split("/")):
        return "an address of its own is needed (not the home page, no . or .. parts)"
    return ""


def usable(addresses: list[Any], where: Callable[[int], tuple[int, int]], key: str,
           report: Callable[[str, str, int, int, str], None], code: str) -> list[str]:
    """The addresses that are usable; each other one reported (`code`) at `where(i)`."""
    kept: list[str] = []
    for i, address in enumerate(addresses):
        why = address_problem(address) if isinstance(address, str) else "it is not text"
        if why:
            line, col = where(i)
            report(code, f"'{key}' item {i + 1}: {why}", line, col, HINT)
        else:
            kept.append(address)
    return kept
