"""Kill builds at random moments and check that the output is never half written.

    python bench/kill.py [--n 600] [--trials 60] [--seed 1] [--engine DIR]

Makes a synthetic site (no search index, so updates go through output.update_site) and
two versions of it: A, and B with a changed template (every page changes: the full
build's update) or with five articles' text changed (the rebuild of those pages alone,
delta). Each trial starts a build from one version to the other, sends it SIGKILL at a
random moment (a quarter of them anywhere in the build, the rest at a random time after
it took the output's lock, which an update takes just before writing, within the time
three updates of that kind ran after taking it), and checks that the
output folder holds exactly version A or exactly version B, byte for byte and file for
file (both made beforehand by builds from scratch). Each kill is put in a window by what
it left: before anything was written, while the new version was being written next to
the output (a stage or the spare changed, the output still the old one), or after the
swap. A build run to the end then brings the site to the target version (and must remove
what the killed one left); the next trial goes back the other way.

The build's whole process group is killed (as when a CI job is cancelled), so no worker
process it forked writes on. `--engine DIR` runs another checkout's build.py (e.g. the
engine before this script was written, to see the half-written sites it left). Prints a
summary; `--json` writes it; exits 1 if any output was half written.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import random
import shutil
import signal
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

EPOCH = "1790000000"


def tree(out: Path) -> dict[str, bytes]:
    """Every file of a folder (a missing folder: None as its only entry)."""
    if not out.is_dir():
        return {"<missing>": b""}
    return {p.relative_to(out).as_posix(): p.read_bytes() for p in sorted(out.rglob("*"))
            if p.is_file()}


def inodes(folder: Path) -> dict[str, int]:
    """Each file's inode and each folder's presence: what a write changes."""
    if not folder.is_dir():
        return {}
    return {p.relative_to(folder).as_posix(): p.lstat().st_ino for p in folder.rglob("*")}


class Site:
    def __init__(self, root: Path, engine: Path, kind: str) -> None:
        self.root, self.engine, self.kind = root, engine, kind
        self.base = root / "templates" / "base.html"
        self.articles = [root / "content" / f"a{i:05d}.md" for i in range(1, 6)]
        self.original = {p: p.read_text() for p in [self.base, *self.articles]}

    def cmd(self, *extra: str) -> list[str]:
        return [sys.executable, str(self.engine / "build.py"), "build", "--root",
                str(self.root), *extra]

    def env(self) -> dict[str, str]:
        return {**os.environ, "SOURCE_DATE_EPOCH": EPOCH}

    def version(self, v: str) -> None:
        """Write version A or B of the inputs."""
        for path, text in self.original.items():
            path.write_text(text)
        if v == "B" and self.kind == "template":
            self.base.write_text(self.original[self.base].replace(
                "</main>", "<!-- version B --></main>"))
        elif v == "B":
            for path in self.articles:
                path.write_text(self.original[path].replace("for more.", "for more (B).", 1))

    def build(self, *extra: str) -> float:
        start = time.perf_counter()
        done = subprocess.run(self.cmd(*extra), capture_output=True, text=True, env=self.env())
        if done.returncode != 0:
            raise SystemExit(f"build failed: {done.stdout[-2000:]} {done.stderr[-2000:]}")
        return time.perf_counter() - start

    def start(self) -> subprocess.Popen[bytes]:
        return subprocess.Popen(self.cmd(), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                                env=self.env(), start_new_session=True)

    def locked(self, proc: subprocess.Popen[bytes]) -> bool:
        """Wait until the build takes the output's lock (it opens `.<out>.lock` for writing,
        which sets its time: an update takes it just before writing); False if the build
        ended first."""
        lock = self.root / "._site.lock"
        seen = lock.stat().st_mtime_ns if lock.exists() else 0
        while proc.poll() is None:
            with contextlib.suppress(OSError):
                if lock.stat().st_mtime_ns != seen:
                    return True
            time.sleep(0.0003)
        return False

    def write_time(self) -> float:
        """Run a build to the end; how long it ran after taking the lock."""
        proc = self.start()
        if not self.locked(proc):
            raise SystemExit("the build never took the lock")
        start = time.perf_counter()
        proc.wait()
        if proc.returncode != 0:
            raise SystemExit("build failed")
        return time.perf_counter() - start


def leftovers(root: Path) -> list[str]:
    return sorted(p.name for p in root.iterdir() if ".new-" in p.name or ".old-" in p.name)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, default=600, help="articles in the synthetic site")
    ap.add_argument("--trials", type=int, default=60, help="kills per kind of change")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--engine", type=Path, default=REPO, help="a checkout with build.py")
    ap.add_argument("--kinds", default="template,text")
    ap.add_argument("--json", type=Path)
    args = ap.parse_args()
    rng = random.Random(args.seed)
    results: dict[str, dict[str, int]] = {}
    failures: list[str] = []
    with tempfile.TemporaryDirectory(prefix="healthsite-kill-") as tmp:
        for kind in args.kinds.split(","):
            root = generate(Path(tmp) / kind / "site", args.n, search=False)
            site = Site(root, args.engine.resolve(), kind)
            out = root / "_site"
            expected = {}
            for v in ("A", "B"):
                site.version(v)
                site.build("--no-cache", "--out", str(root.parent / v))
                expected[v] = tree(root.parent / v)
                shutil.rmtree(root.parent / v)
            assert expected["A"] != expected["B"]
            site.version("A")
            site.build()
            current = "A"
            counts = {"trials": 0, "before writing": 0, "while writing": 0, "after the swap": 0,
                      "half-written": 0}
            # how long a build of this kind takes, and how long after it took the lock
            site.version("B")
            length = site.build()
            after_lock: list[float] = []
            for v in ("A", "B", "A"):  # (updates: the lock is taken just before writing)
                site.version(v)
                after_lock.append(site.write_time())
            writing = statistics.median(after_lock)
            current = "A"
            for trial in range(args.trials):
                target = "A" if current == "B" else "B"
                spare = root / "._site.spare"
                before = {"out": inodes(out), "spare": inodes(spare)}
                site.version(target)
                proc = site.start()
                if rng.random() < 0.25:  # at any moment of the build
                    at = rng.uniform(0, length * 1.05)
                    time.sleep(at)
                    how = f"at {at:.3f} s"
                else:  # while it writes: after it took the lock
                    site.locked(proc)
                    at = rng.uniform(0, writing)
                    time.sleep(at)
                    how = f"{at * 1000:.1f} ms after the lock"
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(proc.pid, signal.SIGKILL)  # the build and any worker it forked
                proc.wait()
                counts["trials"] += 1
                found = tree(out)
                if found == expected[current]:
                    staged = leftovers(root) or inodes(spare) != before["spare"]
                    window = "while writing" if staged else "before writing"
                elif found == expected[target]:
                    window = "after the swap"
                else:
                    window = "half-written"
                    changed = sorted(k for k in set(found) | set(expected[current])
                                     if found.get(k) != expected[current].get(k))
                    failures.append(f"{kind} trial {trial} killed {how}: "
                                    f"{len(changed)} files differ from {current}, e.g. "
                                    f"{changed[:3]}")
                counts[window] += 1
                # a build to the end: the target version, nothing left behind
                site.build()
                if tree(out) != expected[target]:
                    failures.append(f"{kind} trial {trial}: the build after the kill did not "
                                    f"give version {target}")
                if leftovers(root):
                    failures.append(f"{kind} trial {trial}: left {leftovers(root)}")
                current = target
                print(f"{kind} {trial + 1}/{args.trials}: killed {how} (a build: "
                      f"{length:.2f} s, after the lock {writing * 1000:.0f} ms): "
                      f"{window}", flush=True)
            tmp_files = list((root / ".cache").rglob(".tmp-*"))
            counts["cache .tmp-* files left (young, swept after 10 min)"] = len(tmp_files)
            results[kind] = counts
    summary = {"n": args.n, "trials": args.trials, "seed": args.seed,
               "engine": str(args.engine), "results": results, "failures": failures}
    print(json.dumps(summary, indent=2))
    if args.json:
        args.json.write_text(json.dumps(summary, indent=2) + "\n")
    sys.exit(1 if failures else 0)


if __name__ == "__main__":
    main()
