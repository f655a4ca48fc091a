from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from conftest import SITE_YAML, problem_lines

from healthsite.errors import ProblemList
from healthsite.load.config import load_config

MakeSite = Callable[..., Path]


def test_valid_config_has_defaults_and_topics(make_site: MakeSite) -> None:
    root = make_site({"site.yaml": SITE_YAML})
    problems = ProblemList()
    config = load_config(root, problems)
    assert config is not None and not problems.sorted()
    assert config.output_dir == "_site"
    assert config.reading_next_count == 4
    assert [t.slug for t in config.topics] == ["rls", "causes", "iron", "dvt"]
    assert config.topic("iron").clinical == ("ferritin",)
    assert config.services["emergency_number"] == "999"


def test_every_bad_key_is_reported_at_once(make_site: MakeSite) -> None:
    text = SITE_YAML.replace("language: en-GB", "langauge: en-GB").replace(
        "  interval_months: 12", "  interval_months: often") + "colour: blue\n"
    root = make_site({"site.yaml": text})
    problems = ProblemList()
    load_config(root, problems)
    assert [p.format() for p in problems.sorted()] == [
        "site.yaml:4:1: error[config-unknown-key]: unknown key 'langauge' in site.yaml "
        "(did you mean 'language'?)",
        "site.yaml:11:20: error[config-type]: 'interval_months' must be a whole number, "
        "not 'often'",
        "site.yaml:31:1: error[config-unknown-key]: unknown key 'colour' in site.yaml "
        "(did you mean 'country'?)",
    ]


def test_topic_cycle_and_unknown_parent(make_site: MakeSite) -> None:
    text = SITE_YAML.replace("  - slug: rls\n", "  - slug: rls\n    parent: iron\n").replace(
        "description: Deep vein thrombosis.", "description: Clots.\n    parent: vains")
    root = make_site({"site.yaml": text})
    problems = ProblemList()
    load_config(root, problems)
    assert [p.format() for p in problems.sorted()] == [
        "site.yaml:16:13: error[topic-cycle]: topics form a loop: rls > iron > causes > rls "
        "(a topic cannot be its own ancestor; remove one 'parent:')",
        "site.yaml:32:13: error[topic-unknown-parent]: topic 'dvt' has unknown parent 'vains' "
        "(declare the parent topic first)",
    ]


def test_check_levels_can_be_overridden(make_site: MakeSite) -> None:
    from conftest import good_files

    files = good_files()
    files["site.yaml"] = SITE_YAML + "checks:\n  dead-end: error\n  readibility: off\n"
    files["content/iron.md"] = files["content/iron.md"].replace(
        "See the [overview](overview.md) and [clots](clots.md).", "")
    root = make_site(files)
    lines = problem_lines(root)
    assert "content/iron.md:1:1: error[dead-end]: this article links to no other article " \
        "(link to a related article: [text](other.md))" in lines
    assert "site.yaml:33:3: error[config-unknown-key]: unknown check 'readibility' in " \
        "'checks' (did you mean 'readability'?)" in lines


def test_missing_config_is_one_clear_error(make_site: MakeSite) -> None:
    root = make_site({})
    problems = ProblemList()
    assert load_config(root, problems) is None
    assert [p.code for p in problems.sorted()] == ["io"]


def test_any_service_is_a_placeholder_inserted_as_text(make_site: MakeSite) -> None:
    from conftest import good_files

    from healthsite.pipeline import Options, build_site

    files = good_files()
    files["site.yaml"] = files["site.yaml"].replace(
        "services:\n", 'services:\n  helpline: "<b>0300</b> & more"\n  "bad name": x\n', 1)
    files["content/iron.md"] += "\nRing {{helpline}}.\n"
    root = make_site(files)
    problems = ProblemList()
    config = load_config(root, problems)
    assert config is not None and config.services["helpline"] == "<b>0300</b> & more"
    assert config.services["urgent_service"] == "NHS 111"  # (a default kept)
    assert [p.format() for p in problems.sorted()] == [
        "site.yaml:8:3: error[config-type]: services.bad name cannot be a placeholder's name "
        "(use letters, digits and underscores, starting with a letter (for example helpline "
        "or maternity_unit))"]
    files["site.yaml"] = files["site.yaml"].replace('  "bad name": x\n', "")
    root = make_site(files)
    result = build_site(Options(root=root))
    assert not result.problems.errors, [p.format() for p in result.problems.sorted()]
    assert "Ring &lt;b&gt;0300&lt;/b&gt; &amp; more." in \
        (root / "_site" / "iron" / "index.html").read_text()
