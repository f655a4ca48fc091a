"""A property test of incremental builds (issue 17, acceptance point 2): after every step
of random walks of edits to a small site, the builds that use what earlier builds left
write and report exactly what a build from scratch (`--no-cache`) does.

Each step makes one kind of change (`KINDS`: an article's text, title or summary, topics,
links, headings, draft flag; an article deleted, renamed or added; site.yaml; a template;
the glossary; static files; every input put back as it was at an earlier build; nothing at
all; an editor fixing the last build's errors). Some changes make errors or warnings and
some fix them. Then the same inputs are built three ways:

- the command line's route: `build_site(Options(root=A))` with no state, as `build.py
  build` in a new process does (it may find nothing changed, or take the one-edit
  shortcut: see `took_shortcut`);
- the preview server's route: `build_site(Options(root=B, write=False), state)` on a copy
  of the site, with one `BuildState` kept for the whole walk, as `build.py serve` does;
- from scratch: `build_site(Options(root=A, out=..., cache=False))` into a new folder.

"Equal" means what tests/test_cache.py's incremental test means: the same output files
byte for byte (for the preview, the same pages: it makes its own search index), the same
sorted formatted problems and the same summary. A build with errors writes nothing: the
published site must still be the last good build's.

The walks are seeded (the same steps on every run). On a failure the test shrinks the
failing walk (drops steps while it still fails, for at most `SHRINK_SECONDS`) and reports
the steps left, what each did and what differed; `HEALTHSITE_WALK='[["text", 12], ...]'`
replays a list of steps as it is printed."""

from __future__ import annotations

import dataclasses
import difflib
import json
import os
import random
import re
import shutil
import sys
import time
import traceback
from collections import Counter
from collections.abc import Callable
from pathlib import Path

import pytest
from conftest import REPO

from healthsite.pipeline import BuildResult, BuildState, Options, build_site

sys.path.insert(0, str(REPO / "bench"))
from synth import WORDS, generate  # noqa: E402

ARTICLES = 20  # articles in each walk's site (bench/synth.py, with short bodies)
WALKS = [(1, False, 42), (3, True, 20), (2, False, 42)]  # (seed, search index on, steps)
SHRINK_SECONDS = 240.0
EPOCH = "1800000000"  # 2027-01-15: every generated review date is in the past
MARKER = ".healthsite-output"  # the file that marks an output folder as the build's own
INDEX = "pagefind/"  # the search index (the preview makes its own)
LEAVES = [f"topic-{r}-{c}" for r in range(6) for c in range(9)]
TOPIC_CHOICES = [*LEAVES[:12], "area-1", "extra-topic", "no-such-topic"]
GLOSSARY_TERMS = ["Calf", "Vein", "Iron", "Tablet", "Clot", "Kidney", "Nerve"]
LINK = re.compile(r"\[([^\]\n]*)\]\(([^)\n]*)\)")
HEADING = re.compile(r"^(#{2,6}) (.+)$", re.M)
# every kind of change; each round of a walk makes them all once, in a random order (text
# edits three times: they are the ones that may take the shortcut; headings and links
# twice)
KINDS = ("text", "title", "topics", "links", "headings", "draft", "delete", "rename", "add",
         "site.yaml", "template", "glossary", "static", "revert", "nothing")
ROUND = (*KINDS, "text", "text", "headings", "links")

Plan = list[tuple[str, int]]  # a walk's steps: each a kind of change and its own seed


def took_shortcut(result: BuildResult) -> bool:
    """Whether the build took the one-edit route (only articles' own text changed: only
    their pages rendered again; healthsite/incremental/delta.py). The issue 17 rewrite is
    renaming it (it was a "delta" timing, now `result.route`): the one place to change."""
    return result.route == "delta"


def inputs(root: Path) -> dict[str, bytes]:
    """Every input file of a site, by its path in the site."""
    found = {"site.yaml": (root / "site.yaml").read_bytes()}
    for top in ("content", "templates", "static"):
        for path in sorted((root / top).rglob("*")):
            if path.is_file():
                found[path.relative_to(root).as_posix()] = path.read_bytes()
    return found


def restore(root: Path, files: dict[str, bytes]) -> None:
    """Make a site's input files exactly `files`, writing only those that differ."""
    present = inputs(root)
    for rel in present.keys() - files.keys():
        (root / rel).unlink()
    for rel, data in files.items():
        if present.get(rel) != data:
            (root / rel).parent.mkdir(parents=True, exist_ok=True)
            (root / rel).write_bytes(data)


def output(folder: Path) -> dict[str, bytes]:
    return {p.relative_to(folder).as_posix(): p.read_bytes()
            for p in sorted(folder.rglob("*")) if p.is_file()} if folder.is_dir() else {}


def problems(result: BuildResult, renamed: set[tuple[str, int, int, str, str]] | None = None
             ) -> list[str]:
    """The problems, as printed; those at a place in `renamed` without their hint."""
    return [dataclasses.replace(p, hint="").format()
            if renamed and (p.path, p.line, p.col, p.code, p.message) in renamed else p.format()
            for p in result.problems.sorted()]


def renamed_hints(result: BuildResult) -> set[tuple[str, int, int, str, str]]:
    """Where a build named a renamed article in a hint: it knows of the rename from the last
    written build, history that a build from scratch (into a new folder) has not; such a
    problem is compared without its hint (tests/test_urls.py tests the hint)."""
    return {(p.path, p.line, p.col, p.code, p.message) for p in result.problems.sorted()
            if p.hint.startswith("it was renamed")}


def differences(got: dict[str, bytes], want: dict[str, bytes]) -> str:
    """What differs between two sets of files, for an assertion's message."""
    changed = sorted(k for k in got.keys() & want.keys() if got[k] != want[k])
    lines = [f"only in the incremental build: {sorted(got.keys() - want.keys())}",
             f"only in the build from scratch: {sorted(want.keys() - got.keys())}",
             f"different: {changed}"]
    if changed:
        a = got[changed[0]].decode(errors="replace").splitlines()
        b = want[changed[0]].decode(errors="replace").splitlines()
        lines += list(difflib.unified_diff(b, a, "from scratch", "incremental", n=1,
                                           lineterm=""))[:40]
    return "\n".join(lines)


def expect(ok: bool, message: Callable[[], str]) -> None:
    """An assertion whose message is only what differs (not pytest's rewriting of it)."""
    if not ok:
        raise AssertionError(message())


def same_list(got: list[str], want: list[str]) -> str:
    return "\n".join(difflib.unified_diff(want, got, "from scratch", "incremental", n=0,
                                          lineterm=""))


class Walk:
    """One site, its copy for the preview's route, and the history of their inputs."""

    def __init__(self, folder: Path, search: bool) -> None:
        self.dir = folder
        # (without the URL check: the build from scratch, into a new folder, has no URL
        # history to compare with; tests/test_urls.py tests it)
        self.root = generate(folder / "a", ARTICLES, words=150, search=search,
                             url_history=False)
        # warnings from the start (a build must carry over the ones of pages it keeps)
        self.edit("site.yaml", r"^  dead-end: off$", "  dead-end: warning")
        for slug in ("a00001", "a00002"):
            self.edit(f"content/{slug}.md", r" for more\.$", ' for <b onclick="go()">more</b>.')
        # and links to headings, which the heading changes may rename
        for slug, other in (("a00003", 4), ("a00005", 6), ("a00007", 3)):
            with open(self.path(slug), "a", encoding="utf-8") as f:
                f.write(f"\nSee [that part](a{other:05d}.md#section-2-of-article-{other}).\n")
        self.copy = folder / "b"  # the preview's site: the same inputs, its own .cache
        shutil.copytree(self.root, self.copy)
        self.state = BuildState()  # the preview's, kept for the whole walk
        self.n = 0  # for new, unique names and words
        self.history: list[dict[str, bytes]] = []  # the inputs of every build so far
        self.routes: list[str] = []  # and the command line's route: full, shortcut...
        self.good: dict[str, bytes] = {}  # the inputs of the last build without errors
        self.published: dict[str, bytes] = {}  # what that build wrote
        self.last: BuildResult | None = None  # the last build from scratch
        self.wrote = False  # whether the last command-line build wrote the site
        self.stats: Counter[str] = Counter()
        self.log: list[str] = []  # what each step did
        self.build("initial")
        assert not self.broken, problems(self.last)  # type: ignore[arg-type]

    @property
    def broken(self) -> bool:
        return self.last is not None and bool(self.last.problems.errors)

    def step(self, kind: str, seed: int) -> None:
        change: Callable[[random.Random], str] = getattr(self, kind.replace(".", "_"))
        self.log.append(f"{kind}: {change(random.Random(seed))}")
        self.build(kind)

    # -- the three builds after each step, compared ------------------------------------

    def build(self, kind: str) -> None:
        restore(self.copy, inputs(self.root))
        now = inputs(self.root)
        cli = build_site(Options(root=self.root))
        preview = build_site(Options(root=self.copy, write=False), self.state)
        scratch_dir = self.dir / "scratch"
        shutil.rmtree(scratch_dir, ignore_errors=True)
        scratch = build_site(Options(root=self.root, out=scratch_dir, cache=False))
        history = renamed_hints(cli)
        want = problems(scratch, history)
        expect(problems(cli, history) == want, lambda: "problems differ\n" +
               same_list(problems(cli, history), want))
        expect(cli.summary == scratch.summary,
               lambda: f"the summary differs: {cli.summary} != {scratch.summary}")
        expect(problems(preview, history) == want, lambda: "the preview's problems differ\n" +
               same_list(problems(preview, history), want))
        expect(preview.summary == scratch.summary,
               lambda: f"the preview's summary differs: {preview.summary} != {scratch.summary}")
        site = output(self.root / "_site")
        if scratch.problems.errors:  # nothing is written: the last good site stands
            expect(site == self.published, lambda: "a build with errors changed the site\n" +
                   differences(site, self.published))
        else:
            written = output(scratch_dir)
            expect(site == written, lambda: "the output differs\n" +
                   differences(site, written))
            pages = {k: v for k, v in written.items()
                     if k != MARKER and not k.startswith(INDEX)}
            shown = dict(preview.files)  # (the preview has every page in hand)
            expect(shown == pages and set(preview.paths()) == set(shown),
                   lambda: "the preview's pages differ\n" + differences(shown, pages))
            self.published, self.good = written, now
        if kind == "nothing" and self.wrote:
            expect(cli.up_to_date, lambda: "nothing changed, yet the build was not skipped")
        self.wrote = not scratch.problems.errors
        self.last = scratch
        self.history.append(now)
        self.routes.append("errors" if scratch.problems.errors else "shortcut"
                           if took_shortcut(cli) else "unchanged" if cli.up_to_date else "full")
        s = self.stats
        s["steps"] += kind != "initial"
        s[kind] += 1
        s["builds with errors" if scratch.problems.errors else "clean builds"] += 1
        s["shortcut"] += took_shortcut(cli)
        s["up to date"] += cli.up_to_date
        s["with warnings"] += bool(scratch.problems.warnings)
        if scratch.config is not None and scratch.config.search:
            s["with search"] += 1
            s["shortcut with search"] += took_shortcut(cli)

    # -- reading and editing the site ---------------------------------------------------

    def slugs(self) -> list[str]:
        return sorted(p.stem for p in (self.root / "content").glob("*.md"))

    def path(self, slug: str) -> Path:
        return self.root / "content" / f"{slug}.md"

    def read(self, slug: str) -> str:
        return self.path(slug).read_text(encoding="utf-8")

    def write(self, slug: str, text: str) -> None:
        self.path(slug).write_text(text, encoding="utf-8")

    def edit(self, rel: str, change: str, new: str | Callable[[re.Match[str]], str]) -> None:
        """Replace a regular expression's first match in a file of the site."""
        path = self.root / rel
        path.write_text(re.sub(change, new, path.read_text(encoding="utf-8"), count=1,
                               flags=re.M), encoding="utf-8")

    def fresh(self) -> int:
        """A number not used before in this walk (for new names and words)."""
        self.n += 1
        return self.n

    def anchors(self, slug: str) -> list[str]:
        """The ids of an article's headings (their words, lowercase, joined by hyphens)."""
        return ["-".join(h.lower().split()) for _, h in HEADING.findall(self.read(slug))]

    def linked_headings(self) -> list[tuple[str, str]]:
        """(article, heading id) of the headings that links point to."""
        slugs = set(self.slugs())
        return sorted({(m[1], m[2]) for slug in slugs
                       for m in re.finditer(r"\]\(([a-z0-9-]+)\.md#([a-z0-9-]+)\)",
                                            self.read(slug))
                       if m[1] in slugs and m[2] in self.anchors(m[1])})

    def set_field(self, slug: str, key: str, value: str | None) -> None:
        """Set (or, with None, remove) a front matter line `key: value`."""
        head, sep, body = self.read(slug).partition("\n---\n")
        lines = [line for line in head.split("\n") if not line.startswith(f"{key}:")]
        if value is not None:
            lines.insert(1, f"{key}: {value}")
        self.write(slug, "\n".join(lines) + sep + body)

    def unlink(self, target: str) -> None:
        """An editor's tidying when `target` goes: links to it become text, picks go."""
        for other in self.slugs():
            text = self.read(other)
            tidy = LINK.sub(lambda m: m[1] if m[2].split("#")[0] == f"{target}.md" else m[0],
                            text)
            tidy = re.sub(r"^next: \[(.*)\]$", lambda m: "next: [" + ", ".join(
                s for s in m[1].split(", ") if s != target) + "]", tidy, flags=re.M)
            if tidy != text:
                self.write(other, tidy.replace("next: []\n", ""))

    # -- one method per kind of change: each makes it and says what it did --------------

    def text(self, rng: random.Random) -> str:
        """An article's own text; the last three ways bring a warning or an error."""
        slug, word = rng.choice(self.slugs()), rng.choice(WORDS)
        how = rng.choice(["append", "prepend", "reword", "service", "raw-html",
                          "placeholder", "alarm"])
        head, sep, body = self.read(slug).partition("\n---\n")
        sentence = f"{word.capitalize()} {self.fresh()} more {word}."
        if how == "append":
            body = body.rstrip("\n") + f"\n\n{sentence}\n"
        elif how == "prepend":  # moves every line below it
            body = f"\n{sentence}\n" + body
        elif how == "reword" and re.search(rf"\b{word}\b", body):  # the same size
            body = re.sub(rf"\b{word}\b", word[::-1], body, count=1)
        elif how == "service":
            body += "\nCall {{urgent_service}} for advice.\n"
        elif how == "raw-html":
            body += f'\nSee <span onclick="go()">{word}</span>.\n'
        elif how == "placeholder":
            body += "\nCall {{no_such_service}}.\n"
        elif how == "alarm":  # an alarm symptom with no urgent care card
            body = body.replace("!!! urgent", "!!! info") + "\nChest pain is common.\n"
        else:
            body += f"\n{sentence}\n"
        self.write(slug, head + sep + body)
        return f"{how} in {slug}"

    def title(self, rng: random.Random) -> str:
        """A title or summary (which lists and suggestions of the article show); the last
        three ways are front matter mistakes."""
        slug, word = rng.choice(self.slugs()), rng.choice(WORDS)
        how = rng.choice(["title", "title", "summary", "colon", "empty", "unknown-key",
                          "yaml"])
        key, value = {
            "title": ("title", f"{word.capitalize()} {self.fresh()} explained"),
            "summary": ("summary", f"What to know about {word} {self.fresh()}."),
            "colon": ("title", f'"Legs: {word} {self.fresh()}"'),
            "empty": ("title", ""),
            "unknown-key": ("colour", word),
            "yaml": ("title", f"[{word}"),
        }[how]
        self.set_field(slug, key, value)
        return f"{how} of {slug}: {key}: {value}"

    def topics(self, rng: random.Random) -> str:
        """An article's topics, in order (none, an unknown one, or the one only site.yaml's
        `extra` change declares, are mistakes)."""
        slug = rng.choice(self.slugs())
        topics = rng.sample(TOPIC_CHOICES, rng.choice([0, 1, 2, 2, 3, 3]))
        self.set_field(slug, "topics", f"[{', '.join(topics)}]")
        return f"{slug}: {topics}"

    def links(self, rng: random.Random) -> str:
        """A link to another article, or to one of its headings, added, removed or
        pointed elsewhere; or a broken one."""
        slug, other = rng.choice(self.slugs()), rng.choice(self.slugs())
        how = rng.choice(["add", "add", "add", "anchor", "anchor", "remove", "retarget",
                          "broken", "broken-anchor"])
        text = self.read(slug)
        head, sep, body = text.partition("\n---\n")
        found = list(LINK.finditer(body))
        anchors = self.anchors(other)
        if how == "anchor" and anchors:
            new = f"[that part]({other}.md#{rng.choice(anchors)})"
            body += f"\nSee {new}.\n"
        elif how in ("remove", "retarget") and found:
            m = rng.choice(found)
            new = m[1] if how == "remove" else f"[{m[1]}]({other}.md)"
            body = body.replace(m[0], new, 1)
            how = f"{how} {m[0]}"
        elif how == "broken":
            new = f"[this](gone-{self.fresh()}.md)"
            body += f"\nSee {new}.\n"
        elif how == "broken-anchor":
            new = f"[that part]({other}.md#no-such-part)"
            body += f"\nSee {new}.\n"
        else:
            new = f"[more {self.fresh()}]({other}.md)"
            body += f"\nRead {new} too.\n"
        self.write(slug, head + sep + body)
        return f"{how} in {slug}: {new}"

    def headings(self, rng: random.Random) -> str:
        """Headings, whose ids links may point to; a skipped level is an error."""
        slug, word = rng.choice(self.slugs()), rng.choice(WORDS)
        how = rng.choice(["rename", "rename-linked", "rename-linked", "add", "remove",
                          "skip-level"])
        linked = self.linked_headings()
        if how == "rename-linked" and linked:  # one that links point to
            slug, anchor = rng.choice(linked)
        text = self.read(slug)
        found = list(HEADING.finditer(text))
        if how == "rename-linked" and linked:
            found = [m for m in found if "-".join(m[2].lower().split()) == anchor]
        title = f"Part {word} {self.fresh()}"
        if how.startswith("rename") and found:
            m = rng.choice(found)
            text = text[:m.start(2)] + title + text[m.end(2):]
            how = f"rename {m[2]!r} to"
        elif how == "remove" and found:
            m = rng.choice(found)
            text = text[:m.start()] + text[m.end():]
            how, title = "remove", m[2]
        elif how == "skip-level":
            text += f"\n#### {title}\n\nSome {word}.\n"
        else:
            text += f"\n## {title}\n\nSome {word}.\n"
        self.write(slug, text)
        return f"{how} {title!r} in {slug}"

    def draft(self, rng: random.Random) -> str:
        """A draft on or off (links to a draft are errors)."""
        slug = rng.choice(self.slugs())
        on = "\ndraft: true\n" not in self.read(slug)
        self.set_field(slug, "draft", "true" if on else None)
        return f"{slug} {'made a draft' if on else 'published'}"

    def delete(self, rng: random.Random) -> str:
        """An article deleted, with or without the links and picks to it."""
        slugs = self.slugs()
        if len(slugs) < 8:
            return "nothing (too few articles left)"
        slug, tidy = rng.choice(slugs), rng.random() < 0.5
        self.path(slug).unlink()
        if tidy:
            self.unlink(slug)
        return f"{slug}{', links to it removed' if tidy else ''}"

    def rename(self, rng: random.Random) -> str:
        """An article's file renamed (its address changes), with or without the links and
        picks to it following."""
        slug, tidy = rng.choice(self.slugs()), rng.random() < 0.5
        new = f"renamed-{self.fresh()}"
        self.path(slug).rename(self.path(new))
        if tidy:
            for other in self.slugs():
                text = self.read(other)
                moved = re.sub(rf"\({slug}\.md\b", f"({new}.md", text)
                moved = re.sub(rf"^(next: \[.*)\b{slug}\b", rf"\g<1>{new}", moved, flags=re.M)
                if moved != text:
                    self.write(other, moved)
        return f"{slug} to {new}{', links to it too' if tidy else ''}"

    def add(self, rng: random.Random) -> str:
        """A new article (or a site page), linking to others."""
        slug, page = f"added-{self.fresh()}", rng.random() < 0.25
        to = rng.sample(self.slugs(), rng.randint(0, 2))
        links = "".join(f"\nRead [more]({other}.md) here.\n" for other in to)
        head = "kind: page\n" if page else (
            f"topics: [{rng.choice(LEAVES[:12])}]\nsources:\n"
            "  - {title: A, publisher: B, year: 2024}\n  - {title: C, publisher: D, year: 2023}\n")
        self.write(slug, f"---\ntitle: Added {slug}\nsummary: A new one.\n"
                   f"reviewed: 2026-02-02\n{head}---\n\n## About {slug}\n\nNew text.\n{links}")
        return f"{'page' if page else 'article'} {slug} linking to {to}"

    def site_yaml(self, rng: random.Random) -> str:
        """site.yaml: a topic's title, reading next's count, a check's level, the site's
        title, the search index on or off, a topic added or removed, an unknown key."""
        how = rng.choice(["topic-title", "count", "check", "site-title", "search", "extra",
                          "unknown-key"])
        path = self.root / "site.yaml"
        if how == "topic-title":
            r, c = rng.randrange(6), rng.randrange(9)
            self.edit("site.yaml", rf"^(    title: Topic {r}\.{c})\b.*$",
                      rf"\g<1> revised {self.fresh()}")
            how = f"title of topic-{r}-{c}"
        elif how == "count":
            count = rng.randint(1, 6)
            self.edit("site.yaml", r"^  count: \d+$", f"  count: {count}")
            how = f"reading next count {count}"
        elif how == "check":
            code = rng.choice(["readability", "dead-end", "orphan", "no-reading-next"])
            level = rng.choice(["off", "warning", "error"])
            text = re.sub(rf"^  {code}: \w+\n", "", path.read_text(), flags=re.M)
            path.write_text(text.replace("checks:\n", f"checks:\n  {code}: {level}\n"))
            how = f"checks: {code}: {level}"
        elif how == "site-title":
            self.edit("site.yaml", r"^title: .*$", f"title: Site {self.fresh()}")
        elif how == "search":
            self.edit("site.yaml", r"^search: (\w+)$",
                      lambda m: "search: " + ("false" if m[1] == "true" else "true"))
        elif how == "extra":  # a topic that articles may use (or lose)
            text = path.read_text()
            extra = ("  - slug: extra-topic\n    parent: area-1\n    title: Extra topic\n"
                     "    description: Extra.\n")
            path.write_text(text.replace(extra, "") if extra in text else text + extra)
            how = "extra-topic " + ("removed" if extra in text else "added")
        else:
            self.edit("site.yaml", r"\A", "colour: blue\n")
        return how

    def template(self, rng: random.Random) -> str:
        """A template: text on every article's page, on every page, a Jinja comment (the
        output is the same), a partial, a syntax error."""
        how, n = rng.choice(["article", "base", "comment", "partial", "broken"]), self.fresh()
        if how == "article":
            self.edit("templates/article.html", r'<p class="lede">',
                      f'<p class="kicker">Note {n}</p>\n  <p class="lede">')
        elif how == "base":
            self.edit("templates/base.html", "</main>", f"<!-- {n} --></main>")
        elif how == "comment":
            self.edit("templates/base.html", "</main>", f"{{# {n} #}}</main>")
        elif how == "partial":
            self.edit("templates/partials/breadcrumbs.html", r"\A", f"<!-- crumbs {n} -->\n")
        else:
            self.edit("templates/article.html", r"\Z", "{% if %}\n")
        return how

    def glossary(self, rng: random.Random) -> str:
        """The glossary (the first use of a term on any page links to it): an entry added
        (twice is an error), a definition changed, the file removed, bad YAML."""
        path, term = self.root / "content" / "glossary.yaml", rng.choice(GLOSSARY_TERMS)
        how = rng.choice(["add", "add", "add", "define", "remove", "broken"])
        text = path.read_text() if path.exists() else ""
        if how == "remove" and path.exists():
            path.unlink()
        elif how == "define" and "definition: " in text:
            path.write_text(text.replace("definition: ", f"definition: So {self.fresh()}. ", 1))
        elif how == "broken":
            path.write_text(text + "- term: [\n")
        else:
            path.write_text(text + f"- term: {term}\n  definition: A {term.lower()} "
                            f"(note {self.fresh()}).\n")
            how = f"add {term}"
        return how

    def static(self, rng: random.Random) -> str:
        """The stylesheet (every page links it by a digest of its bytes), or another
        static file added or removed."""
        how, n = rng.choice(["css", "css", "add", "remove"]), self.fresh()
        added = sorted((self.root / "static").glob("extra-*.txt"))
        if how == "remove" and added:
            added[0].unlink()
        elif how == "add":
            (self.root / "static" / f"extra-{n}.txt").write_text(f"extra {n}\n")
        else:
            with open(self.root / "static" / "style.css", "a") as css:
                css.write(f"\n.extra-{n} {{ color: #123; }}\n")
        return how

    def revert(self, rng: random.Random) -> str:
        """Every input file back as it was at an earlier build (edit, then revert): the
        same bytes as then, with newer times. After shortcut builds, mostly to before the
        last full build: its change and the edits since undone at once (then the pages
        the shortcut wrote are back as the full build had them)."""
        if self.routes[-1] == "shortcut" and rng.random() < 0.7:
            full = max(i for i, route in enumerate(self.routes) if route == "full")
            if rng.random() < 0.5:
                restore(self.root, self.history[max(full - 1, 0)])
                return (f"to the inputs before the last full build ({len(self.routes) - full}"
                        " build(s) before the last)")
            # the edits since the last full build undone, and another article changed
            restore(self.root, self.history[full])
            also = rng.choice(["title", "topics", "links", "draft"])
            return (f"to the inputs of the last full build ({len(self.routes) - 1 - full} "
                    f"build(s) before the last), and {also}: {getattr(self, also)(rng)}")
        earlier = self.history[:-1] or self.history  # (the last is the site as it is)
        back = min(len(earlier), rng.choice([1, 1, 2, 3, 10**6]))
        restore(self.root, earlier[-back])
        return f"to the inputs of {back} build(s) before the last"

    def nothing(self, rng: random.Random) -> str:
        """No change at all, or an article saved again with the same bytes."""
        if rng.random() < 0.5:
            return "no change"
        slug = rng.choice(self.slugs())
        self.write(slug, self.read(slug))
        return f"{slug} saved again as it was"

    def fix(self, rng: random.Random) -> str:
        """An editor fixing the last build's errors where they are reported (links
        removed, front matter and heading lines put right), else by putting each file
        back as it was at the last good build; or all the inputs at once."""
        if self.last is None or not self.broken:
            return "nothing to fix"
        if rng.random() < 0.25:
            restore(self.root, self.good)
            return "every input back as at the last good build"
        by_file: dict[str, list[tuple[int, str]]] = {}
        for p in self.last.problems.sorted():
            if p.level == "error":
                by_file.setdefault(p.path, []).append((p.line, p.code))
        for rel, found in by_file.items():
            self.fix_file(rel, sorted(found, reverse=True))
        return f"errors in {sorted(by_file)}"

    def fix_file(self, rel: str, found: list[tuple[int, str]]) -> None:
        path = self.root / rel
        if not (rel.startswith("content/") and rel.endswith(".md") and path.is_file()):
            self.put_back(rel)
            return
        lines = path.read_text(encoding="utf-8").split("\n")
        for line, code in found:  # from the last line up: deleting keeps the others' places
            i = line - 1
            at = lines[i] if 0 <= i < len(lines) else ""
            if code in ("broken-link", "broken-anchor", "link-to-draft") and LINK.search(at):
                lines[i] = LINK.sub(r"\1", at)
            elif at.startswith(("next:", "colour:")):
                del lines[i]
            elif at.startswith("topics:"):
                lines[i] = "topics: [topic-0-0]"
            elif at.startswith("title:"):
                lines[i] = "title: A fixed title"
            elif at.startswith("#"):
                lines[i] = "## " + at.lstrip("#").strip()
            else:
                self.put_back(rel)
                return
        path.write_text("\n".join(lines), encoding="utf-8")

    def put_back(self, rel: str) -> None:
        """A file as it was at the last good build (gone, if it was not there)."""
        if rel in self.good:
            (self.root / rel).write_bytes(self.good[rel])
        elif (self.root / rel).is_file():
            (self.root / rel).unlink()


def walk(folder: Path, seed: int, search: bool, steps: int) -> tuple[Walk, Plan]:
    """A walk of `steps` steps: rounds of every kind of change in a random order; after
    a build with errors, the next step is more often than not a fix; after one that took
    the shortcut, often a revert."""
    rng = random.Random(seed)
    plan: Plan = []
    deck: list[str] = []
    w = Walk(folder, search)
    while len(plan) < steps:
        if w.broken and rng.random() < 0.6:
            kind = "fix"
        elif w.routes[-1] == "shortcut" and rng.random() < 0.5:
            kind = "revert"  # an edit, then undone
        else:
            deck = deck or rng.sample(ROUND, len(ROUND))
            kind = deck.pop()
        plan.append((kind, rng.randrange(2**32)))
        try:
            w.step(*plan[-1])
        except Exception as e:  # noqa: BLE001 (a difference, or a build that crashed)
            raise Failed(plan, w.log, e) from e
    return w, plan


def replay(folder: Path, search: bool, plan: Plan) -> Walk:
    w = Walk(folder, search)
    for i, step in enumerate(plan):
        try:
            w.step(*step)
        except Exception as e:  # noqa: BLE001
            raise Failed(plan[:i + 1], w.log, e) from e
    return w


class Failed(Exception):
    """A walk whose last step's builds were not as from scratch (or crashed)."""

    def __init__(self, plan: Plan, log: list[str], error: Exception) -> None:
        super().__init__(plan, log, error)
        self.plan, self.log, self.error = plan, log, error

    def what(self) -> tuple[type, str]:
        """The kind of failure: a shrunk walk must fail the same way."""
        return type(self.error), str(self.error).partition("\n")[0]

    def __str__(self) -> str:
        if isinstance(self.error, AssertionError):
            return str(self.error)
        return "".join(traceback.format_exception(self.error, limit=-6))


def shrink(folder: Path, search: bool, failed: Failed) -> Failed:
    """Drop steps from a failing walk (halves, then quarters... then one at a time) while
    it still fails, for at most SHRINK_SECONDS."""
    best, n, tries = failed, 2, 0
    end = time.monotonic() + SHRINK_SECONDS
    while len(best.plan) > 1 and time.monotonic() < end:
        size = max(1, len(best.plan) // n)
        for start in range(0, len(best.plan) - 1, size):
            tries += 1
            try:
                replay(folder / f"shrink-{tries}", search, best.plan[:start] +
                       best.plan[start + size:])
            except Failed as smaller:
                if smaller.what() == failed.what():
                    best, n = smaller, max(n - 1, 2)
                    break
            finally:
                shutil.rmtree(folder / f"shrink-{tries}", ignore_errors=True)
            if time.monotonic() > end:
                break
        else:
            if size == 1:
                break
            n = min(n * 2, len(best.plan))
    return best


def report(walk: str, search: bool, failed: Failed, shrunk: Failed) -> str:
    steps = "\n".join(f"  {i + 1}. {line}" for i, line in enumerate(shrunk.log))
    return (f"{walk} (search {'on' if search else 'off'}) failed at step "
            f"{len(failed.plan)}; shrunk to {len(shrunk.plan)} step(s):\n{steps}\n"
            f"the last step's builds differ: {shrunk}\n"
            f"replay: HEALTHSITE_WALK='{json.dumps(shrunk.plan)}' "
            f"HEALTHSITE_WALK_SEARCH={int(search)}")


@pytest.fixture
def epoch(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SOURCE_DATE_EPOCH", EPOCH)


def test_random_edits_build_as_from_scratch(tmp_path: Path, epoch: None) -> None:
    """Over 100 seeded steps of every kind: after each, the command line's and the
    preview's incremental builds equal a build from scratch (see the module's docstring)."""
    stats: Counter[str] = Counter()
    for seed, search, steps in WALKS:
        failed: Failed | None = None
        try:
            done, _ = walk(tmp_path / f"walk-{seed}", seed, search, steps)
        except Failed as e:
            failed = e
        if failed is not None:
            pytest.fail(report(f"walk {seed}", search, failed,
                               shrink(tmp_path, search, failed)), pytrace=False)
        stats.update(done.stats)
        shutil.rmtree(tmp_path / f"walk-{seed}")
    print(dict(stats))
    assert stats["steps"] >= 100, stats
    assert not {*KINDS, "fix"} - set(stats), stats  # every kind of change was made
    # builds with errors and without, warnings, the search index on
    assert stats["builds with errors"] >= 15 and stats["clean builds"] >= 50, stats
    assert stats["with warnings"] >= 5 and stats["with search"] >= 10, stats
    # the quicker routes were taken: text edits rebuilt only their pages, and with nothing
    # changed since the last written build nothing was done
    assert stats["shortcut"] >= 5 and stats["shortcut with search"] >= 1, stats
    assert stats["up to date"] >= 3, stats


@pytest.mark.skipif("HEALTHSITE_WALK" not in os.environ, reason="replays a printed walk")
def test_replay_a_walk(tmp_path: Path, epoch: None) -> None:
    """HEALTHSITE_WALK='[["text", 12], ...]' (as a failure prints it) replays those steps."""
    plan = [(kind, seed) for kind, seed in json.loads(os.environ["HEALTHSITE_WALK"])]
    search = os.environ.get("HEALTHSITE_WALK_SEARCH", "0") == "1"
    failed: Failed | None = None
    try:
        replay(tmp_path / "replay", search, plan)
    except Failed as e:
        failed = e
    if failed is not None:
        pytest.fail(report("the walk replayed", search, failed, failed), pytrace=False)
