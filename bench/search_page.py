"""How long the search page takes to answer, in Debian's Chromium (issue 23's note: the
search page of a 10,000-article site took 1.9-2.9 s a query).

    python bench/search_page.py --site /tmp/s10k/_site [--runs 3] [--query leg ...]

Serves a built site's output folder on 127.0.0.1 and, for each query, `--runs` times in a
fresh page each time, measures:

- `link`: a reader following a link to `/search/?q=QUERY`: from the start of the page's
  loading to the first results shown (the status line gives their number);
- `typed`: a reader who opens the search page, comes to the box and types the query (one
  character every 100 ms, then a second to read it over), then presses Enter: from Enter to
  the first results;
- `again`: on that same page, a second search (the query's first word alone, or the query
  with " leg" added): from Enter to its results.

Prints the median of each. Chromium: tests/browser.py's find_chromium (/usr/bin/chromium
here), never a downloaded browser.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent / "tests"))
from browser import chromium, serve  # noqa: E402

QUERIES = ["leg", "iron", "restless legs", "clot"]
SHOWN = "/\\d/.test(document.getElementById('search-status').textContent)"


def answered(page: Any, since: float, limit: float = 60) -> float:
    """Seconds from `since` until the status line gives a number of results."""
    while not page.evaluate(SHOWN):
        if time.perf_counter() - since > limit:
            raise SystemExit("no results shown within a minute")
        page.wait_for_timeout(10)
    return time.perf_counter() - since


def one(browser: Any, base: str, query: str) -> dict[str, float]:
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    start = time.perf_counter()
    page.goto(f"{base}/search/?q={query}", wait_until="commit")
    link = answered(page, start)
    page.close()

    page = browser.new_page(viewport={"width": 1280, "height": 900})
    page.goto(f"{base}/search/", wait_until="load")
    page.focus("#search-q")
    page.keyboard.type(query, delay=100)
    page.wait_for_timeout(1000)
    start = time.perf_counter()
    page.keyboard.press("Enter")
    typed = answered(page, start)
    second = query.split()[0] if " " in query else f"{query} leg"
    page.fill("#search-q", second)
    page.evaluate("document.getElementById('search-status').textContent = ''")
    start = time.perf_counter()
    page.keyboard.press("Enter")
    again = answered(page, start)
    page.close()
    return {"link": link, "typed": typed, "again": again}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--site", type=Path, required=True, help="a built site's output folder")
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--query", action="append", help=f"(default: {', '.join(QUERIES)})")
    args = ap.parse_args()
    with serve(args.site) as base, chromium() as browser:
        for query in args.query or QUERIES:
            runs = [one(browser, base, query) for _ in range(args.runs)]
            medians = {k: statistics.median(r[k] for r in runs) for k in runs[0]}
            print(f"{query!r:18} " + "  ".join(f"{k} {v:.2f} s" for k, v in medians.items()),
                  flush=True)


if __name__ == "__main__":
    main()
