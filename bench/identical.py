"""Digests of what an engine builds, to show that a change left the output byte-identical.

    python bench/identical.py --engine DIR [--fast-paths off] [--n 1000] --json out.json

Builds, with the engine checked out in DIR (its build.py), in fresh processes and with
SOURCE_DATE_EPOCH fixed: this repository's own site (a copy of content/, templates/, static/
and site.yaml) and a `bench/synth.py` corpus of --n articles, each from scratch (--no-cache)
and then again with the cache (a cold build that keeps .cache/, then a warm one). Prints, and
writes with --json, one SHA-256 per output tree (every file's path, mode and bytes) and of
the problems the build reported. Compare two engines' files, or one engine's with fast paths
on and off (HEALTHSITE_FAST_PATHS=off)."""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
sys.path.insert(0, str(HERE))
from synth import generate  # noqa: E402

EPOCH = "1796083200"  # 2026-12-01


def tree(out: Path) -> str:
    h = hashlib.sha256()
    for path in sorted(p for p in out.rglob("*") if p.is_file()):
        rel = path.relative_to(out).as_posix()
        h.update(f"{rel}\0{path.stat().st_mode & 0o777:o}\0".encode())
        h.update(hashlib.sha256(path.read_bytes()).digest())
    return h.hexdigest()


def build(engine: Path, root: Path, out: Path, env: dict[str, str], *extra: str) -> str:
    proc = subprocess.run([sys.executable, str(engine / "build.py"), "build", "--root",
                           str(root), "--out", str(out), *extra], env=env,
                          capture_output=True, text=True)
    # the problems and summary, without the figures of time
    text = (proc.stdout + proc.stderr).replace(str(out), "OUT").replace(str(root), "ROOT")
    text = re.sub(r"\d+(\.\d+)? ?(s|ms)\b", "T", text)
    lines = text.splitlines()
    return hashlib.sha256(f"{proc.returncode}\n" "\n".join(lines).encode()).hexdigest()


def site_copy(dest: Path) -> Path:
    dest.mkdir(parents=True)
    for name in ("content", "templates", "static"):
        shutil.copytree(REPO / name, dest / name)
    shutil.copyfile(REPO / "site.yaml", dest / "site.yaml")
    return dest


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--engine", type=Path, default=REPO)
    ap.add_argument("--fast-paths", choices=("on", "off"), default="on")
    ap.add_argument("--n", type=int, default=1000)
    ap.add_argument("--json", type=Path)
    args = ap.parse_args()
    env = {**os.environ, "SOURCE_DATE_EPOCH": EPOCH, "PYTHONPATH": str(args.engine)}
    if args.fast_paths == "off":
        env["HEALTHSITE_FAST_PATHS"] = "off"
    figures: dict[str, str] = {}
    with tempfile.TemporaryDirectory() as tmp:
        sites = {"rls": site_copy(Path(tmp) / "rls"),
                 f"synth{args.n}": Path(tmp) / f"synth{args.n}"}
        generate(sites[f"synth{args.n}"], args.n, search=True)
        for name, root in sites.items():
            scratch = root / "_scratch"
            figures[f"{name} problems (no cache)"] = build(args.engine, root, scratch, env,
                                                           "--no-cache")
            figures[f"{name} output (no cache)"] = tree(scratch)
            out = root / "_site"
            figures[f"{name} problems (cold)"] = build(args.engine, root, out, env)
            figures[f"{name} problems (warm)"] = build(args.engine, root, out, env)
            figures[f"{name} output (cached)"] = tree(out)
    for k, v in figures.items():
        print(f"{v[:16]}  {k}")
    if args.json:
        args.json.write_text(json.dumps(figures, indent=1) + "\n")


if __name__ == "__main__":
    main()
