"""How soon the preview's search finds a word a save added (issue 23).

    python bench/preview_search.py --root /tmp/w10k [--saves 5] [--warm]

Starts `build.py serve` on a site (made first with `python bench/synth.py --n 10000 --out
DIR`), waits for its first build and search index, then, `--saves` times: adds a new word
(never seen before) to one article's text, saves the file, waits until the preview serves
an index with the word (its vocabulary file has it, fetched every 50 ms), and then searches
for it in Debian's Chromium (Pagefind's shards merged, as search.js does; an exact search,
never an approximate match) until it is found. Prints each time from the save to the
search that finds it (and to the index served), and the median. Chromium: tests/browser.py's
find_chromium (/usr/bin/chromium here), never a downloaded browser.
"""

from __future__ import annotations

import argparse
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
sys.path.insert(0, str(REPO / "tests"))
from browser import FLAGS, find_chromium  # noqa: E402

VOCABULARY = "/pagefind/vocabulary.en-gb.json"  # (the synthetic site's language)
FIND = """async (word) => {
  const pf = await import("/pagefind/pagefind.js");
  await pf.options({ baseUrl: "/" });
  const manifest = await fetch("/pagefind/shards.json").then((r) => r.ok ? r.json() : {});
  const lang = "en-gb";  // (the synthetic site's language)
  for (const name of (manifest.languages || {})[lang] || []) {
    await pf.mergeIndex(`/pagefind/shards/${name}/`, { baseUrl: "/" });
  }
  const found = await pf.search(`"${word}"`);  // (exact: never an approximate match)
  const urls = await Promise.all(found.results.slice(0, 3).map(async (r) => (await r.data()).url));
  return urls;
}"""


def _letters(n: int) -> str:
    """A number in letters: the words added are new words, not a known word and a number
    (Pagefind would find a word one save added, by its approximate match, in the index of
    the save before)."""
    out = ""
    while True:
        n, r = divmod(n, 26)
        out += "abcdefghijklmnopqrstuvwxyz"[r]
        if not n:
            return out


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def fetch(url: str) -> bytes | None:
    try:
        with urllib.request.urlopen(url, timeout=2) as r:
            return bytes(r.read())
    except OSError:
        return None


def wait_for(url: str, seconds: float) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(url, timeout=2) as r:
                if r.status == 200:
                    return
        except OSError:
            pass
        time.sleep(0.2)
    raise SystemExit(f"{url} did not answer within {seconds} s")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--root", type=Path, required=True)
    ap.add_argument("--saves", type=int, default=5)
    ap.add_argument("--article", default="a00500")
    ap.add_argument("--warm", action="store_true",
                    help="search once before the first save, so that the browser has the "
                    "index's files (without it, the first save's time includes the browser's "
                    "first loading of every shard, each poll again until the word is found)")
    args = ap.parse_args()
    root = args.root.resolve()
    port = free_port()
    tmp = tempfile.mkdtemp(prefix="preview-bench-")
    env = {**os.environ, "TMPDIR": tmp}
    log = open(Path(tmp) / "serve.log", "w")  # noqa: SIM115
    server = subprocess.Popen([sys.executable, str(REPO / "build.py"), "serve", "--root",
                               str(root), "--port", str(port)], stdout=log,
                              stderr=subprocess.STDOUT, env=env)
    base = f"http://127.0.0.1:{port}"
    article = root / "content" / f"{args.article}.md"
    original = article.read_text(encoding="utf-8")
    from playwright.sync_api import Error as PlaywrightError
    from playwright.sync_api import sync_playwright
    times = []
    try:
        wait_for(base + "/search/", 900)
        wait_for(base + "/pagefind/pagefind.js", 900)
        with sync_playwright() as p:
            path = find_chromium(p)
            if path is None:
                raise SystemExit("no Chromium (tests/browser.py find_chromium)")
            browser = p.chromium.launch(executable_path=str(path), args=FLAGS, headless=True)
            page = browser.new_page()
            if args.warm:  # (the browser loads every shard's files once, as a reader's has)
                page.goto(base + "/pagefind/shards.json")
                page.evaluate(FIND, "warmup")
            for i in range(args.saves):
                word = "quetzal" + _letters(os.getpid() * 100 + i)
                text = original.replace("for more.", f"for more {word}.", 1)
                assert text != original, "the article has no 'for more.' to add a word to"
                saved = time.perf_counter()
                article.write_text(text, encoding="utf-8")
                # the index with the word is served when its vocabulary has the word (looked
                # at over HTTP: polling in the browser would take the processors the
                # indexing needs), then the browser searches until it finds it
                while word.encode() not in (fetch(base + VOCABULARY) or b""):
                    if time.perf_counter() - saved > 120:
                        raise SystemExit(f"{word} not in the index within 120 s")
                    time.sleep(0.05)
                ready = time.perf_counter() - saved
                while True:
                    # a fresh page each time (the newest index), and not an HTML page: the
                    # preview reloads those when it rebuilds, which would end the search
                    page.goto(base + "/pagefind/shards.json")
                    try:
                        urls = page.evaluate(FIND, word)
                    except PlaywrightError:
                        urls = []
                    if any(args.article in u for u in urls):
                        break
                    if time.perf_counter() - saved > 120:
                        raise SystemExit(f"{word} not found within 120 s")
                    time.sleep(0.1)
                took = time.perf_counter() - saved
                times.append(took)
                print(f"save {i + 1}: found {took:.2f} s after the save (the index served "
                      f"after {ready:.2f} s)", flush=True)
                time.sleep(2)
            browser.close()
    finally:
        article.write_text(original, encoding="utf-8")
        server.terminate()
        server.wait(timeout=30)
        log.close()
    print(f"median {statistics.median(times):.2f} s over {len(times)} saves "
          f"({os.cpu_count()} cores)")


if __name__ == "__main__":
    main()
