"""What the fast paths (healthsite/fast) buy: cold builds of a synthetic site.

    python bench/fast_paths.py --n 1000 [--runs 2] [--each]

Builds a `bench/synth.py` corpus of --n articles from scratch (`build --no-cache`, a fresh
process and an empty output folder each time) with every fast path on and with all of them
off (HEALTHSITE_FAST_PATHS=off), alternately, --runs times each; with --each, also with each
fast path alone turned off (its gate refused). Prints the median wall time of each and the
median of the build report's stage timings (load, markdown, pages...).
"""

from __future__ import annotations

import argparse
import json
import os
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


def build(root: Path, off: str, all_off: bool) -> tuple[float, dict[str, float]]:
    out, report = root / "_site", root / "report.json"
    shutil.rmtree(out, ignore_errors=True)
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    env.pop("HEALTHSITE_FAST_PATHS", None)
    if all_off:
        env["HEALTHSITE_FAST_PATHS"] = "off"
    start = time.perf_counter()
    subprocess.run([sys.executable, "-c", PROBE, off, "build", "--root", str(root), "--out",
                    str(out), "--no-cache", "--report", str(report)], env=env, check=True,
                   stdout=subprocess.DEVNULL)
    wall = time.perf_counter() - start
    data = json.loads(report.read_text())
    shown = {n for n, s in data["fast_paths"].items() if s != "on"}
    from healthsite import fast

    expected = set(fast.GATES) if all_off else set(filter(None, off.split(",")))
    assert shown == expected, (shown, expected)
    return wall, data["timings"]


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
    found: dict[str, list[tuple[float, dict[str, float]]]] = {k: [] for k in configs}
    with tempfile.TemporaryDirectory() as tmp:
        root = generate(Path(tmp) / "site", args.n, search=False)
        subprocess.run([sys.executable, "-m", "compileall", "-q", str(REPO / "healthsite")],
                       check=True)
        for _ in range(args.runs):
            for name, (off, all_off) in configs.items():
                found[name].append(build(root, off, all_off))
    base = statistics.median(w for w, _ in found["all on"])
    for name, runs in found.items():
        wall = statistics.median(w for w, _ in runs)
        stages = {k: statistics.median(t[k] for _, t in runs if k in t)
                  for k in runs[0][1]}
        shown = "  ".join(f"{k} {v:.2f}" for k, v in stages.items() if v >= 0.05)
        print(f"{name:22} {wall:6.2f} s ({wall / base:4.2f}x)  "
              f"runs {', '.join(f'{w:.2f}' for w, _ in runs)}  |  {shown}")


if __name__ == "__main__":
    main()
