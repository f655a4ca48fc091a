"""The topic map: an SVG picture of the topic graph, drawn at build time (no JavaScript).

Articles are grouped in a box per topic (their first, most specific topic), boxes are laid
out in a grid in topic-tree order, and body links are drawn as lines between articles. Every
article is a link, its title written in full (wrapped onto more lines when long); the picture
has a title, a description and a text alternative beside it (the page's list, which is what
small screens show instead of the picture).

Fewer lines cross (`untangle`): a line leaves a box by the side that faces the other end,
neighbouring boxes (side by side, or one above the other) swap places when that makes fewer
crossings (one pass, on maps small enough: `SWAP_WORK`), and the articles in each box are
ordered by the barycentre of the articles they link to (a few sweeps, the best arrangement
kept, ties by slug). Everything is deterministic: the same
graph gives the same bytes."""

from __future__ import annotations

import itertools
from bisect import bisect_left, bisect_right
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from fractions import Fraction
from html import escape

from ..link.graph import TopicGraph

BOX_W, ROW_H, LINE_H, HEAD_H, GAP, COLS = 300, 30, 19, 44, 24, 3
MAX_ROWS = 12  # a topic with more articles shows the first ones and "+ N more"
TEXT_X, TITLE_X = 34, 12  # where an article's and a topic's words start in its box
SWEEPS = 4  # barycentre passes over the boxes (the best arrangement is kept)
SWAP_WORK = 600_000  # the most (lines² × topics) for which boxes are tried in other places

# Widths of characters in ems, generous for the widest common sans-serif (DejaVu Sans), so
# that wrapped words fit their box whatever font the reader's system gives `system-ui`.
_NARROW, _WIDE = frozenset("fijlrt.,:;'!|()[] "), frozenset("mwMW%@")


@dataclass(frozen=True)
class Node:
    """An article's dot: its slug, where it is, and its box's left and right edges."""

    slug: str
    x: float
    y: float
    left: float = 0
    right: float = 0


Segment = tuple[tuple[float, float], tuple[float, float]]


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


@dataclass(frozen=True)
class Plan:
    """Where everything goes: the topics in order, each one's articles in order (those
    shown), the dots, the lines and the picture's height."""

    topics: list[str]
    members: dict[str, list[str]]
    nodes: dict[str, Node]
    segments: list[tuple[str, str, Segment]]
    height: float


def draw(graph: TopicGraph, gettext: Callable[[str], str] = str) -> str:
    """The SVG markup of the map, its words in the page's language (`gettext`)."""
    plan = layout(graph)
    width = GAP + COLS * (BOX_W + GAP)
    boxes = [_box(graph, topic, plan, gettext(MORE)) for topic in plan.topics]
    counts = {"articles": len(plan.nodes), "topics": len(plan.topics)}
    lines = [f'<line x1="{p[0]:.0f}" y1="{p[1]:.0f}" x2="{q[0]:.0f}" y2="{q[1]:.0f}"/>'
             for _, _, (p, q) in plan.segments]
    return (
        f'<svg class="topic-map" viewBox="0 0 {width} {plan.height:.0f}" role="group" '
        f'aria-labelledby="map-title map-desc" xmlns="http://www.w3.org/2000/svg">'
        f'<title id="map-title">{escape(gettext(TITLE))}</title>'
        f'<desc id="map-desc">'
        f'{escape(gettext(DESCRIPTION) % counts)}</desc>'
        f'<g class="links" aria-hidden="true">{"".join(lines)}</g>{"".join(boxes)}</svg>')


def layout(graph: TopicGraph, untangle: bool = True) -> Plan:
    """The map's plan; without `untangle`, articles in slug order and lines from dot to dot
    (the map as it was drawn before: for measuring what untangling gains)."""
    groups = _groups(graph)
    topics = [t for t in tree_order(graph) if t in groups]
    members = {t: sorted(groups[t]) for t in topics}
    pairs = _pairs(graph, {s for m in members.values() for s in m[:MAX_ROWS]})
    best = _place(graph, topics, members, pairs, untangle)
    if untangle and len(pairs) ** 2 * len(topics) <= SWAP_WORK:
        best = _swap_boxes(graph, best, pairs)
    best_count = _count(best) if untangle else 0  # (counted once, not at every sweep)
    for _ in range(SWEEPS if untangle else 0):
        swept = _barycentre(members, best.nodes, pairs)
        if swept in (best.members, members):
            break  # (the best arrangement again, or the last one tried: so would every
            # sweep after this one be, while the best stays the same)
        members = swept
        tried = _place(graph, best.topics, members, pairs, untangle)
        if (tried_count := _count(tried)) < best_count:
            best, best_count = tried, tried_count
    return best


def _count(plan: Plan) -> int:
    """How many of the plan's lines cross."""
    return crossings([s for _, _, s in plan.segments])


def _swap_boxes(graph: TopicGraph, plan: Plan, pairs: list[tuple[str, str]]) -> Plan:
    """One pass over the boxes in order, each swapping places with its right-hand and then
    its lower neighbour when that makes fewer crossings."""
    best, count = plan, _count(plan)
    for i in range(len(plan.topics)):
        for j in (i + 1, i + COLS):
            if j < len(best.topics):
                order = list(best.topics)
                order[i], order[j] = order[j], order[i]
                tried = _place(graph, order, best.members, pairs, True)
                if (tried_count := _count(tried)) < count:
                    best, count = tried, tried_count
    return best


def _groups(graph: TopicGraph) -> dict[str, list[str]]:
    """The articles (not site pages) by their first topic."""
    groups: dict[str, list[str]] = {}
    for slug, a in graph.articles.items():
        if a.is_article and a.meta.topics:
            groups.setdefault(a.meta.topics[0], []).append(slug)
    return groups


def _pairs(graph: TopicGraph, shown: set[str]) -> list[tuple[str, str]]:
    """Each pair of articles on the map that link to each other (either way), sorted."""
    return sorted({(min(s, t), max(s, t)) for s, targets in graph.links_out.items()
                   for t in targets if s in shown and t in shown and s != t})


def _barycentre(members: dict[str, list[str]], nodes: dict[str, Node],
                pairs: list[tuple[str, str]]) -> dict[str, list[str]]:
    """Each box's shown articles ordered by the mean height of the articles they link to
    (one with no links keeps its place; ties by its place, then slug)."""
    around: dict[str, list[float]] = {}
    for a, b in pairs:
        around.setdefault(a, []).append(nodes[b].y)
        around.setdefault(b, []).append(nodes[a].y)

    def key(item: tuple[int, str]) -> tuple[float, int, str]:
        place, slug = item
        ys = around.get(slug)
        return (sum(ys) / len(ys) if ys else nodes[slug].y, place, slug)

    return {t: [s for _, s in sorted(enumerate(m[:MAX_ROWS]), key=key)] + m[MAX_ROWS:]
            for t, m in members.items()}


def _place(graph: TopicGraph, topics: list[str], members: dict[str, list[str]],
           pairs: list[tuple[str, str]], ports: bool) -> Plan:
    """The boxes filled column by column in turn, each article's dot noted, and the lines
    (from the side of each box facing the other end with `ports`, else dot to dot)."""
    nodes: dict[str, Node] = {}
    col_y: list[float] = [GAP] * COLS
    for i, topic in enumerate(topics):
        col = i % COLS
        x, y = GAP + col * (BOX_W + GAP), col_y[col]
        row_y = y + HEAD_H + ROW_H / 2 + _lines_height(_wrap(graph.topics[topic].title, True))
        for slug in members[topic][:MAX_ROWS]:
            nodes[slug] = Node(slug, x + 20, row_y, x, x + BOX_W)
            row_y += ROW_H + LINE_H * (len(_wrap(graph.articles[slug].title)) - 1)
        col_y[col] = _box_bottom(members[topic], row_y) + GAP
    segments = [(a, b, _segment(nodes[a], nodes[b], ports)) for a, b in pairs]
    return Plan(topics, members, nodes, segments, max(col_y) if topics else 2 * GAP)


def _segment(a: Node, b: Node, ports: bool) -> Segment:
    """The line between two dots: with `ports`, from the edges of their boxes that face each
    other (left edges when the boxes are in one column)."""
    if not ports:
        return (a.x, a.y), (b.x, b.y)
    if a.left == b.left:
        return (a.left, a.y), (b.left, b.y)
    first, second = (a, b) if a.left < b.left else (b, a)
    return (first.right, first.y), (second.left, second.y)


def _box_bottom(members: list[str], row_y: float) -> float:
    """The bottom of a box whose next row would be at `row_y` (a row for "+ N more")."""
    return row_y - ROW_H / 2 + ROW_H * (len(members) > MAX_ROWS) + 8


def _lines_height(lines: list[str]) -> float:
    """The extra height of a topic title written on more than one line."""
    return LINE_H * (len(lines) - 1)


def _box(graph: TopicGraph, topic: str, plan: Plan, more_text: str) -> str:
    """One topic's box with its shown articles and, for the rest, `more_text`
    ("+ %(count)s more")."""
    members = plan.members[topic]
    shown = members[:MAX_ROWS]
    first = plan.nodes[shown[0]]
    x = first.left
    title = _wrap(graph.topics[topic].title, True)
    y = first.y - ROW_H / 2 - HEAD_H - _lines_height(title)
    last = graph.articles[shown[-1]]
    bottom = _box_bottom(members, plan.nodes[shown[-1]].y + ROW_H
                         + LINE_H * (len(_wrap(last.title)) - 1))
    parts = [f'<g class="topic-box"><rect x="{x:.0f}" y="{y:.0f}" width="{BOX_W}" '
             f'height="{bottom - y:.0f}" rx="8"/><a href="../topics/{topic}/">'
             f'{_text("topic-title", x + TITLE_X, y + 28, title)}</a>']
    for slug in shown:
        a, node = graph.articles[slug], plan.nodes[slug]
        name = slug[len(a.lang) + 1:] if a.lang else slug  # (its address in its edition)
        parts.append(f'<a href="../{name}/"><circle cx="{node.x:.0f}" cy="{node.y:.0f}" r="7"/>'
                     f'{_text(None, x + TEXT_X, node.y + 5, _wrap(a.title))}</a>')
    if len(members) > len(shown):
        parts.append(_text("more", x + TEXT_X, bottom - 8 - ROW_H / 2 + 5,
                           [more_text % {"count": len(members) - len(shown)}]))
    parts.append("</g>")
    return "".join(parts)


def _text(cls: str | None, x: float, y: float, lines: Sequence[str]) -> str:
    """A text element at (x, y), each of `lines` on a line of its own."""
    attr = f' class="{cls}"' if cls else ""
    spans = "".join(f'<tspan x="{x:.0f}" dy="{LINE_H if i else 0}">{escape(line)}</tspan>'
                    for i, line in enumerate(lines))
    return f'<text{attr} x="{x:.0f}" y="{y:.0f}">{spans}</text>'


def text_width(text: str, bold: bool = False) -> float:
    """A generous estimate of the width of `text` in pixels, as the map writes an
    article's title (15 px) or, `bold`, a topic's (17 px bold)."""
    ems = sum(0.34 if c in _NARROW else 0.98 if c in _WIDE else 0.78 if c.isupper() else 0.64
              for c in text)
    return ems * (17 * 1.1 if bold else 15)


def _wrap(text: str, bold: bool = False) -> list[str]:
    """`text` in lines that fit a box (a word too long for a line is a line of its own)."""
    room = BOX_W - (TITLE_X if bold else TEXT_X) - 10
    lines: list[str] = []
    for word in text.split():
        if lines and text_width(f"{lines[-1]} {word}", bold) <= room:
            lines[-1] = f"{lines[-1]} {word}"
        else:
            lines.append(word)
    return lines or [""]


def crossings(segments: Sequence[Segment]) -> int:
    """How many pairs of `segments` cross (touching at an end, as lines from one dot or
    one port do, or lying along one another, is not crossing).

    The map's lines run between a few upright lines (the boxes' edges), so they fall into
    a few families, by the span of x they cover. Two lines of families whose spans
    overlap cross exactly when their order (by height, worked out exactly) at one end of
    the overlap is the opposite of their order at the other: counted for each pair of
    families by sorting and a Fenwick tree, as inversions. An upright line crosses a line
    that spans its x when the other passes strictly between its ends. A thousand lines
    take a hundredth of a second. Segments of many spans are compared pair by pair
    (`_pairwise`), which counts the same."""
    spans: dict[tuple[float, float], list[tuple[float, float]]] = {}
    upright: dict[float, list[tuple[float, float]]] = {}
    for (ax, ay), (bx, by) in segments:
        if ax == bx:
            if ay != by:  # (a point crosses nothing)
                upright.setdefault(ax, []).append((min(ay, by), max(ay, by)))
            continue
        if bx < ax:
            ax, ay, bx, by = bx, by, ax, ay
        spans.setdefault((ax, bx), []).append((ay, by))
    if len(spans) + len(upright) > FAMILIES:
        return _pairwise(segments)
    families = sorted(spans.items())
    count = 0
    for i, ((a, b), one) in enumerate(families):
        count += _flips(one)
        for (c, d), two in families[i + 1:]:
            lo, hi = max(a, c), min(b, d)
            if lo < hi:
                count += _flips([(_at(a, b, s, lo), _at(a, b, s, hi)) for s in one],
                                [(_at(c, d, s, lo), _at(c, d, s, hi)) for s in two])
        for x, bars in upright.items():
            if a < x < b:
                tops, bottoms = sorted(t for t, _ in bars), sorted(u for _, u in bars)
                for s in one:  # (bars with top < y, less those with bottom <= y)
                    y = _at(a, b, s, x)
                    count += bisect_left(tops, y) - bisect_right(bottoms, y)
    return count


FAMILIES = 24  # more spans than this (not a map's lines): every pair is compared


def _at(a: float, b: float, ends: tuple[float, float], x: float) -> float | Fraction:
    """The exact height at `x` of the line from (a, ends[0]) to (b, ends[1])."""
    y1, y2 = ends
    if x == a:
        return y1
    if x == b:
        return y2
    return Fraction(y1) + (Fraction(y2) - Fraction(y1)) * (Fraction(x) - Fraction(a)) \
        / (Fraction(b) - Fraction(a))


Ends = tuple[float | Fraction, float | Fraction]


def _flips(first: Sequence[Ends], second: Sequence[Ends] | None = None) -> int:
    """How many pairs (within `first`; or, given `second`, one of each) are in strictly
    opposite orders by their first and by their second values."""
    items = [(p, q, 0) for p, q in first]
    if second is not None:
        items += [(p, q, 1) for p, q in second]
    rank = {q: r for r, q in enumerate(sorted({q for _, q, _ in items}), 1)}
    size = len(rank)
    trees, inserted = [[0] * (size + 1), [0] * (size + 1)], [0, 0]
    items.sort(key=lambda item: item[0])
    count = 0
    for _, same in itertools.groupby(items, key=lambda item: item[0]):
        group = list(same)  # (equal first values: no pair among them is counted)
        for _, q, colour in group:
            other = colour if second is None else 1 - colour
            tree, r, below = trees[other], rank[q], 0
            while r:  # how many of the other colour so far have a second value <= q
                below += tree[r]
                r -= r & -r
            count += inserted[other] - below
        for _, q, colour in group:
            tree, r = trees[colour], rank[q]
            while r <= size:
                tree[r] += 1
                r += r & -r
            inserted[colour] += 1
    return count


def _pairwise(segments: Sequence[Segment]) -> int:
    """`crossings`, comparing each segment only with those whose heights and widths overlap
    its own (sorted by their tops)."""
    spans = sorted((min(a[1], b[1]), max(a[1], b[1]), min(a[0], b[0]), max(a[0], b[0]), a, b)
                   for a, b in segments)
    count = 0
    for i, (_, bottom, left, right, (ax, ay), (bx, by)) in enumerate(spans):
        ux, uy = bx - ax, by - ay
        for j in range(i + 1, len(spans)):
            top2, _, left2, right2, (cx, cy), (dx, dy) = spans[j]
            if top2 > bottom:
                break  # (and every one after it starts lower still)
            if left2 > right or right2 < left:
                continue
            # c and d on either side of a-b, and a and b on either side of c-d
            if (ux * (cy - ay) - uy * (cx - ax)) * (ux * (dy - ay) - uy * (dx - ax)) < 0:
                vx, vy = dx - cx, dy - cy
                if (vx * (ay - cy) - vy * (ax - cx)) * (vx * (by - cy) - vy * (bx - cx)) < 0:
                    count += 1
    return count
