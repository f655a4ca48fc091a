"""The command line: `healthsite [build|check|serve|new|init|reference]` (or `python build.py
...`). One function per verb."""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import gc
import io
import json
import os
import sys
import time
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any, TextIO

from . import fast
from .errors import ProblemList, did_you_mean
from .load.config import load_config
from .load.content import new_slug
from .pipeline import (
    BadEpoch,
    BuildResult,
    BuildState,
    Options,
    build_site,
    strict_failed,
    today,
)
from .render import limits
from .report import build_report, github_lines, markdown_summary, problems_json, text_lines

VERBS = ("build", "check", "serve", "new", "init", "review", "reference")


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; return the exit code (0 ok, 1 problems, 2 usage). With no verb
    (only options, or nothing) it builds."""
    args_list = list(sys.argv[1:] if argv is None else argv)
    if args_list and not args_list[0].startswith("-") and args_list[0] not in VERBS:
        return _unknown_command(args_list[0])
    if not args_list or args_list[0] not in (*VERBS, "-h", "--help"):
        args_list.insert(0, "build")
    parser = _parser()
    try:
        args = parser.parse_args(args_list)
    except SystemExit as e:
        return 0 if e.code == 0 else 2
    return int(args.func(args))


def _unknown_command(word: str) -> int:
    hint = did_you_mean(word, VERBS) or f"the commands are {', '.join(VERBS)}"
    print(f"healthsite: error: unknown command '{word[:40]}' ({hint})", file=sys.stderr)
    return 2


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="healthsite", description="Build a health information site.")
    sub = p.add_subparsers(dest="command", required=True)
    for name, func, help_text in (("build", cmd_build, "check and write the site"),
                                  ("check", cmd_check, "check everything, write nothing")):
        s = sub.add_parser(name, help=help_text)
        s.add_argument("--strict", action="store_true", help="treat warnings as errors")
        s.add_argument("--drafts", action="store_true", help="include draft pages")
        s.add_argument("--root", type=Path, default=Path("."), help="the site's folder")
        s.add_argument("--format", choices=("text", "json", "github"), default=None,
                       help="how to print problems (default: text; github when "
                            "GITHUB_ACTIONS=true)")
        s.add_argument("--report", type=Path, help="write a JSON build report to this file")
        s.add_argument("--summary", type=Path,
                       help="append a Markdown summary for people (problems, reviews due, "
                            "pages changed) to this file, e.g. \"$GITHUB_STEP_SUMMARY\"")
        s.add_argument("--published", type=Path,
                       help="a sitemap of the URLs published before (default: the output "
                            "folder's sitemap.xml): each must still be a page, an alias or "
                            "retired")
        s.add_argument("--no-cache", dest="cache", action="store_false",
                       help="neither read nor write the rendered-Markdown cache in .cache/")
        s.add_argument("--explain", action="store_true",
                       help="say which route the build took (nothing changed, changed "
                            "articles only, in full) and why no quicker one could be taken")
        if name == "build":
            s.add_argument("--out", type=Path, help="output folder (default from site.yaml)")
        else:
            s.add_argument("--external", action="store_true",
                           help="also ask every source's url whether it still answers "
                                "(warnings: source-dead, source-redirected)")
            s.add_argument("--timeout", type=_seconds, default=10.0,
                           help="seconds to wait for each url with --external (default 10)")
        s.set_defaults(func=func)
    s = sub.add_parser("serve", help="preview the site with live reload")
    s.add_argument("--port", type=_port, default=8000, help="1-65535 (default 8000)")
    s.add_argument("--host", default="127.0.0.1")
    s.add_argument("--drafts", action="store_true", help="include draft pages")
    s.add_argument("--root", type=Path, default=Path("."), help="the site's folder")
    s.set_defaults(func=cmd_serve)
    s = sub.add_parser("new", help="start a new article")
    s.add_argument("title", help="the article's title")
    s.add_argument("--topics", default="", help="comma-separated topic slugs from site.yaml")
    s.add_argument("--root", type=Path, default=Path("."), help="the site's folder")
    s.set_defaults(func=cmd_new)
    s = sub.add_parser("init", help="start a new site in a new folder")
    s.add_argument("folder", type=Path, help="the new site's folder (new or empty)")
    s.add_argument("--title", help="the site's name (default: from the folder's name)")
    s.set_defaults(func=cmd_init)
    s = sub.add_parser("review", help="list the articles whose review is overdue or due "
                       "soon (exit 1 when any is overdue)")
    s.add_argument("--within", type=_days, default=30,
                   help="also list reviews due within this many days (default 30)")
    s.add_argument("--format", choices=("text", "json", "github"), default="text")
    s.add_argument("--root", type=Path, default=Path("."), help="the site's folder")
    s.set_defaults(func=cmd_review)
    s = sub.add_parser("reference", help="print every setting of site.yaml and front matter")
    s.set_defaults(func=cmd_reference)
    return p


def _days(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        value = -1
    if not 0 <= value <= 3660:
        raise argparse.ArgumentTypeError(f"'{text[:20]}' is not a number of days (0-3660)")
    return value


def _seconds(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        value = 0.0
    if not 0 < value <= 600:
        raise argparse.ArgumentTypeError(f"'{text[:20]}' is not a number of seconds (0-600)")
    return value


def _port(text: str) -> int:
    try:
        port = int(text)
    except ValueError:
        port = 0
    if not 1 <= port <= 65535:
        raise argparse.ArgumentTypeError(f"'{text[:20]}' is not a port number (1-65535)")
    return port


def cmd_build(args: argparse.Namespace) -> int:
    """Build and write the site."""
    return _run(args, write=True)


def cmd_check(args: argparse.Namespace) -> int:
    """Everything a build does except writing."""
    return _run(args, write=False)


def cmd_review(args: argparse.Namespace) -> int:
    """The reviews overdue and coming due: exit 1 when any is overdue."""
    from . import review

    if (bad := _bad_environment()) is not None:
        return bad
    problems = ProblemList()
    day = today()
    found = review.due(args.root.resolve(), day, args.within, problems)
    if found is None:
        print("\n".join(p.format() for p in problems.sorted()), file=sys.stderr)
        return 2
    lines = [review.as_json(found, args.within, day)] if args.format == "json" else \
        review.github(found, args.within) if args.format == "github" else \
        review.text(found, args.within)
    try:
        print("\n".join(lines), flush=True)
    except BrokenPipeError:  # the reader stopped early (`| head`)
        _drop_stdout()
    return int(any(d.overdue for d in found))


def cmd_serve(args: argparse.Namespace) -> int:
    """Preview with live reload; survives every mistake in the sources."""
    from .serve import serve

    if (bad := _bad_environment()) is not None:
        return bad
    return serve(args.root.resolve(), args.host, args.port, args.drafts)


def cmd_new(args: argparse.Namespace) -> int:
    """Write content/<slug>.md with front matter that the strict build rejects until filled."""
    root = args.root.resolve()
    problems = ProblemList()
    config = load_config(root, problems)
    if config is None:
        print("\n".join(p.format() for p in problems.sorted()), file=sys.stderr)
        return 1
    topics = [t.strip() for t in args.topics.split(",") if t.strip()]
    if (unknown := _unknown_topic(topics, {t.slug for t in config.topics})) is not None:
        print(f"healthsite new: {unknown}", file=sys.stderr)
        return 2
    path = root / "content" / f"{new_slug(args.title)}.md"
    if path.exists():
        print(f"healthsite new: {path.relative_to(root)} already exists; not overwriting it",
              file=sys.stderr)
        return 1
    if (bad := _bad_environment()) is not None:
        return bad
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(new_article(args.title, topics, today()), encoding="utf-8")
    print(f"Created {path.relative_to(root)}. Fill in the summary, sources and text, then run "
          "'python build.py check'.")
    return 0


def cmd_init(args: argparse.Namespace) -> int:
    """Write a new site that builds at once: `healthsite init DIR`."""
    from .start import InitError, init_site

    try:
        written = init_site(args.folder, args.title)
    except (InitError, OSError) as e:
        print(f"healthsite init: {e}", file=sys.stderr)
        return 2 if isinstance(e, InitError) else 1
    print(f"Created a site in {args.folder} ({len(written)} files). Next:\n"
          f"  cd {args.folder}\n  healthsite serve          # preview it as you edit\n"
          f"  healthsite build --strict # build it into _site/\n"
          "Then replace the text in bold square brackets, and the sample articles.")
    return 0


def cmd_reference(args: argparse.Namespace) -> int:
    """Print the settings reference (Markdown)."""
    from .reference import reference

    sys.stdout.write(reference())
    return 0


def _unknown_topic(topics: list[str], known: set[str]) -> str | None:
    """What is wrong with the first of `topics` that site.yaml does not list, or None."""
    for t in topics:
        if t not in known:
            hint = did_you_mean(t, known) or f"known topics: {', '.join(sorted(known))}"
            return f"unknown topic '{t}' ({hint})"
    return None


def new_article(title: str, topics: list[str], day: dt.date) -> str:
    """The text of a new article: a draft (its problems are notices and it is not published
    until `draft: true` is taken out), with placeholders that fail the checks until filled."""
    return (
        "---\n"
        f"title: {json.dumps(title, ensure_ascii=False)}\n"
        "draft: true  # take this line out to publish the page\n"
        'summary: ""  # one plain sentence, under 160 characters\n'
        f"topics: [{', '.join(topics)}]\n"
        f"reviewed: {day.isoformat()}\n"
        "sources: []  # at least two: {title: ..., publisher: ..., year: ...}\n"
        "---\n\n"
        "Start with one or two short sentences that say what this page covers.\n\n"
        "## When to get help\n\n"
        '!!! non-urgent "See a GP if:"\n'
        "    - replace this with the signs that mean someone should see a GP\n"
    )


def terminal_progress() -> Callable[[str, int, int], None] | None:
    """A one-line progress display on an interactive terminal; nothing in CI logs."""
    if not sys.stderr.isatty() or os.environ.get("CI"):
        return None

    def show(stage: str, done: int, total: int) -> None:
        if total >= 300:
            end = "\n" if done + 100 >= total else ""
            print(f"\r{stage}: {done}/{total}", end=end, file=sys.stderr, flush=True)

    return show


# The last build's result and state, left for the process's exit to drop: freeing a large
# site's objects one by one takes a tenth of a second at 10,000 articles (build.py leaves
# without freeing anything).
_LAST: list[object] = []


def _run(args: argparse.Namespace, write: bool) -> int:
    """build and check: build, then print the problems, write the report, print the summary."""
    start = time.perf_counter()
    if (bad := _bad_environment()) is not None:
        return bad
    # a report that cannot be written is found out before anything is: the site is then
    # only checked (every problem reported), the previous output left as it was
    unwritable = _unwritable(args.report) if args.report else None
    held_back = write and unwritable is not None
    write = write and not held_back
    result = _build(args, write)
    if getattr(args, "external", False):
        from .check.external import check_external

        check_external(args.root.resolve(), result.problems, timeout=args.timeout,
                       use_cache=args.cache)
    if args.explain:
        explain(result)
    failed = strict_failed(result, args.strict)
    fmt = _output_format(args)
    failed = not _print_problems(result, fmt, failed) or failed
    if args.report and unwritable is None:
        with collector_off():  # (its ten thousand small objects would start full passes)
            unwritable = _write_report(args.report, result)
    seconds = time.perf_counter() - start
    _print_summary(result, seconds, write, failed, fmt)
    if args.summary is not None:
        _append_summary(args.summary, result, seconds, write, failed)
    if unwritable is not None:
        return _cannot_report(args.report, unwritable, held_back)
    return int(failed)


def _output_format(args: argparse.Namespace) -> str:
    """--format, or github under GitHub Actions, or text."""
    return args.format or ("github" if os.environ.get("GITHUB_ACTIONS") == "true" else "text")


def _build(args: argparse.Namespace, write: bool) -> BuildResult:
    """The build the arguments ask for, with the cycle collector off; its result and state
    are kept in _LAST for the process's exit to drop."""
    out = getattr(args, "out", None)
    state = BuildState()
    with collector_off():
        result = build_site(Options(root=args.root.resolve(), out=out.resolve() if out else None,
                                    drafts=args.drafts, write=write, strict=args.strict,
                                    cache=args.cache, report=bool(args.report),
                                    progress=terminal_progress(), published=args.published),
                           state)
    _LAST[:] = [result, state]
    return result


def _append_summary(path: Path, result: BuildResult, seconds: float, wrote: bool,
                    failed: bool) -> None:
    """--summary: the build for people, in Markdown, appended to `path` (a step summary);
    a file that cannot be written is said on standard error, never a failed build."""
    line = io.StringIO()
    summary(result, seconds, wrote, failed, out=line)
    try:
        with path.open("a", encoding="utf-8") as fh:
            fh.write(markdown_summary(result, line.getvalue().strip(), failed))
    except OSError as e:
        print(f"healthsite: cannot write the summary to {path}: {e.strerror or e}",
              file=sys.stderr)


def _write_report(report: Path, result: BuildResult) -> str | None:
    """Write the JSON build report; why it could not be written, or None."""
    try:
        report.write_text(_report_text(build_report(result)), encoding="utf-8")
    except OSError as e:
        return f"{e.strerror or e}"
    return None


def _report_text(report: dict[str, Any]) -> str:
    """The report as indented JSON, but each item of a long list (the articles) on one line:
    json's C encoder writes those, where indenting everything takes its Python encoder,
    about ten times slower (1-3 s for a 10,000-article report)."""
    parts = []
    for key, value in report.items():
        name = json.dumps(key, ensure_ascii=False)
        if isinstance(value, list) and len(value) > 20:
            items = ",\n".join("    " + json.dumps(v, ensure_ascii=False) for v in value)
            parts.append(f"  {name}: [\n{items}\n  ]")
        else:
            text = json.dumps(value, indent=2, ensure_ascii=False).replace("\n", "\n  ")
            parts.append(f"  {name}: {text}")
    return "{\n" + ",\n".join(parts) + "\n}\n"


def _print_summary(result: BuildResult, seconds: float, wrote: bool, failed: bool,
                   fmt: str) -> None:
    """The summary (on standard error when the problems went to standard output as JSON),
    unless the output cannot take it (reported already, or a reader that stopped): then
    what is still to be printed goes nowhere."""
    try:
        summary(result, seconds, wrote, failed, out=sys.stderr if fmt == "json" else sys.stdout)
    except OSError:
        _drop_stdout()


def _cannot_report(report: Path, why: str, held_back: bool) -> int:
    """Say that the report could not be written (and the site, if so, not either): exit 1."""
    print(f"healthsite: error: cannot write the report to {report}: {why}"
          + ("; the site was checked, not written" if held_back else ""), file=sys.stderr)
    return 1


@contextlib.contextmanager
def collector_off() -> Iterator[None]:
    """Python's cycle collector off for a one-shot build. What a build makes lives until it
    ends and holds almost no reference cycles, so the collector's full passes only walk it,
    again and again: at 10,000 articles 1.8-2.7 s of a cold build's main process (and its
    forked workers inherit the work). A process-wide setting, so it belongs here, to the
    command that owns the process, not to the library (the preview's server keeps the
    collector on). Peak memory with it off: see bench/README.md."""
    was = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was:
            gc.enable()


def explain(result: BuildResult) -> None:
    """--explain: which route the build took and why no quicker one could be taken."""
    print(f"healthsite: route: {result.route}", file=sys.stderr)
    for reason in result.why:
        print(f"healthsite:   not quicker: {reason}", file=sys.stderr)


def _print_problems(result: BuildResult, fmt: str, failed: bool) -> bool:
    """Print the problems in the format asked for; False when standard output could not
    take them (a full disk behind `> file`)."""
    try:
        for line in _problem_lines(result, fmt, failed):
            print(line)
        if sys.stdout is not None:
            sys.stdout.flush()
    except BrokenPipeError:  # the reader stopped early (`| head`): end quietly, as Unix tools do
        _drop_stdout()
    except OSError as e:
        print(f"healthsite: error: cannot write the problems to standard output: "
              f"{e.strerror or e}", file=sys.stderr)
        _drop_stdout()
        return False
    return True


def _problem_lines(result: BuildResult, fmt: str, failed: bool) -> list[str]:
    """The problems as `fmt` prints them: one JSON document, or text lines (after GitHub's
    annotations for github)."""
    if fmt == "json":
        return [problems_json(result, failed)]
    problems = result.problems.sorted()
    lines = text_lines(problems, result.problems.errors, result.problems.warnings,
                       result.problems.notices)
    return github_lines(problems) + lines if fmt == "github" else lines


def _drop_stdout() -> None:
    """Send what is still to be printed nowhere: standard output cannot take it."""
    if sys.stdout is not None:
        with contextlib.suppress(OSError, ValueError):
            os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        sys.stdout = open(os.devnull, "w")  # noqa: SIM115 (lives as long as the process)


def _bad_environment() -> int | None:
    """Exit code 2 and a one-line error when SOURCE_DATE_EPOCH, the render budget
    (HEALTHSITE_RENDER_SECONDS) or the fast paths' switch (HEALTHSITE_FAST_PATHS) is set
    but unusable."""
    try:
        today()
    except BadEpoch as e:
        print(f"healthsite: error: {e}", file=sys.stderr)
        return 2
    if limits.BAD_SETTING:
        print(f"healthsite: error: {limits.BAD_SETTING}", file=sys.stderr)
        return 2
    if switch := fast.switch_problem():  # (a typo such as `of` would leave them on)
        print(f"healthsite: error: {switch}", file=sys.stderr)
        return 2
    return None


def _unwritable(report: Path) -> str | None:
    """Why a report file cannot be written there, or None when it seems it can."""
    if report.is_dir():
        return "it is a folder"
    parent = report.parent if str(report.parent) else Path(".")
    if not parent.is_dir():
        return f"{parent} is not a folder"
    if not os.access(parent, os.W_OK) or (report.exists() and not os.access(report, os.W_OK)):
        return "permission denied"
    return None


def summary(result: BuildResult, seconds: float, wrote: bool, failed: bool,
            out: TextIO | None = None) -> None:
    """A one-screen summary of what was built (on standard output unless told otherwise)."""
    out = out or sys.stdout
    s = result.summary
    if not s:
        print(f"Nothing built ({seconds:.2f} s).", file=out)
        return
    avg = f", average reading grade {s['grade']:.1f}" if s["grade"] >= 0 else ""
    verb = _verb(result, wrote, failed)
    where = f" -> {result.out_dir}" if verb != "Checked" and result.out_dir else ""
    print(f"{verb} {s['pages']:.0f} pages ({s['articles']:.0f} articles, "
          f"{s['site_pages']:.0f} site pages, {s['topics']:.0f} topics){avg} in {seconds:.2f} s"
          f"{where}", file=out)


def _verb(result: BuildResult, wrote: bool, failed: bool) -> str:
    """How the summary starts: what the build did with the site."""
    if not wrote or failed:
        return "Checked"
    return "Up to date:" if result.up_to_date else "Built"
