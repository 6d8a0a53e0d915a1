"""Hostile import documents: bounded work, and every refusal a `ValidationError` naming where."""

from __future__ import annotations

import resource
import time

import pytest

from workbench.errors import ValidationError
from workbench.handle import Workbench
from workbench.services.scenarios.safe_load import MAX_DEPTH, MAX_DOCUMENT_CHARACTERS

# The 358-byte "billion laughs": each level references the one above nine times.
BOMB = "\n".join(
    ['a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]']
    + [
        f"{name}: &{name} [{', '.join(['*' + above] * 9)}]"
        for above, name in zip("abcdefgh", "bcdefghi", strict=True)
    ]
)

BOMB_IN_A_TURN = f"""format: workbench.scenarios/v1
lol: &x "{"lol" * 20}"
scenarios:
  - name: s
    turns:
      - user: &t [*x, *x, *x, *x, *x, *x, *x, *x, *x]
      - user: [*t, *t, *t, *t, *t, *t, *t, *t, *t]
"""


def refused(wb: Workbench, document: str) -> ValidationError:
    started = time.perf_counter()
    with pytest.raises(ValidationError) as caught:
        wb.import_scenarios(document)
    assert time.perf_counter() - started < 5  # bounded: the old code ran for minutes
    assert len(str(caught.value)) < 10_000
    assert not wb.scenarios.list()  # nothing half-written
    return caught.value


@pytest.mark.parametrize("document", [BOMB, BOMB_IN_A_TURN], ids=["top", "in-a-turn"])
def test_a_yaml_alias_bomb_is_refused_at_once_naming_its_line(wb: Workbench, document: str) -> None:
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    error = refused(wb, document)
    assert "alias" in str(error)
    assert "line " in str(error) and "column " in str(error)
    grown_kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before
    assert grown_kb < 200_000  # the old code took gigabytes


def test_a_single_reuse_of_an_anchor_is_refused_too(wb: Workbench) -> None:
    document = "format: workbench.scenarios/v1\nscenarios:\n  - &s {name: a, turns: []}\n  - *s\n"
    assert "line 3, column 5" in str(refused(wb, document))


def test_json_nested_100000_deep_is_a_validation_error_naming_the_position(
    wb: Workbench,
) -> None:
    head = '{"scenarios": '
    error = refused(wb, head + "[" * 100_000 + "]" * 100_000 + "}")
    assert f"more than {MAX_DEPTH} levels" in str(error)
    # the opening brace is level 1, so the first bracket past the limit is number MAX_DEPTH
    assert f"line 1, column {len(head) + MAX_DEPTH}" in str(error)


def test_yaml_nested_deep_is_a_validation_error(wb: Workbench) -> None:
    assert "line" in str(refused(wb, "scenarios: " + "[" * 100_000 + "]" * 100_000))


@pytest.mark.parametrize(
    "document",
    ['{"format": "workbench.scenarios/v1", "n": ' + "9" * 5000 + "}", "n: " + "9" * 5000],
    ids=["json", "yaml"],
)
def test_a_5000_digit_number_is_a_validation_error_naming_the_position(
    wb: Workbench, document: str
) -> None:
    error = refused(wb, document)
    assert "cannot be read at line 1" in str(error)


def test_a_file_that_is_not_utf8_is_a_validation_error_naming_the_byte(
    wb: Workbench, tmp_path: object
) -> None:
    from pathlib import Path

    path = Path(str(tmp_path)) / "bad.yaml"
    path.write_bytes(b"format: workbench.scenarios/v1\nname: \xff\xfe\n")
    with pytest.raises(ValidationError, match="not UTF-8 text \\(byte 37"):
        wb.import_scenarios(path)


def test_invalid_yaml_names_the_line(wb: Workbench) -> None:
    assert "line 2" in str(refused(wb, "a: 1\n  b: [\n"))


def test_a_document_over_the_size_limit_is_refused_before_parsing(wb: Workbench) -> None:
    error = refused(wb, "#" * (MAX_DOCUMENT_CHARACTERS + 1))
    assert f"{MAX_DOCUMENT_CHARACTERS:,}" in str(error)


def test_20000_clashing_names_give_a_bounded_message_and_the_full_list(
    wb: Workbench,
) -> None:
    names = [f"scenario {i}" for i in range(20_000)]
    document = {
        "format": "workbench.scenarios/v1",
        "scenarios": [{"name": "same", "turns": []} for _ in names],
    }
    with pytest.raises(ValidationError) as caught:
        wb.import_scenarios(document)
    assert len(str(caught.value)) < 10_000
    assert "and 19,9" in str(caught.value)
    assert len(caught.value.problems) >= 19_999
