// Site search with Pagefind. Without JavaScript the page shows links to the topic index.
const base = new URL("../", import.meta.url);
const form = document.getElementById("search-form");
const input = document.getElementById("search-q");
const status = document.getElementById("search-status");
const list = document.getElementById("search-results");
document.querySelector(".search-fallback").hidden = true;

// The page's words, in its language (data-* attributes of the status line: search.html).
function say(key, values) {
  return (status.dataset[key] || "").replace(/\{(\w+)\}/g, (_, name) => values[name]);
}

let pagefind = null;
async function engine() {
  if (!pagefind) {
    pagefind = await import(new URL("pagefind/pagefind.js", base).href);
    await pagefind.options({ baseUrl: base.pathname });
  }
  return pagefind;
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

async function run(query) {
  list.replaceChildren();
  if (!query.trim()) {
    status.textContent = "";
    return;
  }
  status.textContent = say("searching", {});
  const search = await (await engine()).search(query);
  const results = await Promise.all(search.results.slice(0, 12).map((r) => r.data()));
  const count = search.results.length;
  status.textContent = say(count === 0 ? "none" : count === 1 ? "one" : "many",
    { count: count.toLocaleString(document.documentElement.lang || undefined), query });
  for (const r of results) {
    const li = document.createElement("li");
    const a = document.createElement("a");
    a.href = r.url;
    a.textContent = r.meta.title || r.url;
    li.append(a, excerpt(r.excerpt));
    list.append(li);
  }
}

form.addEventListener("submit", (event) => {
  event.preventDefault();
  const url = new URL(location.href);
  url.searchParams.set("q", input.value);
  history.replaceState(null, "", url);
  run(input.value);
});

const q = new URLSearchParams(location.search).get("q");
if (q) {
  input.value = q;
  run(q);
}
