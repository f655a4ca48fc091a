"""Stage 4 (reading next): for every article, explainable and bounded.

Score = sum of the weights of shared features + link bonuses. Features are an article's own
topics ("d", t) and the topic-tree areas it sits in ("t", a): the parents of its topics, and
its own topics that have sub-topics (so a hub page and the pages below it share an area).
Each is weighted like IDF, so rarer topics count more. Because a topic score depends only on
the *set* of shared features, an article's candidates are read subset by subset of its
features from the heaviest down (generated lazily, in order, from a heap), from an index of
the articles having every feature of each subset (subsets as bit masks); the walk stops once
k are chosen and no remaining subset can beat the k-th. Cost per article: subsets visited x
k + links, whatever the number of articles. Linked articles are few and are scored
explicitly.

Between builds, an article's suggestions are kept (`Memo`) with a digest of everything they
depend on: the site-wide part (settings, topic titles, every suggestible article's features,
hence the weights and the index) and the article's own part (its features, editor's picks and
links both ways). An edit that changes neither, such as new wording, reuses them all.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import heapq
import itertools
import math
from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any, NamedTuple, Protocol

from ..load.config import SiteConfig, Topic
from ..load.content import Article
from ..parallel import map_indexed
from .graph import TopicGraph, topic_maps

Feature = tuple[str, str]
MAX_FEATURES = 8


class Suggestion(NamedTuple):
    """One reading-next link with the reasons a reader is shown. (A named tuple: the memo kept
    between builds holds five per article, and tuples unpickle faster than dataclasses.)"""

    slug: str
    score: float
    reasons: tuple[str, ...]

    def __reduce__(self) -> tuple[Any, ...]:
        return tuple.__new__, (type(self), tuple(self))  # see markup.Link


@dataclass(frozen=True)
class ReadingNext:
    """Suggestions per article, plus how many candidate pairs were scored (a cost measure),
    and the articles whose review is overdue (their pages say so; they are suggested after
    the articles in date)."""

    by_article: dict[str, tuple[Suggestion, ...]]
    pairs_examined: int
    overdue: frozenset[str] = frozenset()


class Outline(Protocol):
    """The part of the topic graph that follows from the front matter alone (a TopicGraph
    is one; so is `outline`'s, made before the bodies are rendered)."""

    @property
    def articles(self) -> Mapping[str, Article]: ...

    @property
    def topics(self) -> Mapping[str, Topic]: ...

    @property
    def children(self) -> Mapping[str, tuple[str, ...]]: ...


class _Outline(NamedTuple):
    articles: Mapping[str, Article]
    topics: Mapping[str, Topic]
    children: Mapping[str, tuple[str, ...]]


def outline(articles: Mapping[str, Article], config: SiteConfig) -> Outline:
    """The published articles (by slug, in the order the graph will have them) with the
    topic tree, before the graph is built."""
    return _Outline(articles, *topic_maps(config))


class Prepared:
    """What ranking needs that follows from the front matter alone: the suggestible
    articles, their features and (made when first asked, as it is the costly part) the
    weights and the subset index. Made before the bodies are rendered, the index can be
    built while worker processes render them (see pipeline)."""

    def __init__(self, site: Outline, config: SiteConfig, today: dt.date) -> None:
        self.site, self.config, self.today = site, config, today
        self.pool = suggestible(site, today)
        self.late = overdue(site, today)  # suggested after the pool's, to fill a box
        self.features = article_features(site)
        self._index: tuple[dict[Feature, float], _Index] | None = None
        self._late_index: _Index | None = None

    def index(self, late: bool = False) -> tuple[dict[Feature, float], _Index]:
        """The weights (over every health article: in date or not) and the subset index of
        the articles in date, or (`late`) of those whose review is overdue."""
        if self._index is None:
            weights = _weights(self.features, self.pool | self.late, self.config)
            self._index = weights, _Index(self.features, weights, self.pool)
        if not late:
            return self._index
        if self._late_index is None:
            self._late_index = _Index(self.features, self._index[0], self.late)
        return self._index[0], self._late_index

    def fits(self, graph: Outline, config: SiteConfig, today: dt.date) -> bool:
        """Whether this was made from the same articles, topic tree, settings and day."""
        mine = self.site.articles
        return (config is self.config and today == self.today
                and len(mine) == len(graph.articles)
                and all(graph.articles.get(s) is a for s, a in mine.items())
                and dict(self.site.topics) == dict(graph.topics)
                and dict(self.site.children) == dict(graph.children))


def suggestible(graph: Outline, today: dt.date) -> set[str]:
    """Articles suggested first: published health articles not overdue for review."""
    return {s for s, a in graph.articles.items() if a.is_article and a.meta.next_review >= today}


def overdue(graph: Outline, today: dt.date) -> set[str]:
    """Published health articles overdue for review: still suggested, after those in date
    (a lapsed review must never empty a reading-next box)."""
    return {s for s, a in graph.articles.items() if a.is_article and a.meta.next_review < today}


Memo = dict[str, tuple[tuple[object, ...], tuple[Suggestion, ...]]]  # slug: (inputs, suggestions)


def pack(memo: Memo) -> dict[str, tuple[tuple[object, ...], tuple[tuple[Any, ...], ...]]]:
    """The memo with its suggestions as plain tuples, to be kept on disk: pickle writes and
    reads plain tuples about three times faster than named tuples (no reduce call, no class
    reference, one tuple each)."""
    return {slug: (key, tuple(map(tuple, chosen))) for slug, (key, chosen) in memo.items()}


def unpack(data: object) -> Memo:
    """A memo from `pack`'s form (empty when it is not that form: a memo is only an aid)."""
    if not isinstance(data, dict):
        return {}
    new, kind = tuple.__new__, itertools.repeat(Suggestion)  # made in C, as in __reduce__
    try:
        memo = {slug: (key, tuple(map(new, kind, chosen))) for slug, (key, chosen) in data.items()
                if isinstance(slug, str) and isinstance(key, tuple)}
    except (TypeError, ValueError):
        return {}
    ok = all(len(s) == len(Suggestion._fields) for _, chosen in memo.values() for s in chosen)
    return memo if ok else {}


def compute(graph: TopicGraph, config: SiteConfig, today: dt.date,
            memo: Memo | None = None, prepared: Prepared | None = None) -> ReadingNext:
    """Reading next for every published article. With a `memo` (read and refilled), only
    articles whose inputs changed are ranked again. `prepared` is used if it fits."""
    if prepared is None or not prepared.fits(graph, config, today):
        prepared = Prepared(graph, config, today)
    keys = _inputs(graph, config, prepared.pool, prepared.late)
    out = _recalled(keys, memo or {})
    fresh, examined = _rank_all(graph, prepared, [slug for slug in keys if slug not in out])
    out.update(fresh)
    if memo is not None:
        memo.clear()
        memo.update({slug: (key, out[slug]) for slug, key in keys.items()})
    return ReadingNext({slug: out[slug] for slug in keys}, examined,
                       frozenset(prepared.late))


def _inputs(graph: TopicGraph, config: SiteConfig, pool: set[str],
            late: set[str]) -> dict[str, tuple[object, ...]]:
    """For each health article, everything its suggestions depend on: the site-wide part
    (as a digest: which articles are in date, which overdue) and its own (topics, editor's
    picks, links both ways)."""
    # features follow from an article's topics and the topic tree, so those stand for them
    site = hashlib.sha256(repr((
        config.reading_next_count, config.weights, MAX_FEATURES,
        [(t.slug, t.title, t.parent) for t in graph.topics.values()],
        [(s, a.topic_keys, s in pool) for s, a in graph.articles.items()
         if s in pool or s in late])).encode()
    ).hexdigest()
    return {slug: (site, a.topic_keys, graph.picks.get(slug, ()),
                   graph.links_out.get(slug, ()), graph.links_in.get(slug, ()))
            for slug, a in graph.articles.items() if a.is_article}


def _recalled(keys: dict[str, tuple[object, ...]], memo: Memo) -> dict[str, tuple[Suggestion, ...]]:
    """The suggestions kept in the memo for the articles whose inputs are unchanged."""
    return {slug: hit[1] for slug, key in keys.items()
            if (hit := memo.get(slug)) is not None and hit[0] == key}


def _rank_all(graph: TopicGraph, prepared: Prepared,
              todo: list[str]) -> tuple[dict[str, tuple[Suggestion, ...]], int]:
    """The suggestions of the `todo` articles (across all cores when they are many), and
    how many candidate pairs were scored."""
    if not todo:
        return {}, 0
    prepared.index()  # made here, once, before the work may go to forked processes
    results = map_indexed(lambda i: _choose(graph, prepared, todo[i]), len(todo))
    return ({slug: chosen for slug, (chosen, _) in zip(todo, results, strict=True)},
            sum(n for _, n in results))


def _choose(graph: TopicGraph, prepared: Prepared,
            slug: str) -> tuple[tuple[Suggestion, ...], int]:
    """An article's suggestions: its editor's picks, then the best scored to make up the
    count; and how many candidates were scored."""
    picks = [p for p in graph.picks.get(slug, ()) if p in prepared.pool or p in prepared.late]
    ranked, n = _rank(graph, prepared, slug, set(picks))
    want = max(prepared.config.reading_next_count - len(picks), 0)
    if len(ranked) < want and prepared.late:  # (then articles overdue for review)
        more, m = _rank(graph, prepared, slug, {*picks, *(s.slug for s in ranked)}, late=True)
        ranked, n = ranked + more, n + m
    chosen = [Suggestion(p, 0.0, (REASONS[0],)) for p in picks]
    return tuple(chosen + ranked[:want]), n


def article_features(graph: Outline) -> dict[str, frozenset[Feature]]:
    """Every article's features: for each of its topics, the topic itself, the area the
    topic heads (when it has sub-topics) and its parent's area."""
    per_topic = _topic_features(graph)
    return {s: frozenset().union(*(per_topic.get(t, ()) for t in a.topic_keys))
            for s, a in graph.articles.items()}


def _topic_features(graph: Outline) -> dict[str, frozenset[Feature]]:
    out: dict[str, frozenset[Feature]] = {}
    for t, topic in graph.topics.items():
        f: set[Feature] = {("d", t)}
        if graph.children.get(t):
            f.add(("t", t))
        if topic.parent is not None and topic.parent in graph.topics:
            f.add(("t", topic.parent))
        out[t] = frozenset(f)
    return out


def _weights(features: dict[str, frozenset[Feature]], pool: set[str],
             config: SiteConfig) -> dict[Feature, float]:
    counts: dict[Feature, int] = defaultdict(int)
    for slug in pool:
        for f in features[slug]:
            counts[f] += 1
    n = max(len(pool), 1)
    w = config.weights
    return {f: round((w.shared_topic if f[0] == "d" else w.parent_topic)
                     * math.log(1 + n / c), 9) for f, c in counts.items()}


def _usable(feats: frozenset[Feature], weights: dict[Feature, float]) -> list[Feature]:
    return sorted((f for f in feats if weights.get(f, 0) > 0),
                  key=lambda f: (-weights[f], f))[:MAX_FEATURES]


class _Index:
    """For each subset of features (among an article's usable ones) that some suggestible
    article has, those articles in slug order. Subsets are bit masks over the features, made
    by the submask walk (`sub = (sub - 1) & mask`): several times cheaper than building a
    frozenset per subset (at 10,000 articles, 735,000 entries). Every article's features are
    kept as a mask too, so that what two articles share, and its weight, is one `&` and one
    look-up away."""

    def __init__(self, features: dict[str, frozenset[Feature]], weights: dict[Feature, float],
                 pool: set[str]) -> None:
        self.weights = weights
        self.bit: dict[Feature, int] = {f: 1 << i for i, f in enumerate(sorted(weights))}
        self.feature = {b: f for f, b in self.bit.items()}
        self.mask = {s: sum(self.bit[f] for f in feats if f in self.bit)
                     for s, feats in features.items()}
        self.found: dict[int, list[str]] = defaultdict(list)
        self.totals: dict[int, float] = {}
        for slug in sorted(pool):
            mask = sum(self.bit[f] for f in _usable(features[slug], weights))
            sub = mask
            while sub:
                self.found[sub].append(slug)
                sub = (sub - 1) & mask

    def total(self, mask: int) -> float:
        """`_total` of the features in `mask` (features without a weight add nothing)."""
        found = self.totals.get(mask)
        if found is None:
            found = self.totals[mask] = _total(self.features(mask), self.weights)
        return found

    def features(self, mask: int) -> frozenset[Feature]:
        out = []
        while mask:
            low = mask & -mask
            out.append(self.feature[low])
            mask ^= low
        return frozenset(out)


def _heaviest_first(feats: frozenset[Feature], weights: dict[Feature, float],
                    bit: dict[Feature, int]) -> Iterator[tuple[float, int]]:
    """Non-empty subsets of `feats` (as masks of `bit`) by falling total weight, generated
    lazily.

    Subsets are enumerated as sets *removed* from the full set, in rising order of removed
    weight (the classic "extend or replace the last" heap walk over weights sorted upwards),
    so each subset appears exactly once and only as many as the caller needs are made."""
    asc = list(reversed(_usable(feats, weights)))
    everything = sum(bit[f] for f in asc)
    full = _total(frozenset(asc), weights)
    heap: list[tuple[float, int, int, int]] = [(0.0, -1, 0, 0)]  # weight, last, removed, n
    while heap:
        removed_weight, last, removed, n = heapq.heappop(heap)
        if n < len(asc):
            yield round(full - removed_weight, 9), everything & ~removed
        nxt = last + 1
        if nxt < len(asc):
            w = weights[asc[nxt]]
            heapq.heappush(heap, (removed_weight + w, nxt, removed | bit[asc[nxt]], n + 1))
            if n:
                heapq.heappush(heap, (removed_weight - weights[asc[last]] + w, nxt,
                                      removed & ~bit[asc[last]] | bit[asc[nxt]], n))


def _rank(graph: TopicGraph, prepared: Prepared, slug: str, exclude: set[str],
          late: bool = False) -> tuple[list[Suggestion], int]:
    """The best suggestible articles for `slug` (`late`: of those overdue for review), best
    first (none of `exclude`), and how many candidates were scored: the articles linked
    either way, then those sharing each subset of its features, heaviest first, until no
    remaining subset can make the top k."""
    weights, index = prepared.index(late)
    pool = prepared.late if late else prepared.pool
    config, features = prepared.config, prepared.features
    my_mask, masks = index.mask[slug], index.mask
    out_links, in_links = set(graph.links_out.get(slug, ())), set(graph.links_in.get(slug, ()))
    lang = graph.articles[slug].lang
    if any(graph.articles[o].lang != lang for o in out_links):  # (suggestions stay in an edition)
        out_links = {o for o in out_links if graph.articles[o].lang == lang}

    def points(other: str) -> float:
        """`_points` of what the two share, by masks."""
        return _linked(index.total(my_mask & masks[other]), config, other in out_links,
                       other in in_links)

    top = _Top(config.reading_next_count, {slug} | exclude, points)
    # (the linked articles in the pool, not the pool less those seen: a copy of the whole
    # pool for every article made ranking quadratic)
    top.consider(sorted(((out_links | in_links) & pool) - top.seen))
    for total, subset in _heaviest_first(features[slug], weights, index.bit):
        if top.out_of_reach(total):
            break
        top.consider(index.found.get(subset, ()), top.k)
    return [_score(graph, other, features[slug] & features[other], weights, config,
                   other in out_links, other in in_links) for _, other in top.best], top.examined


class _Top:
    """The k best candidates scored so far, as (-score, slug), best first (reasons are
    worded for the winners only); every article looked at is added to `seen`."""

    def __init__(self, k: int, seen: set[str], points: Callable[[str], float]) -> None:
        self.k, self.seen, self.points = k, seen, points
        self.best: list[tuple[float, str]] = []
        self.examined = 0

    def consider(self, others: Iterable[str], limit: float = math.inf) -> None:
        """Score the first `limit` of `others` not seen yet, and keep the k best."""
        taken = 0
        for other in others:
            if other in self.seen:
                continue
            self.seen.add(other)
            self.best.append((-self.points(other), other))
            taken += 1
            if taken >= limit:
                break
        self.examined += taken
        if taken:
            self.best.sort()
            del self.best[self.k:]

    def out_of_reach(self, total: float) -> bool:
        """Whether the top k are chosen and a candidate scoring `total` cannot join them."""
        return len(self.best) >= self.k and total < -self.best[-1][0]


def _total(subset: frozenset[Feature], weights: dict[Feature, float]) -> float:
    return round(sum(weights.get(f, 0.0) for f in subset), 9)


def _score(graph: TopicGraph, other: str, shared: frozenset[Feature],
           weights: dict[Feature, float], config: SiteConfig, links_to: bool,
           linked_from: bool) -> Suggestion:
    """A candidate's score and the reasons a reader is shown."""
    score = _points(shared, weights, config, links_to, linked_from)
    return Suggestion(other, score, _reasons(graph, shared, weights, links_to, linked_from))


def _points(shared: frozenset[Feature], weights: dict[Feature, float], config: SiteConfig,
            links_to: bool, linked_from: bool) -> float:
    return _linked(_total(shared, weights), config, links_to, linked_from)


def _linked(score: float, config: SiteConfig, links_to: bool, linked_from: bool) -> float:
    """A topic score with the link bonuses added."""
    if links_to:
        score += config.weights.links_to
    if linked_from:
        score += config.weights.linked_from
    return round(score, 9)


# The reasons' words (English: a page in another language shows them through its catalogue,
# `templating.reason_text`); the topics a reason names are in the page's language already.
REASONS = ("Recommended by our editors", "This page refers to it",
           "It refers back to this page")
REASON_FORMATS = {"Also about ": "Also about %(topics)s",
                  "On a related subject: ": "On a related subject: %(topics)s"}


def _reasons(graph: TopicGraph, shared: frozenset[Feature], weights: dict[Feature, float],
             links_to: bool, linked_from: bool) -> tuple[str, ...]:
    links = ((REASONS[1], links_to), (REASONS[2], linked_from))
    return (*_topic_reason(graph, shared, weights), *(text for text, yes in links if yes))


def _topic_reason(graph: TopicGraph, shared: frozenset[Feature],
                  weights: dict[Feature, float]) -> tuple[str, ...]:
    """The topics shared, heaviest first, or failing those the heaviest area shared."""
    direct = _heaviest(shared, "d", weights)
    if direct:
        return ("Also about " + ", ".join(graph.topics[t].title.lower() for t in direct),)
    area = _heaviest(shared, "t", weights)
    return ("On a related subject: " + graph.topics[area[0]].title.lower(),) if area else ()


def _heaviest(shared: frozenset[Feature], kind: str, weights: dict[Feature, float]) -> list[str]:
    """The topics of the shared features of one kind, heaviest first (then by slug)."""
    return sorted((t for k, t in shared if k == kind), key=lambda t: (-weights[(kind, t)], t))
