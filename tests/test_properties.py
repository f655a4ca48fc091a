"""Property tests: any front matter or Markdown either builds or gives diagnostics."""

from __future__ import annotations

import tempfile
from pathlib import Path

from conftest import copy_theme, good_files
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from healthsite.pipeline import Options, build_site

HOSTILE = st.sampled_from([
    "<script>alert(1)</script>", "](../../etc/passwd)", "[x](../../x.md)", "{{nope}}",
    "!!! emergency", "!!! bogus", "[^9]", "[^1]", "# h1", "#### deep", "---", "\t", "\0",
    ": ", "&amp;", "\u202e", "---\n", "```", "| a |\n|---|", "[a](iron.md#nowhere)",
    "![](x.png)", "*", "\\", "&", "<!--", "\r\n", "\ufeff",
])
TEXT = st.lists(st.one_of(st.text(max_size=30), HOSTILE), max_size=12).map("".join)
YAML_VALUE = st.one_of(TEXT, st.integers(), st.booleans(), st.none(),
                       st.sampled_from(["2026-02-30", "2026-01-01", "[a, b]", "{a: 1}", "no",
                                        "&a x", "*a", "!!python/none", "'", '"']))


def build_with(files: dict[str, str]) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp) / "site"
        copy_theme(root)
        for name, text in {**good_files(), **files}.items():
            (root / name).parent.mkdir(parents=True, exist_ok=True)
            (root / name).write_text(text, encoding="utf-8", errors="surrogatepass")
        out = root / "_site"
        result = build_site(Options(root=root, out=out))
        written = {p for p in Path(tmp).rglob("*") if p.is_file()}
        outside = {p for p in written if not (p.is_relative_to(root / "_site")
                                              or p.is_relative_to(root / "content")
                                              or p.is_relative_to(root / "templates")
                                              or p.is_relative_to(root / "static")
                                              or p.is_relative_to(root / ".cache")
                                              or p.name == "site.yaml"
                                              or p.name.startswith("._site.lock"))}
        assert outside == set()
        if result.problems.errors:
            assert not out.exists()


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(body=TEXT, title=YAML_VALUE, summary=YAML_VALUE, topic=YAML_VALUE, extra=TEXT)
def test_random_front_matter_and_body_never_crash(body: str, title: object, summary: object,
                                                  topic: object, extra: str) -> None:
    text = (f"---\ntitle: {title}\nsummary: {summary}\ntopics: [{topic}]\n"
            f"reviewed: 2026-01-01\n{extra}\n---\n{body}\n")
    build_with({"content/random.md": text})


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(text=st.text(max_size=400))
def test_any_text_as_a_content_file_never_crashes(text: str) -> None:
    build_with({"content/any.md": text})
