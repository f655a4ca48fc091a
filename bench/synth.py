"""A seeded generator of synthetic health sites in healthsite's own content format.

    python bench/synth.py --n 1000 --out /tmp/site1k [--seed 1] [--words 800]

Each article has full front matter (topics from a 60-topic tree, review dates, sources,
editor's picks), about `words` words of body with headings, 5 links to other articles, a care
card, a table and a citation. The same seed and size always give the same files."""

from __future__ import annotations

import argparse
import random
import shutil
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
WORDS = ("leg legs sleep night rest move walk iron blood test doctor nurse clot vein calf "
         "feeling urge evening body brain nerve muscle symptom treatment medicine advice help "
         "level week month pain swelling family pregnancy kidney tablet exercise stretch warm "
         "bath habit coffee tea alcohol smoke weight water journey flight seat hospital care "
         "check result plan change common mild strong often sometimes usually may can will").split()
ROOTS = 6
PER_ROOT = 9  # 6 roots x (1 + 9) = 60 topics


def topics() -> list[dict[str, str]]:
    out = []
    for r in range(ROOTS):
        out.append({"slug": f"area-{r}", "title": f"Area {r}", "description": f"Area {r}."})
        for c in range(PER_ROOT):
            out.append({"slug": f"topic-{r}-{c}", "parent": f"area-{r}",
                        "title": f"Topic {r}.{c}", "description": f"Topic {r}.{c}."})
    return out


def site_yaml(n: int, search: bool = True, url_history: bool = True) -> str:
    lines = ["title: Synthetic Health Site", f"description: A synthetic site of {n} articles.",
             "base_url: https://synthetic.example.org/", "language: en-GB",
             "publisher: Synthetic editorial team", f"search: {str(search).lower()}",
             "review:", "  interval_months: 120",
             "reading_next:", "  count: 5", "alarm_terms: [chest pain]", "checks:",
             "  readability: off", "  dead-end: off", "  orphan: off"]
    # tests whose random edits delete and rename articles without aliases, comparing each
    # build with one from scratch (which has no URL history), leave the URL check out
    lines += [] if url_history else ["  url-removed: off"]
    lines += ["topics:"]
    for t in topics():
        lines.append(f"  - slug: {t['slug']}")
        lines += [f"    {k}: {v}" for k, v in t.items() if k != "slug"]
        lines.append("    lay: [everyday words]")
    return "\n".join(lines) + "\n"


def sentence(rng: random.Random) -> str:
    words = [rng.choice(WORDS) for _ in range(rng.randint(6, 14))]
    return " ".join(words).capitalize() + "."


def article(i: int, n: int, rng: random.Random, words: int) -> str:
    leaves = [t["slug"] for t in topics() if "parent" in t]
    own = sorted(set(rng.sample(leaves, rng.randint(2, 4))))
    links = [rng.randrange(n) for _ in range(5)]
    picks = sorted({f"a{rng.randrange(n):05d}" for _ in range(rng.randint(0, 2))} - {f"a{i:05d}"})
    body: list[str] = []
    per_section = max(words // 5, 20)
    for s in range(5):
        body.append(f"## Section {s + 1} of article {i}\n")
        text, count = [], 0
        while count < per_section:
            text.append(sentence(rng))
            count += len(text[-1].split())
        if s < len(links):
            text.append(f"Read [article {links[s]}](a{links[s]:05d}.md) for more.")
        if s == 1:
            text.append("This is well established[^1].")
        body.append(" ".join(text) + "\n")
        if s == 2:
            body.append("| Sign | What to do |\n|---|---|\n| A mild urge | Stretch |\n"
                        "| Poor sleep | See a GP |\n")
        if s == 3:
            body.append('!!! urgent "Get help today if:"\n    - one leg is swollen and painful\n')
    fm = [
        "---", f"title: Synthetic article {i}", f"summary: A summary of synthetic article {i}.",
        f"topics: [{', '.join(own)}]", f"reviewed: 2026-0{1 + i % 9}-1{i % 10}",
        "sources:", "  - {title: Synthetic guideline, publisher: Synthetic Body, year: 2024}",
        "  - {title: Synthetic review, publisher: Synthetic Journal, year: 2023}",
    ]
    if picks:
        fm.append(f"next: [{', '.join(picks)}]")
    fm.append("---")
    return "\n".join(fm) + "\n\n" + "\n".join(body)


def generate(out: Path, n: int, seed: int = 1, words: int = 800, search: bool = True,
             url_history: bool = True) -> Path:
    """Write a synthetic site of `n` articles into `out` (replacing it); return `out`."""
    if out.exists():
        shutil.rmtree(out)
    (out / "content").mkdir(parents=True)
    # the packaged theme's look, as the site's own files (benchmarks and tests edit them)
    shutil.copytree(REPO / "healthsite" / "theme" / "templates", out / "templates")
    shutil.copytree(REPO / "healthsite" / "theme" / "static", out / "static")
    (out / "site.yaml").write_text(site_yaml(n, search, url_history), encoding="utf-8")
    rng = random.Random(seed)
    for i in range(n):
        (out / "content" / f"a{i:05d}.md").write_text(article(i, n, rng, words),
                                                      encoding="utf-8")
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, default=1000)
    ap.add_argument("--out", type=Path, required=True)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--words", type=int, default=800)
    args = ap.parse_args()
    generate(args.out, args.n, args.seed, args.words)
    print(f"wrote {args.n} articles to {args.out}")


if __name__ == "__main__":
    main()
