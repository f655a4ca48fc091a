// Site search with Pagefind. Without JavaScript the page shows links to the topic index.
// Every result can be reached (PAGE at a time, "Show more results"), articles before topic
// and other pages, and a search that finds little suggests the site's own words ("did you
// mean"), from the vocabulary the build writes beside the index (publish/vocabulary.py).
const base = new URL("../", import.meta.url);
const form = document.getElementById("search-form");
const input = document.getElementById("search-q");
const status = document.getElementById("search-status");
const list = document.getElementById("search-results");
const more = document.querySelector(".search-more");
const suggestion = document.querySelector(".search-suggestion");
document.querySelector(".search-fallback").hidden = true;

const PAGE = 12; // results shown at a time
const FEW = 3; // a search finding fewer suggests a spelling
const language = (document.documentElement.lang || "").toLowerCase();

// The page's words, in its language (data-* attributes of the status line: search.html).
function say(key, values) {
  return (status.dataset[key] || "").replace(/\{(\w+)\}/g, (_, name) => values[name]);
}

function number(n) {
  return n.toLocaleString(document.documentElement.lang || undefined);
}

// A large site's index is in shards (publish/search.py): the main one, and the others of
// this page's language named in shards.json, merged at query time (Pagefind's mergeIndex).
// Each shard's pages carry its name as a filter (Pagefind's mergeFilter), so that a search
// can count and rank shard by shard, and put the results together as one index of the whole
// edition would (see `together`).
const SHARD = "shard";
const MAIN = "main";
let shards = [];
const owner = new Map(); // a page's id (Pagefind's fragment) -> the shard that holds it
let loading = null;
function engine() {
  if (!loading) loading = load();
  return loading;
}

async function load() {
  const pf = await import(new URL("pagefind/pagefind.js", base).href);
  const manifest = await fetch(new URL("pagefind/shards.json", base))
    .then((r) => (r.ok ? r.json() : {}), () => ({}));
  const names = (manifest.languages || {})[language] || [];
  const pages = (manifest.pages || {})[language] || {};
  const tag = (name) => ({ mergeFilter: { [SHARD]: name } });
  await pf.options({ baseUrl: base.pathname, ...(names.length ? tag(MAIN) : {}) });
  await pf.init(); // (its index starts loading now: Pagefind waits for a search otherwise)
  if (names.length) {
    await Promise.all(names.map((name) => pf.mergeIndex(
      new URL(`pagefind/shards/${name}/`, base).pathname,
      { baseUrl: base.pathname, ...tag(name) })));
    shards = [{ name: MAIN, pages: pages[""] || 0 },
      ...names.map((name) => ({ name, pages: pages[name] || 0 }))];
    const held = (manifest.fragments || {});
    if (names.every((name) => held[name])) {
      names.forEach((name) => held[name].split(" ").forEach((id) => owner.set(id, name)));
    }
  }
  return pf;
}

// The words of a query as Pagefind reads them: in lower case, punctuation left out, split at
// spaces (a word Pagefind joins, like "blood-clot", stays one word).
function terms(query) {
  return query.replace(/[\p{Pd}\p{Pe}\p{Pf}\p{Pi}\p{Po}\p{Ps}]/gu, "").toLowerCase()
    .split(/\s+/).filter(Boolean);
}

// Pagefind's answer to a search (each asked once a page: ranking a one-word query asks for
// the same search as weighing its word).
const answers = new Map();
function find(query, options = {}) {
  const key = JSON.stringify([query, options]);
  if (!answers.has(key)) {
    answers.set(key, engine().then((pf) => pf.search(query, options)).catch((e) => {
      answers.delete(key); // (a failed search is asked again next time)
      throw e;
    }));
  }
  return answers.get(key);
}

// How much a word weighs in an index of `pages` pages, `having` of which have it (Pagefind's
// inverse document frequency, the BM25 one).
function weight(pages, having) {
  return Math.log((pages + 1) / (having + 0.5));
}

// What one index of the whole edition knows that each shard does not, for a query: for each
// of its words, which shards truly have it and how many pages of the edition do (counted
// shard by shard: the search's filter counts). Pagefind matches a word by the index's words
// that begin with its stem, and, in an index with none, by the longest word its stem begins
// with ("zebrafish" finds "zebra"): a shard without the word would find other words that one
// index, which has it, would not. A shard truly has a word when it has its stem itself
// (Pagefind's exact search for it, "word", finds pages there), or when no shard has the stem
// (then each finds what Pagefind finds from what it holds).
const statistics = new Map();
function weigh(query) {
  if (!statistics.has(query)) {
    statistics.set(query, (async () => {
      const words = terms(query);
      const counts = (found) => found.map((r) => (r.totalFilters || {})[SHARD] || {});
      const [having, exact] = await Promise.all([
        Promise.all(words.map((w) => find(w))).then(counts),
        Promise.all(words.map((w) => find(`"${w}"`))).then(counts)]);
      const anyExact = exact.map((byShard) => Object.values(byShard).some((n) => n > 0));
      const truly = (shard, t) => !anyExact[t] || (exact[t][shard.name] || 0) > 0;
      const pages = shards.reduce((n, s) => n + s.pages, 0);
      const whole = words.reduce((w, _, t) => w + weight(pages, shards.reduce(
        (n, s) => n + (truly(s, t) ? having[t][s.name] || 0 : 0), 0)), 0);
      const counted = shards.every((s) => s.pages > 0); // (else: scores as they are)
      return new Map(shards.filter((s) => words.every((_, t) => truly(s, t))).map((s) => {
        const own = words.reduce((w, _, t) => w + weight(s.pages, having[t][s.name] || 0), 0);
        return [s.name, counted && own > 0 ? whole / own : 1];
      }));
    })());
  }
  return statistics.get(query);
}

// A search of every shard, as one index of the edition would answer it: the results of the
// shards that truly have every word of the query, each shard's scores weighed again with the
// word weights of the whole edition instead of its own, best first. (Pagefind scores a page
// of a one-word query as the word's weight times how much the page has of it, so that is one
// index's score, but for the shard's average page length; a query of several words is
// weighed by their weights together.) A search for an exact phrase ("...") is not weighed,
// and a site of one index is searched as it is. The shards are searched together, once, and
// each result's shard told from its id (shards.json lists the ids of each shard's pages):
// a search of each shard by its filter searched every shard each time, 32 times at 10,000
// pages.
async function together(query) {
  await engine();
  if (!shards.length || /^\s*".+"\s*$/.test(query) || !terms(query).length) {
    return (await find(query)).results;
  }
  const weights = await weigh(query);
  if (owner.size) { // one search of every shard: each result's shard known from its id
    const found = await find(query);
    return found.results.flatMap((result) => {
      const weight = weights.get(owner.get(result.id) || MAIN);
      return weight === undefined ? [] : [{ ...result, score: result.score * weight }];
    }).sort((a, b) => b.score - a.score);
  }
  // (a manifest without the shards' pages: a search of each shard, by its filter)
  const each = [...weights];
  const found = await Promise.all(each.map(([name]) => find(
    query, { filters: { [SHARD]: name } })));
  return found.flatMap((r, i) => r.results.map(
    (result) => ({ ...result, score: result.score * each[i][1] })))
    .sort((a, b) => b.score - a.score);
}

let vocabulary = null;
async function words() {
  if (vocabulary === null) {
    const url = new URL(`pagefind/vocabulary.${language}.json`, base);
    vocabulary = await fetch(url).then((r) => (r.ok ? r.json() : []), () => []);
  }
  return vocabulary;
}

// Every result, articles first (each group in Pagefind's order): a health article carries
// the filter kind:article (article.html); topic and site pages carry none (a filter with
// several values made Pagefind's filter files differ from build to build).
async function ranked(query) {
  const [all, articles] = await Promise.all([
    together(query), find(query, { filters: { kind: "article" } })]);
  const article = new Set(articles.results.map((r) => r.id));
  return [...all.filter((r) => article.has(r.id)), ...all.filter((r) => !article.has(r.id))];
}

function excerpt(html) {
  // Pagefind marks matches with <mark>; build the nodes ourselves instead of using innerHTML.
  const p = document.createElement("p");
  html.split(/(<mark>.*?<\/mark>)/).forEach((part) => {
    const m = part.match(/^<mark>(.*)<\/mark>$/);
    const text = (m ? m[1] : part).replace(/&lt;/g, "<").replace(/&gt;/g, ">")
      .replace(/&quot;/g, '"').replace(/&#39;/g, "'").replace(/&amp;/g, "&");
    if (m) {
      const mark = document.createElement("mark");
      mark.textContent = text;
      p.append(mark);
    } else {
      p.append(text);
    }
  });
  return p;
}

// Optimal string alignment distance (a swap of two letters counts as one edit).
function distance(a, b) {
  const d = Array.from({ length: a.length + 1 }, (_, i) => [i]);
  for (let j = 1; j <= b.length; j++) d[0][j] = j;
  for (let i = 1; i <= a.length; i++) {
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      d[i][j] = Math.min(d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) {
        d[i][j] = Math.min(d[i][j], d[i - 2][j - 2] + 1);
      }
    }
  }
  return d[a.length][b.length];
}

// The site's word closest to `word` (the most frequent of the closest), or the word itself.
function closest(word, known) {
  if (word.length < 3 || known.includes(word)) return word;
  const most = word.length <= 4 ? 1 : 2;
  let best = word;
  let bestDistance = most + 1;
  for (const w of known) { // (most frequent first: a tie keeps the commoner word)
    if (Math.abs(w.length - word.length) >= bestDistance) continue;
    const d = distance(word, w);
    if (d < bestDistance) {
      best = w;
      bestDistance = d;
    }
  }
  return best;
}

// A spelling of `query` in the site's own words that finds more, or null.
async function didYouMean(query, found) {
  const known = await words();
  const parts = query.toLowerCase().normalize("NFC").split(/([^\p{L}]+)/u);
  const fixed = parts.map((part, i) => (i % 2 ? part : closest(part, known))).join("");
  if (fixed === query.toLowerCase().normalize("NFC")) return null;
  return (await together(fixed)).length > found ? fixed : null;
}

function offer(spelling) {
  const url = new URL(location.href);
  url.searchParams.set("q", spelling);
  const a = document.createElement("a");
  a.href = url.pathname + url.search;
  a.textContent = spelling;
  const [before, after] = (suggestion.dataset.text || "{spelling}").split("{spelling}");
  suggestion.replaceChildren(before, a, after || "");
  suggestion.hidden = false;
}

let shown = { results: [], next: 0, query: "" };

async function showMore(focus) {
  const { results, next, query } = shown;
  const batch = await Promise.all(results.slice(next, next + PAGE).map((r) => r.data()));
  if (shown.results !== results) return; // (a newer search started)
  batch.forEach((r, i) => {
    const li = document.createElement("li");
    const a = document.createElement("a");
    a.href = r.url;
    a.textContent = r.meta.title || r.url;
    li.append(a, excerpt(r.excerpt));
    list.append(li);
    if (focus && i === 0) a.focus();
  });
  shown.next = next + batch.length;
  const count = results.length;
  more.hidden = shown.next >= count;
  status.textContent = say(count === 0 ? "none" : count === 1 ? "one"
    : shown.next < count ? "some" : "many",
  { count: number(count), shown: number(shown.next), query });
}

async function run(query) {
  list.replaceChildren();
  more.hidden = true;
  suggestion.hidden = true;
  shown = { results: [], next: 0, query };
  if (!query.trim()) {
    status.textContent = "";
    return;
  }
  status.textContent = say("searching", {});
  const results = await ranked(query);
  if (shown.query !== query) return; // (a newer search started)
  shown = { results, next: 0, query };
  await showMore(false);
  if (results.length < FEW) {
    const spelling = await didYouMean(query, results.length);
    if (spelling && shown.results === results) offer(spelling);
  }
}

function search(query) {
  const url = new URL(location.href);
  url.searchParams.set("q", query);
  history.replaceState(null, "", url);
  run(query);
}

form.addEventListener("submit", (event) => {
  event.preventDefault();
  search(input.value);
});

more.addEventListener("click", () => showMore(true));

// Pagefind (and, on a large site, every shard's index) starts loading when a reader comes to
// the search box, and the index's part for the words being typed while they type: a search
// then waits for little of it (Pagefind's own advice, `preload`).
input.addEventListener("focus", () => { engine().catch(() => {}); }, { once: true });
let typing = null;
input.addEventListener("input", () => {
  clearTimeout(typing);
  typing = setTimeout(() => {
    const term = input.value.trim();
    if (term) engine().then((pf) => pf.preload(term)).catch(() => {});
  }, 150);
});

suggestion.addEventListener("click", (event) => {
  const a = event.target.closest("a");
  if (!a) return;
  event.preventDefault();
  input.value = a.textContent;
  search(a.textContent);
  input.focus();
});

const q = new URLSearchParams(location.search).get("q");
if (q) {
  input.value = q;
  run(q);
}
