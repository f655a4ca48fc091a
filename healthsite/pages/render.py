"""The renderer: a page spec made into bytes with the templates and checked for resources
from other sites, and the whole site rendered that way, in one process, with no cache (the
reference the incremental layer, `healthsite.incremental.pages`, must agree with)."""

from __future__ import annotations

from collections.abc import Collection, Mapping
from typing import Any

from ..check.checks import check_file
from ..errors import ProblemList
from ..link.graph import TopicGraph
from ..link.related import ReadingNext
from ..load.config import SiteConfig
from ..load.content import GlossaryEntry, slug_problem
from ..render.markup import Surroundings
from .plan import PageSpec, Plan, plan_pages
from .templating import Templates, page_context, render, static_files


def render_page(tpl: Templates, path: str, name: str, context: dict[str, Any], what: str,
                problems: ProblemList) -> bytes | None:
    """One page rendered from a template and checked for resources from other sites."""
    data = render(tpl, name, context, what, problems)
    if data is not None:
        check_file(path, data, problems)
    return data


def render_spec(tpl: Templates, spec: PageSpec, problems: ProblemList) -> bytes | None:
    """One page of a plan rendered and checked (None if it could not be rendered); its
    problems go to `problems`."""
    return render_page(tpl, spec.path, spec.template, spec.view(), spec.what, problems)


def render_plan(plan: Plan, tpl: Templates, problems: ProblemList) -> dict[str, bytes]:
    """Every file of a plan: its static files, then every page that could be rendered."""
    out = dict(plan.files)
    for spec in plan.specs:
        found = ProblemList(problems.overrides)
        data = render_spec(tpl, spec, found)
        problems.extend(found.items())
        if data is not None:
            out[spec.path] = data
    return out


def draft_notes(drafts: Collection[str], problems: ProblemList) -> dict[str, tuple[str, ...]]:
    """The problems of each draft file, as its page shows them (line, message and hint)."""
    notes: dict[str, list[str]] = {}
    for p in problems.sorted():
        if p.path in drafts:
            _, message, hint = p.shown()
            notes.setdefault(p.path, []).append(
                f"line {p.line}: {message}" + (f" ({hint})" if hint else ""))
    return {k: tuple(v) for k, v in notes.items()}


def draft_page(rel: str) -> str:
    """Where the page of a draft that cannot be an article goes: named after its file
    (content/wip.md: wip/index.html)."""
    return rel.rsplit("/", 1)[-1].removesuffix(".md") + "/index.html"


def draft_pages(site: dict[str, Any], tpl: Templates, files: Collection[str],
                taken: Collection[str], problems: ProblemList) -> dict[str, bytes]:
    """A page for each draft file that could not be made an article (its front matter
    cannot be read), at the address its file name would give, saying what to fix."""
    notes = draft_notes(files, problems)
    out: dict[str, bytes] = {}
    for rel in sorted(files):
        path = draft_page(rel)
        if slug_problem(path.removesuffix("/index.html")) or path in taken:
            continue
        context = page_context(site, None, [], draft={"path": rel, "problems": notes.get(rel, ())})
        data = render_page(tpl, path, "draft.html", context, rel, problems)
        if data is not None:
            out[path] = data
    return out


def render_site(config: SiteConfig, graph: TopicGraph, nxt: ReadingNext,
                glossary: list[GlossaryEntry] | Mapping[str, Surroundings], tpl: Templates,
                problems: ProblemList) -> dict[str, bytes]:
    """Every page rendered (and checked as it is) and every static file read (and checked,
    but not for resources from other sites: that is left to the caller), with no cache."""
    assets = static_files(config.root, problems)
    return render_plan(plan_pages(config, graph, nxt, glossary, assets), tpl, problems)
