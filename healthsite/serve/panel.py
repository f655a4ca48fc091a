"""The preview's problems in the page: the error overlay (blocking, while the latest build has
errors) and the problems panel (on every page: the count of the site's problems, which opens
their list; open by itself on a page that a problem concerns). Markup only, styled by STYLE
(served at http.STYLE_PATH: the pages' Content-Security-Policy allows no inline style), and
added to pages as the preview serves them, never written into a build's output."""

from __future__ import annotations

import html
from collections.abc import Iterable, Sequence

from ..errors import Problem
from .problems import Counts, Report

LISTED = 100  # problems listed in one list of the panel; the terminal prints them all


def item(p: Problem, href: str | None = None) -> str:
    """One problem as a list item: where, level and code, message, hint; where, as a link
    to the page it concerns when there is one (`href`)."""
    path, message, hint = (html.escape(t) for t in p.shown())
    where = f"<code>{path}:{p.line}:{p.col}</code>"
    if href is not None:
        where = f'<a href="{html.escape(href)}">{where}</a>'
    return (f"<li>{where} <strong>{p.level.value}[{html.escape(p.code)}]</strong> "
            f"{message}" + (f"<br><em>{hint}</em>" if hint else "") + "</li>")


def overlay(problems: Iterable[Problem]) -> bytes:
    """The error overlay shown on every page while the latest build has errors."""
    items = "".join(item(p) for p in problems)
    return ('<div id="healthsite-overlay" role="alert"><h2>The site did not build</h2>'
            "<p>Fix these problems and save; this page reloads by itself.</p>"
            f"<ol>{items}</ol></div>").encode()


def panel(report: Report, page: str | None) -> bytes:
    """The problems panel for `page` (a file of the output, `iron/index.html`; None for the
    404 page): a disclosure whose button counts the site's problems, open when some concern
    this page (they come first), listing every problem of the site."""
    here = report.on(page)
    mine = set(here)
    elsewhere = [p for p in report.problems if p not in mine]
    label = _label(report.counts, len(here))
    lists = ""
    if here:
        lists += _list("This page", here, None)
    if elsewhere:
        lists += _list("Elsewhere in the site" if here else "In the site", elsewhere, report)
    if not report.problems:
        lists = "<p>The latest build found no problems.</p>"
    state = " open" if here else ""
    kind = _worst(report.counts)
    return (f'<aside id="healthsite-problems" class="hs-{kind}" '
            f'aria-label="Problems found by the preview"><details{state}>'
            # (a list taller than its box scrolls: reachable by keyboard too)
            f'<summary>{label}</summary><div tabindex="0" role="group" '
            f'aria-label="The problems">{lists}'
            "<p>Only in the preview: the published site has no such panel.</p>"
            "</div></details></aside>").encode()


def _label(counts: Counts, here: int) -> str:
    """The panel's button: `Preview: 2 warnings, 1 notice (1 on this page)`."""
    on_page = f" ({here} on this page)" if here else ""
    return f"Preview: {html.escape(counts.short())}{on_page}"


def _worst(counts: Counts) -> str:
    """The most serious level there is, for the panel's colour: error, warning, notice, ok."""
    for n, name in ((counts.errors, "error"), (counts.warnings, "warning"),
                    (counts.notices, "notice")):
        if n:
            return name
    return "ok"


def _list(title: str, problems: Sequence[Problem], links: Report | None) -> str:
    """A titled list of at most LISTED problems (each linked to its page, when it has one,
    with `links`), then how many more the terminal shows."""
    items = "".join(item(p, links.url(p.path) if links else None) for p in problems[:LISTED])
    more = len(problems) - LISTED
    rest = (f"<p>And {more} more: the terminal that runs the preview lists them all.</p>"
            if more > 0 else "")
    return f'<p class="hs-title">{title}</p><ol>{items}</ol>{rest}'


STYLE = (
    b"#healthsite-overlay{position:fixed;inset:0;z-index:99999;overflow:auto;"
    b"background:rgba(20,20,20,.94);color:#fff;font:16px/1.5 system-ui,sans-serif;"
    b"padding:2rem}#healthsite-overlay h2{color:#ff8a80;margin-top:0}"
    b"#healthsite-overlay ol{padding-left:1.5rem}#healthsite-overlay code{color:inherit}\n"
    # the panel: in the page's flow at its top (it covers nothing and, being in the page as
    # served, moves nothing after it is shown), as wide as the page and never wider
    b"#healthsite-problems{display:block;box-sizing:border-box;width:100%;max-width:100%;"
    b"margin:0;padding:0;border-bottom:3px solid #5a5a5a;background:#f4f4f4;color:#1b1b1b;"
    b"font:15px/1.5 system-ui,sans-serif;text-align:left;overflow-wrap:anywhere}"
    b"#healthsite-problems.hs-error{border-color:#b00020;background:#fdecee}"
    b"#healthsite-problems.hs-warning{border-color:#8a5a00;background:#fff4d6}"
    b"#healthsite-problems.hs-notice{border-color:#1d4f91;background:#e9f1fb}"
    b"#healthsite-problems summary{cursor:pointer;padding:.35rem 1rem;font-weight:600;"
    b"color:#1b1b1b}"
    b"#healthsite-problems summary:focus-visible{outline:3px solid #1b1b1b;"
    b"outline-offset:-3px}"
    b"#healthsite-problems details>div{padding:0 1rem .5rem;max-height:40vh;overflow:auto}"
    b"#healthsite-problems details>div:focus-visible{outline:3px solid #1b1b1b;"
    b"outline-offset:-3px}"
    b"#healthsite-problems p{margin:.4rem 0}#healthsite-problems .hs-title{font-weight:600}"
    b"#healthsite-problems ol{margin:0;padding-left:1.5rem}"
    b"#healthsite-problems li{margin:.2rem 0}"
    b"#healthsite-problems code{font:13px/1.4 ui-monospace,monospace;color:inherit;"
    b"background:none}"
    b"#healthsite-problems a{color:#0b3d91;text-decoration:underline}\n")
