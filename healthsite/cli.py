"""The command line: `python build.py [build|check|serve|new]`. One function per verb."""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Sequence
from pathlib import Path

from .pipeline import BuildResult, Options, build_site, strict_failed


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; return the exit code (0 ok, 1 problems, 2 usage)."""
    args_list = list(sys.argv[1:] if argv is None else argv)
    if not args_list or args_list[0].startswith("-") and args_list[0] not in ("-h", "--help"):
        args_list.insert(0, "build")
    parser = _parser()
    try:
        args = parser.parse_args(args_list)
    except SystemExit as e:
        return 0 if e.code == 0 else 2
    return int(args.func(args))


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="healthsite", description="Build a health information site.")
    sub = p.add_subparsers(dest="command", required=True)
    for name, func, help_text in (("build", cmd_build, "check and write the site"),
                                  ("check", cmd_check, "check everything, write nothing")):
        s = sub.add_parser(name, help=help_text)
        s.add_argument("--strict", action="store_true", help="treat warnings as errors")
        s.add_argument("--drafts", action="store_true", help="include draft pages")
        s.add_argument("--root", type=Path, default=Path("."), help="the site's folder")
        if name == "build":
            s.add_argument("--out", type=Path, help="output folder (default from site.yaml)")
        s.set_defaults(func=func)
    return p


def cmd_build(args: argparse.Namespace) -> int:
    """Build and write the site."""
    return _run(args, write=True)


def cmd_check(args: argparse.Namespace) -> int:
    """Everything a build does except writing."""
    return _run(args, write=False)


def _run(args: argparse.Namespace, write: bool) -> int:
    start = time.perf_counter()
    out = getattr(args, "out", None)
    result = build_site(Options(root=args.root.resolve(), out=out.resolve() if out else None,
                                drafts=args.drafts, write=write))
    report(result)
    failed = strict_failed(result, args.strict)
    summary(result, time.perf_counter() - start, write, failed)
    return 1 if failed else 0


def report(result: BuildResult) -> None:
    """Print every problem once, sorted, then a count."""
    problems = result.problems.sorted()
    for p in problems:
        print(p.format())
    if problems:
        e, w = result.problems.errors, result.problems.warnings
        print(f"{e} error{'s' * (e != 1)}, {w} warning{'s' * (w != 1)}")


def summary(result: BuildResult, seconds: float, wrote: bool, failed: bool) -> None:
    """A one-screen summary of what was built."""
    g = result.graph
    if g is None:
        print(f"Nothing built ({seconds:.2f} s).")
        return
    articles = sum(1 for a in g.articles.values() if a.is_article)
    pages = sum(1 for k in result.files if k.endswith(".html"))
    grades = [r.grade for r in result.grades.values()]
    avg = f", average reading grade {sum(grades) / len(grades):.1f}" if grades else ""
    if failed or not result.files:
        verb = "Checked"
    else:
        verb = "Built" if wrote else "Checked"
    where = f" -> {result.out_dir}" if wrote and result.out_dir and not failed else ""
    print(f"{verb} {pages} pages ({articles} articles, {len(g.articles) - articles} site pages, "
          f"{len(g.topics)} topics){avg} in {seconds:.2f} s{where}")
