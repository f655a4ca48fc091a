from __future__ import annotations

import datetime as dt

import pytest

from healthsite.load.yamlio import YamlError, parse


def test_yaml_1_1_booleans_stay_text() -> None:
    data = parse("a: no\nb: on\nc: yes\nd: true\ne: False\n").value
    assert data == {"a": "no", "b": "on", "c": "yes", "d": True, "e": False}


def test_numbers_dates_and_quoted_values() -> None:
    data = parse('n: 12\nf: 1.5\nd: 2026-02-28\nq: "2026-02-28"\ns: !!str 12\nx: 1:20\n').value
    assert data == {"n": 12, "f": 1.5, "d": dt.date(2026, 2, 28), "q": "2026-02-28", "s": "12",
                    "x": "1:20"}


def test_positions_count_the_offset() -> None:
    loc = parse("title: A\ntopics:\n  - iron\n  - rls\n", line_offset=1)
    assert loc.at("title") == (2, 8)
    assert loc.at("topics", 1) == (5, 5)
    assert loc.key_at("topics") == (3, 1)


@pytest.mark.parametrize("text, line, col, message", [
    ("d: 2025-02-30\n", 1, 4, "'2025-02-30' is not a real date"),
    ("d: 2025-13-01\n", 1, 4, "'2025-13-01' is not a real date"),
    ("d: 2026-11-21T10:00\n", 1, 4, "'2026-11-21T10:00' is not a date in the form YYYY-MM-DD"),
    ("a: 1\nb: 2\na: 3\n", 3, 1, "duplicate key 'a' (first given on line 1)"),
    ("a: &x [1, 2]\nb: *x\n", 2, 4, "YAML aliases (*name) are not allowed"),
    ("title: Iron: a guide\n", 1, 12, "invalid YAML: a ': ' inside an unquoted value"),
    ("a:\n\t- b\n", 2, 1, "invalid YAML: tab characters cannot indent YAML"),
    ("a: !!python/object/apply:os.system [ls]\n", 1, 4,
     "YAML tag 'tag:yaml.org,2002:python/object/apply:os.system' is not allowed"),
])
def test_mistakes_are_located(text: str, line: int, col: int, message: str) -> None:
    with pytest.raises(YamlError) as info:
        parse(text)
    assert (info.value.line, info.value.col, info.value.message) == (line, col, message)


def test_billion_laughs_is_rejected_quickly() -> None:
    bomb = "a: &a [x, x, x, x, x, x, x, x, x]\n" + "".join(
        f"{chr(98 + i)}: &{chr(98 + i)} [*{chr(97 + i)}, *{chr(97 + i)}, *{chr(97 + i)}]\n"
        for i in range(20))
    with pytest.raises(YamlError, match="aliases"):
        parse(bomb)


def test_deep_nesting_is_rejected() -> None:
    with pytest.raises(YamlError, match="nested"):
        parse("a: " + "[" * 200 + "]" * 200 + "\n")


def test_remembered_values_are_the_values_a_fresh_parse_gives() -> None:
    """Plain scalars and tags are remembered between documents: a value seen before, the
    same text with an explicit tag, and a mistake seen before all come out as the first
    time (the mistake at its own place)."""
    import yaml

    from healthsite.load import yamlio

    text = "n: 12\nb: true\nd: 2026-02-28\ns: !!str 12\nt: no\nnull_: ~\n"
    yamlio._PLAIN.clear()
    yamlio._resolve.cache_clear()
    first = parse(text).value
    again = parse(text).value
    assert first == again == {"n": 12, "b": True, "d": dt.date(2026, 2, 28), "s": "12",
                              "t": "no", "null_": None}
    assert parse("s: !!str 12\nn: 12\n").value == {"s": "12", "n": 12}
    assert ("12", "tag:yaml.org,2002:int") in yamlio._PLAIN
    for line in (1, 3):
        with pytest.raises(YamlError) as info:
            parse("".join(f"k{i}: 1\n" for i in range(line - 1)) + "d: 2025-02-30\n")
        assert (info.value.line, info.value.col) == (line, 4)
    stock = yaml.resolver.Resolver()
    for value in ("12", "1.5", "true", "no", "~", "2026-02-28", "", "x", "0x1F", ".inf"):
        assert yamlio._resolve(yaml.ScalarNode, value, (True, False)) == \
            stock.resolve(yaml.ScalarNode, value, (True, False))
