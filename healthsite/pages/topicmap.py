"""The topic map: an SVG picture of the topic graph, drawn at build time (no JavaScript).

Articles are grouped in a box per topic (their first, most specific topic), boxes are laid
out in a grid in topic-tree order, and body links are drawn as lines between articles. Every
article is a link; the picture has a title, a description and a text alternative beside it."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from html import escape

from ..link.graph import TopicGraph

BOX_W, ROW_H, HEAD_H, GAP, COLS = 300, 30, 44, 24, 3
MAX_ROWS = 12  # a topic with more articles shows the first ones and "+ N more"


@dataclass(frozen=True)
class Node:
    slug: str
    x: float
    y: float


def tree_order(graph: TopicGraph) -> list[str]:
    """Topics depth-first in declaration order."""
    out: list[str] = []
    seen: set[str] = set()
    stack = list(reversed(graph.roots()))
    while stack:  # (without recursion: a tree may be deep)
        slug = stack.pop()
        if slug in seen:
            continue
        seen.add(slug)
        out.append(slug)
        stack.extend(reversed(graph.children.get(slug, ())))
    return out


# the map's words (English: another language's page gives its catalogue's `gettext`)
TITLE = "Map of topics and articles"
DESCRIPTION = ("%(articles)s articles grouped in %(topics)s topic boxes. Lines join articles "
               "that link to each other. The same information is listed as text below the map.")
MORE = "+ %(count)s more"


def draw(graph: TopicGraph, gettext: Callable[[str], str] = str) -> str:
    """The SVG markup of the map, its words in the page's language (`gettext`)."""
    groups = _groups(graph)
    topics = [t for t in tree_order(graph) if t in groups]
    nodes: dict[str, Node] = {}
    boxes, height = _layout(graph, topics, groups, nodes, gettext(MORE))
    width = GAP + COLS * (BOX_W + GAP)
    lines = _lines(graph, nodes)
    return (
        f'<svg class="topic-map" viewBox="0 0 {width} {height:.0f}" role="group" '
        f'aria-labelledby="map-title map-desc" xmlns="http://www.w3.org/2000/svg">'
        f'<title id="map-title">{escape(gettext(TITLE))}</title>'
        f'<desc id="map-desc">'
        f'{escape(gettext(DESCRIPTION) % {"articles": len(nodes), "topics": len(topics)})}'
        f'</desc>'
        f'<g class="links" aria-hidden="true">{"".join(lines)}</g>{"".join(boxes)}</svg>')


def _groups(graph: TopicGraph) -> dict[str, list[str]]:
    """The articles (not site pages) by their first topic."""
    groups: dict[str, list[str]] = {}
    for slug, a in graph.articles.items():
        if a.is_article and a.meta.topics:
            groups.setdefault(a.meta.topics[0], []).append(slug)
    return groups


def _layout(graph: TopicGraph, topics: list[str], groups: dict[str, list[str]],
            nodes: dict[str, Node], more_text: str) -> tuple[list[str], float]:
    """The topic boxes, filled column by column in turn (each article's place noted in
    `nodes`), and the picture's height."""
    boxes: list[str] = []
    col_y = [GAP] * COLS
    for i, topic in enumerate(topics):
        col = i % COLS
        x, y = GAP + col * (BOX_W + GAP), col_y[col]
        members = sorted(groups[topic])
        col_y[col] += _height(members) + GAP
        boxes.append(_box(graph, topic, (x, y), members, nodes, more_text))
    return boxes, max(col_y) if topics else 2 * GAP


def _lines(graph: TopicGraph, nodes: dict[str, Node]) -> list[str]:
    """A line for each pair of articles on the map that link to each other (either way)."""
    pairs = sorted({tuple(sorted((s, t))) for s, targets in graph.links_out.items()
                    for t in targets if s in nodes and t in nodes})
    return [f'<line x1="{nodes[a].x:.0f}" y1="{nodes[a].y:.0f}" x2="{nodes[b].x:.0f}" '
            f'y2="{nodes[b].y:.0f}"/>' for a, b in pairs]


def _height(members: list[str]) -> int:
    """The height of a topic's box: a row per article shown, and one for "+ N more"."""
    return HEAD_H + ROW_H * (min(len(members), MAX_ROWS) + (len(members) > MAX_ROWS)) + 8


def _box(graph: TopicGraph, topic: str, at: tuple[float, float], members: list[str],
         nodes: dict[str, Node], more_text: str) -> str:
    """One topic's box at (x, y) `at`, with its first `MAX_ROWS` articles (`members`) and,
    for the rest, `more_text` ("+ %(count)s more")."""
    x, y = at
    t = graph.topics[topic]
    shown = members[:MAX_ROWS]
    more = len(members) - len(shown)
    height = _height(members)
    parts = [f'<g class="topic-box"><rect x="{x}" y="{y}" width="{BOX_W}" height="{height:.0f}" '
             f'rx="8"/><a href="../topics/{topic}/"><text class="topic-title" x="{x + 12}" '
             f'y="{y + 28}">{escape(_short(t.title, 27))}</text></a>']
    for row, slug in enumerate(shown):
        a = graph.articles[slug]
        cy = y + HEAD_H + ROW_H * row + ROW_H / 2
        nodes[slug] = Node(slug, x + 20, cy)
        name = slug[len(a.lang) + 1:] if a.lang else slug  # (its address in its edition)
        parts.append(f'<a href="../{name}/"><circle cx="{x + 20}" cy="{cy:.0f}" r="7"/>'
                     f'<text x="{x + 34}" y="{cy + 5:.0f}">{escape(_short(a.title, 31))}'
                     '</text></a>')
    if more:
        cy = y + HEAD_H + ROW_H * len(shown) + ROW_H / 2
        parts.append(f'<text class="more" x="{x + 34}" y="{cy + 5:.0f}">'
                     f'{escape(more_text % {"count": more})}</text>')
    parts.append("</g>")
    return "".join(parts)


def _short(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"
