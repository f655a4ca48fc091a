"""What the cold-build targets leave to spend: processor seconds, measured, against a budget.

    python bench/floor.py --n 10000 [--hugo-cold 27.98] [--hugo-pagefind-cold 45.45]
    python bench/floor.py --n 1000 --hugo-cold 0.73 --ratio-off 2

A cold build on this machine can at best keep every core busy from start to end, so a
target of `ratio x peer` seconds allows at most `ratio x peer x cores` processor seconds
(user and system, all processes). This measures, on the synthetic corpus of
`bench/run.py` (`synth.py`, the same seed):

- **Python-Markdown alone**: each article's body converted by a stock `markdown.Markdown()`
  with no extension at all (no tables, contents, footnotes, attributes; no link checks,
  care cards, glossary or reading grade), one process: the least any build on the design
  card's stack spends on Markdown;
- **PyYAML's C loader** on each article's front matter: the least spent reading it;
- **Pagefind** (its CLI's binary, as `publish.search` runs it) indexing the site our
  engine builds of the corpus, search off: the processor seconds Pagefind itself takes for
  the search-on target, whatever the build around it does.

Then, for each target given its peer's cold time (`bench/run.py --hugo` prints them), the
budget, what the measured floor leaves of it per article for everything else (Jinja's
pages, the link graph, reading next, checks, writing thousands of files, starting Python),
and what our engine spends per article now (its cold build's processor seconds, measured
here too, and each of its stages run on one core: its pages alone, Jinja's rendering,
checking and writing them, is the `templates` stage).
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
sys.path.insert(0, str(HERE))
from synth import generate  # noqa: E402


def child_cpu(cmd: list[str], env: dict[str, str] | None = None) -> tuple[float, float]:
    """(wall seconds, processor seconds of the command and its children)."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                   env=env)
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return wall, (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)


def one_core(build: list[str], site: Path, report: Path, env: dict[str, str]
             ) -> dict[str, float]:
    """Our cold build's stages, in seconds, run on one core (no workers: each stage's
    whole processor time), from its report."""
    for name in (".cache", "_site"):
        shutil.rmtree(site / name, ignore_errors=True)
    core = min(os.sched_getaffinity(0))
    subprocess.run([*build, "--out", str(site / "_site"), "--report", str(report)], check=True,
                   stdout=subprocess.DEVNULL, env=env,
                   preexec_fn=lambda: os.sched_setaffinity(0, {core}))
    return {k: float(v) for k, v in json.loads(report.read_text())["timings"].items()}


def own_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def split(text: str) -> tuple[str, str]:
    """An article's front matter and body."""
    _, front, body = text.split("---\n", 2)
    return front, body


def markdown_alone(bodies: list[str]) -> float:
    import markdown

    md = markdown.Markdown()
    start = own_cpu()
    for body in bodies:
        md.reset()
        md.convert(body)
    return own_cpu() - start


def yaml_alone(fronts: list[str]) -> float:
    import yaml

    start = own_cpu()
    for front in fronts:
        yaml.load(front, Loader=yaml.CSafeLoader)
    return own_cpu() - start


def pagefind_binary() -> list[str]:
    """Pagefind as the build runs it (its binary directly, when installed)."""
    from healthsite.publish import search

    return list(search._pagefind())  # noqa: SLF001 (the bench measures what the build runs)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, default=10000)
    ap.add_argument("--hugo-cold", type=float, help="Hugo's cold build, seconds (search off)")
    ap.add_argument("--hugo-pagefind-cold", type=float,
                    help="Hugo followed by Pagefind, seconds (search on)")
    ap.add_argument("--ratio-off", type=float, default=0.35,
                    help="the search-off target, times Hugo (issue 23: 0.35 at 10,000 "
                         "articles, 2 at 1,000)")
    ap.add_argument("--ratio-on", type=float, default=0.5,
                    help="the search-on target, times Hugo followed by Pagefind")
    args = ap.parse_args()
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else 1
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    env["SOURCE_DATE_EPOCH"] = "1790000000"
    env["PYTHONPATH"] = str(REPO)
    with tempfile.TemporaryDirectory(prefix="healthsite-floor-") as tmp:
        site = generate(Path(tmp) / "site", args.n, search=False)
        texts = [p.read_text() for p in sorted((site / "content").glob("*.md"))]
        fronts, bodies = zip(*map(split, texts), strict=True)
        md = markdown_alone(list(bodies))
        fm = yaml_alone(list(fronts))
        build = [sys.executable, str(REPO / "build.py"), "build", "--root", str(site)]
        wall, ours = child_cpu(build, env)
        stages = one_core(build, site, Path(tmp) / "report.json", env)
        pf_wall, pagefind = child_cpu([*pagefind_binary(), "--site", str(site / "_site"),
                                       "--output-path", str(Path(tmp) / "pagefind")])
    n = args.n
    print(f"{n} synthetic articles, {cores} cores, processor seconds (user + system):")
    print(f"  Python-Markdown alone, no extension   {md:7.2f} s   {1000 * md / n:.2f} ms/article")
    print(f"  PyYAML's C loader, front matter       {fm:7.2f} s   {1000 * fm / n:.2f} ms/article")
    print(f"  our cold build, search off            {ours:7.2f} s   {1000 * ours / n:.2f} "
          f"ms/article ({wall:.2f} s wall)")
    print(f"  Pagefind on its pages                 {pagefind:7.2f} s   ({pf_wall:.2f} s wall)")
    print("  our cold build's stages on one core:  " + ", ".join(
        f"{k} {v:.2f} s ({1000 * v / n:.2f} ms/article)" for k, v in stages.items()))
    floor = md + fm
    for name, peer, ratio, extra in (("search off", args.hugo_cold, args.ratio_off, 0.0),
                                     ("search on", args.hugo_pagefind_cold, args.ratio_on,
                                      pagefind)):
        if peer is None:
            continue
        budget = ratio * peer * cores
        left = budget - extra - floor
        print(f"  {name}: target {ratio} x {peer:.2f} s = {ratio * peer:.2f} s wall, at most "
              f"{budget:.2f} processor seconds on {cores} cores; less "
              + (f"Pagefind's {extra:.2f} s and " if extra else "")
              + f"the floor's {floor:.2f} s leaves {left:.2f} s, {1000 * left / n:.2f} "
              f"ms/article for all the rest (ours now: {1000 * (ours - floor) / n:.2f})")


if __name__ == "__main__":
    main()
