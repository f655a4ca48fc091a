"""The renderer: a page spec made into bytes with the templates and checked for resources
from other sites, and the whole site rendered that way, in one process, with no cache (the
reference the incremental layer, `healthsite.incremental.pages`, must agree with)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ..check.checks import check_file
from ..errors import ProblemList
from ..link.graph import TopicGraph
from ..link.related import ReadingNext
from ..load.config import SiteConfig
from ..load.content import GlossaryEntry
from ..render.markup import Surroundings
from .plan import PageSpec, Plan, plan_pages
from .templating import Templates, render, static_files


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


def render_site(config: SiteConfig, graph: TopicGraph, nxt: ReadingNext,
                glossary: list[GlossaryEntry] | Mapping[str, Surroundings], tpl: Templates,
                problems: ProblemList) -> dict[str, bytes]:
    """Every page rendered (and checked as it is) and every static file read (and checked,
    but not for resources from other sites: that is left to the caller), with no cache."""
    assets = static_files(config.root, problems)
    return render_plan(plan_pages(config, graph, nxt, glossary, assets), tpl, problems)
