"""Inputs known to make Markdown rendering (or our own diagnostics) slow or deep, and what a
`check` of a small site holding one of them costs now.

    python bench/pathological.py [--budget-off] [--cap 120] [--only NAME ...]

Each case is one article body (under the 2 MB file limit) added to a synthetic 20-article
site; the script runs `build.py check` on it in a fresh process and prints the wall time, the
exit code and the problem codes of that article. With the render budget (the default,
`healthsite.render.limits.RENDER_SECONDS`), every case must end within 10 s. `--budget-off` sets
HEALTHSITE_RENDER_SECONDS=0 to show what the inputs cost Python-Markdown without it (runs
over `--cap` seconds are stopped and shown as "> cap"). The figures are in bench/README.md.
"""

from __future__ import annotations

import argparse
import os
import re
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
sys.path.insert(0, str(HERE))
from synth import generate  # noqa: E402


def _table(rows: int, cols: int) -> str:
    head = "|" + "|".join(f" c{i} " for i in range(cols)) + "|\n"
    rule = "|" + "|".join("---" for _ in range(cols)) + "|\n"
    return head + rule + ("|" + "|".join(" x " for _ in range(cols)) + "|\n") * rows


CASES: dict[str, str] = {
    # Python-Markdown's list parser recurses once per level (its issue #1436 and others)
    "nested bullets (500 levels)": "- " * 500 + "x\n",
    "nested numbers (500 levels)": "1. " * 500 + "x\n",
    "nested quote and list (500)": "> - " * 500 + "x\n",
    "indented lists (300 levels)": "".join("    " * i + "- x\n" for i in range(300)),
    # quadratic inline patterns (Python-Markdown issue #798)
    "30 KB of [": "[" * 30_000 + "\n",
    "30 KB of *[": "*[" * 15_000 + "\n",
    "30 KB of <a ": "<a " * 10_000 + "\n",
    "30 KB of [a](": "[a](" * 7_500 + "\n",
    "30 KB of [^": "[^" * 15_000 + "\n",
    "100 KB heading": "## " + "#" * 100_000 + "\n",
    "table of 30,000 columns": _table(2, 30_000),
    "table of 100,000 rows": _table(100_000, 3),
    "50,000 link references": "".join(f"[r{i}]: /x{i}\n" for i in range(50_000)),
    # our own diagnostics: one problem each (they were located by a search per problem)
    "20,000 bad placeholders": "".join(f"{{{{bad{i}}}}} " for i in range(20_000)) + "\n",
    "20,000 bad citations": "".join(f"x[^{i + 10}] " for i in range(20_000)) + "\n",
}


def run(site: Path, budget_off: bool, cap: float) -> tuple[float, str, Counter[str]]:
    env = dict(os.environ)
    if budget_off:
        env["HEALTHSITE_RENDER_SECONDS"] = "0"
    cmd = [sys.executable, str(REPO / "build.py"), "check", "--no-cache", "--root", str(site)]
    start = time.perf_counter()
    try:
        done = subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=cap)
    except subprocess.TimeoutExpired:
        return cap, "killed", Counter()
    wall = time.perf_counter() - start
    codes = Counter(re.findall(r"^content/slow\.md:\d+:\d+: \w+\[([\w-]+)\]", done.stdout, re.M))
    crashed = "Traceback" in done.stderr
    return wall, "traceback" if crashed else str(done.returncode), codes


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--budget-off", action="store_true", help="no render time budget")
    ap.add_argument("--cap", type=float, default=120.0, help="stop a run after this long")
    ap.add_argument("--only", nargs="*", help="run only the cases whose names contain these")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        site = generate(Path(tmp) / "site", 20, search=False)
        print(f"{'case':32} {'seconds':>8}  exit  problems of the article")
        for name, body in CASES.items():
            if args.only and not any(o in name for o in args.only):
                continue
            (site / "content" / "slow.md").write_text(
                "---\ntitle: Slow\nsummary: A pathological body.\ntopics: [topic-0-0]\n"
                "reviewed: 2026-01-01\nsources:\n  - {title: A, publisher: B, year: 2024}\n"
                "  - {title: C, publisher: D, year: 2024}\n---\n\n" + body, encoding="utf-8")
            wall, code, codes = run(site, args.budget_off, args.cap)
            shown = f"> {args.cap:.0f}" if code == "killed" else f"{wall:.2f}"
            problems = ", ".join(f"{c} x{n}" if n > 1 else c for c, n in sorted(codes.items()))
            print(f"{name:32} {shown:>8}  {code:>4}  {problems}", flush=True)


if __name__ == "__main__":
    main()
