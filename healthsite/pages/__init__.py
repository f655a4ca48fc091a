"""Stage 6 (pages): every page of the site, rendered: {output path: bytes}.

`plan.py` lists the pages as specs (where each goes, its template, its view made lazily and
its declared inputs), `views.py` makes the views of the site's own pages, and `render.py`
renders specs with the templates and checks them. Reusing unchanged pages, rendering across
processes and writing pages as they come are the incremental layer's
(`healthsite.incremental.pages`)."""

from .plan import Bodies, PageInputs, PageSpec, Plan, plan_pages
from .render import draft_notes, draft_pages, render_page, render_plan, render_site, render_spec
from .views import site_base, topic_tree, topic_view

__all__ = ["Bodies", "PageInputs", "PageSpec", "Plan", "draft_notes", "draft_pages",
           "plan_pages", "render_page",
           "render_plan", "render_site", "render_spec", "site_base", "topic_tree",
           "topic_view"]
