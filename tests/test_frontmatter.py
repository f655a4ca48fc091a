"""Front matter and content files on their own: splitting, schema, dates, encodings."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from pathlib import Path

from conftest import good_files, problem_lines

from healthsite.errors import ProblemList
from healthsite.load.frontmatter import add_months, parse_front_matter, split

TOPICS = {"rls", "iron"}
MakeSite = Callable[..., Path]


def parse(text: str) -> tuple[object, list[str]]:
    problems = ProblemList()
    part = split(text, "a.md", problems)
    meta = parse_front_matter(part, "a.md", TOPICS, 12, problems) if part else None
    return meta, [p.format() for p in problems.sorted()]


def test_split_counts_body_lines_from_the_file_start() -> None:
    part = split("---\ntitle: x\n---\nline four\n", "a.md", ProblemList())
    assert part is not None and (part.yaml_line, part.body_line) == (2, 4)
    assert part.body == "line four\n"


def test_valid_front_matter_gets_defaults() -> None:
    meta, problems = parse("---\ntitle: Iron\nsummary: S.\ntopics: iron\nreviewed: 2026-01-31\n"
                           "sources:\n  - {title: T, publisher: P, url: 'https://x.org/'}\n---\n")
    assert problems == []
    assert meta.topics == ("iron",) and meta.draft is False  # type: ignore[attr-defined]
    assert meta.next_review == dt.date(2027, 1, 31)  # type: ignore[attr-defined]
    assert meta.sources[0].year is None  # type: ignore[attr-defined]


def test_yaml_1_1_traps_are_explained() -> None:
    _, problems = parse("---\ntitle: Iron\nsummary: S.\ntopics: [iron]\nreviewed: 2026-01-01\n"
                        "draft: no\n---\n")
    assert problems == ["a.md:6:8: error[fm-type]: 'draft' must be true or false, not 'no' "
                        "(write true or false)"]


def test_front_matter_that_is_not_a_mapping() -> None:
    for text in ("---\n- a\n- b\n---\n", "---\njust words\n---\n"):
        meta, problems = parse(text)
        assert meta is None
        assert problems[0].startswith("a.md:2:1: error[fm-type]: front matter must be a mapping")


def test_dates_must_be_real_and_in_order() -> None:
    _, problems = parse("---\ntitle: T\nsummary: S.\ntopics: [rls]\nreviewed: 2026-07-01\n"
                        "next_review: 2026-01-01\n---\n")
    # (a 'reviewed' date in the future is checked when loading, as it depends on the day:
    # see tests/sites/broken/future-date)
    assert problems == [
        "a.md:6:14: error[bad-date]: 'next_review' 2026-01-01 is not after 'reviewed' 2026-07-01 "
        "(the next review must come after the last one)"]


def test_add_months_clamps_to_month_end() -> None:
    assert add_months(dt.date(2026, 1, 31), 1) == dt.date(2026, 2, 28)
    assert add_months(dt.date(2024, 2, 29), 12) == dt.date(2025, 2, 28)


def test_crlf_and_bom_files_build(make_site: MakeSite, today: None) -> None:
    files: dict[str, str | bytes] = dict(good_files())
    text = str(files["content/iron.md"])
    files["content/iron.md"] = b"\xef\xbb\xbf" + text.replace("\n", "\r\n").encode()
    assert problem_lines(make_site(files)) == []


def test_bad_bytes_are_reported_not_raised(make_site: MakeSite, today: None) -> None:
    files: dict[str, str | bytes] = dict(good_files())
    files["content/latin1.md"] = "---\ntitle: Caf\xe9\n---\n".encode("latin-1")
    files["content/image.md"] = b"\x89PNG\r\n\x1a\n\x00\x00"
    files["content/empty.md"] = b""
    assert problem_lines(make_site(files)) == [
        "content/empty.md:1:1: error[fm-missing]: no front matter: the file must start with a "
        "line '---' (begin with ---, then title:, summary:, … and a closing ---)",
        "content/image.md:1:1: error[encoding]: this is a binary file, not Markdown text "
        "(a picture keeps its own suffix (.png, .jpg, .gif, .webp, .svg))",
        "content/latin1.md:2:11: error[encoding]: the file is not valid UTF-8 (byte 0xe9) "
        "(save the file as UTF-8)"]
