"""What the fast paths (healthsite/fast) buy: cold builds of a synthetic site.

    python bench/fast_paths.py --n 1000 [--runs 2] [--each]

Builds a `bench/synth.py` corpus of --n articles from scratch (`build --no-cache`, a fresh
process and an empty output folder each time) with every fast path on and with all of them
off (HEALTHSITE_FAST_PATHS=off), alternately, --runs times each; with --each, also with each
fast path alone turned off (its gate refused). Prints, for each, the median and the least
wall time, the median CPU time of the build and its worker processes (less disturbed by
other work on a busy machine), and the medians of the build report's stage timings.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
sys.path.insert(0, str(HERE))
from synth import generate  # noqa: E402

# a build with the named fast paths refused by their gates (argv[1], comma-separated)
PROBE = """
import sys
from healthsite import fast
from healthsite.cli import main
for name in filter(None, sys.argv[1].split(",")):
    gate = fast.GATES[name]
    fast.GATES[name] = type(gate)(gate.replaces, gate.libraries, lambda: "off (bench)")
sys.exit(main(sys.argv[2:]))
"""


def cpu() -> float:
    """CPU seconds used so far by this process's finished children (and theirs)."""
    used = resource.getrusage(resource.RUSAGE_CHILDREN)
    return used.ru_utime + used.ru_stime


Run = tuple[float, float, dict[str, float]]  # wall seconds, CPU seconds, stage timings


def build(root: Path, off: str, all_off: bool) -> Run:
    out, report = root / "_site", root / "report.json"
    shutil.rmtree(out, ignore_errors=True)
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    env.pop("HEALTHSITE_FAST_PATHS", None)
    if all_off:
        env["HEALTHSITE_FAST_PATHS"] = "off"
    start, used = time.perf_counter(), cpu()
    subprocess.run([sys.executable, "-c", PROBE, off, "build", "--root", str(root), "--out",
                    str(out), "--no-cache", "--report", str(report)], env=env, check=True,
                   stdout=subprocess.DEVNULL)
    wall, used = time.perf_counter() - start, cpu() - used
    data = json.loads(report.read_text())
    shown = {n for n, s in data["fast_paths"].items() if s != "on"}
    from healthsite import fast

    expected = set(fast.GATES) if all_off else set(filter(None, off.split(",")))
    assert shown == expected, (shown, expected)
    return wall, used, data["timings"]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, default=1000)
    ap.add_argument("--runs", type=int, default=2)
    ap.add_argument("--each", action="store_true")
    args = ap.parse_args()
    sys.path.insert(0, str(REPO))
    from healthsite import fast

    configs = {"all on": ("", False), "all off": ("", True)}
    if args.each:
        configs.update({f"{name} off": (name, False) for name in fast.GATES})
    found: dict[str, list[Run]] = {k: [] for k in configs}
    with tempfile.TemporaryDirectory() as tmp:
        root = generate(Path(tmp) / "site", args.n, search=False)
        subprocess.run([sys.executable, "-m", "compileall", "-q", str(REPO / "healthsite")],
                       check=True)
        for _ in range(args.runs):
            for name, (off, all_off) in configs.items():
                found[name].append(build(root, off, all_off))
    base = statistics.median(c for _, c, _ in found["all on"])
    print(f"{'':22} {'wall median':>11} {'least':>6} {'CPU median':>10}")
    for name, runs in found.items():
        wall = statistics.median(w for w, _, _ in runs)
        least = min(w for w, _, _ in runs)
        used = statistics.median(c for _, c, _ in runs)
        stages = {k: statistics.median(t[k] for _, _, t in runs if k in t)
                  for k in runs[0][2]}
        shown = "  ".join(f"{k} {v:.2f}" for k, v in stages.items() if v >= 0.05)
        print(f"{name:22} {wall:9.2f} s {least:5.2f} s {used:8.2f} s ({used / base:4.2f}x)"
              f"  |  {shown}")


if __name__ == "__main__":
    main()
