"""The string checks against tables of cases: Unicode NFC, case folding, regex time limits."""

from __future__ import annotations

import json
import time
import unicodedata

import pytest

from workbench.errors import ValidationError
from workbench.runs.evaluators import build_check
from workbench.runs.evaluators import pattern as pattern_module
from workbench.runs.evaluators.pattern import bounded

NFD_CAFE = unicodedata.normalize("NFD", "café")  # "e" + combining acute accent
assert NFD_CAFE != "café"


@pytest.mark.parametrize(
    ("value", "reply", "case_sensitive", "status"),
    [
        ("refund", "Your REFUND is on its way", False, "PASSED"),
        ("refund", "Your REFUND is on its way", True, "FAILED"),
        ("straße", "STRASSE", False, "PASSED"),  # casefold, not lower
        ("STRASSE", "die Straße", False, "PASSED"),
        ("straße", "STRASSE", True, "FAILED"),
        ("café", NFD_CAFE, True, "PASSED"),  # NFC on both sides
        (NFD_CAFE, "un café", False, "PASSED"),
        ("ǅ", "ǆ", False, "PASSED"),  # titlecase digraph folds too
        ("Σ", "ς", False, "PASSED"),  # final sigma
        ("refund", "", False, "FAILED"),
        ("a", "b", False, "FAILED"),
    ],
)
def test_must_contain(value: str, reply: str, case_sensitive: bool, status: str) -> None:
    outcome = build_check("MUST_CONTAIN", value=value, case_sensitive=case_sensitive)(reply)
    assert outcome.status == status
    assert outcome.detail["found"] is (status == "PASSED")
    json.dumps(outcome.detail)


@pytest.mark.parametrize(
    ("value", "reply", "status"),
    [
        ("as an AI", "As An AI model, I...", "FAILED"),
        ("as an AI", "Here is your answer.", "PASSED"),
        ("straße", "GROSSE STRASSE", "FAILED"),
    ],
)
def test_must_not_contain(value: str, reply: str, status: str) -> None:
    outcome = build_check("MUST_NOT_CONTAIN", value=value)(reply)
    assert outcome.status == status
    if status == "FAILED":
        assert "position" in outcome.detail and outcome.detail["excerpt"]


def test_must_contain_any_reports_which_matched() -> None:
    check = build_check("MUST_CONTAIN_ANY", values=("hello", "hi", "GRÜSS"))
    assert check("well, HI there").detail["matched"] == "hi"
    assert check("grüß gott").detail["matched"] == "GRÜSS"  # ß folds to ss
    failed = check("good morning")
    assert failed.status == "FAILED" and failed.detail["values"] == ["hello", "hi", "GRÜSS"]


@pytest.mark.parametrize(
    ("pattern", "reply", "case_sensitive", "status", "matched"),
    [
        (r"order #\d+", "Your order #1234 shipped", False, "PASSED", "order #1234"),
        (r"^order", "Your order", False, "FAILED", None),  # search, but anchors still anchor
        (r"ORDER", "your order", False, "PASSED", "order"),
        (r"ORDER", "your order", True, "FAILED", None),
        (r"café", NFD_CAFE, True, "PASSED", "café"),
        (r"\bstraße\b", "DIE STRASSE", False, "PASSED", "STRASSE"),  # full case folding
    ],
)
def test_regex(
    pattern: str, reply: str, case_sensitive: bool, status: str, matched: str | None
) -> None:
    outcome = build_check("REGEX", value=pattern, case_sensitive=case_sensitive)(reply)
    assert outcome.status == status
    assert outcome.detail["matched"] == matched


def test_catastrophic_regex_is_an_error_naming_the_pattern_not_a_hang() -> None:
    check = build_check("REGEX", value="(a|a)+$", timeout_s=0.05)
    started = time.perf_counter()
    outcome = check("a" * 100_000 + "b")
    assert time.perf_counter() - started < 2
    assert outcome.status == "ERROR"
    assert (
        outcome.detail["pattern"] == "(a|a)+$" and "longer than 0.05 s" in outcome.detail["error"]
    )


def test_long_pattern_is_named_by_a_bounded_prefix() -> None:
    pattern = "(" + "x" * 5000
    outcome = build_check("REGEX", value=pattern)("x")
    assert outcome.status == "ERROR" and "invalid regular expression" in outcome.detail["error"]
    assert len(outcome.detail["pattern"]) <= 101 and len(outcome.detail["error"]) < 400


def test_huge_reply_keeps_a_bounded_detail() -> None:
    reply = "x" * 1_000_000 + "needle" + "y" * 1_000_000
    for kind in ("MUST_CONTAIN", "REGEX"):
        outcome = build_check(kind, value="needle")(reply)
        assert outcome.status == "PASSED" and len(json.dumps(outcome.detail)) < 1000


@pytest.mark.parametrize(
    ("kind", "options", "message"),
    [
        ("MUST_CONTAIN", {}, "needs a non-empty `value`"),
        ("REGEX", {"value": ""}, "needs a non-empty `value`"),
        ("MUST_CONTAIN_ANY", {"values": ()}, "needs `values`"),
        ("MUST_CONTAIN_ANY", {"values": ("a", "")}, "needs `values`"),
        ("SEMANTIC_ASSERT", {"value": "polite"}, "needs a judge"),
        ("LOOKS_GOOD", {"value": "x"}, "known: MUST_CONTAIN"),
    ],
)
def test_bad_specs_are_validation_errors(
    kind: str, options: dict[str, object], message: str
) -> None:
    with pytest.raises(ValidationError, match=message):
        build_check(kind, **options)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("pattern", "quick"),
    [
        ("echo", True),
        ("refund|return", True),
        (r"\d\d\d-\d\d\d\d", True),
        ("^Hello$", True),
        ("a|b|c|d", True),
        ("a|b|c|d|e", False),  # more alternatives than the bound
        ("(a|a)+$", False),
        ("a*b", False),
        ("a{2,}", False),
        ("colou?r", False),
        (r"(x)\1", False),
        ("(?=a)a", False),
        ("x" * 201, False),
    ],
)
def test_only_patterns_of_bounded_cost_are_searched_without_a_time_limit(
    pattern: str, quick: bool
) -> None:
    assert bounded(pattern) is quick


def test_a_bounded_pattern_on_a_long_reply_keeps_the_time_limit(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    searched: list[dict[str, object]] = []
    original = pattern_module._compile

    def spying(pattern: str, case_sensitive: bool) -> object:
        compiled = original(pattern, case_sensitive)

        class Spy:
            def search(self, text: str, **kwargs: object) -> object:
                searched.append(kwargs)
                return compiled.search(text, **kwargs)

        return Spy()

    monkeypatch.setattr(pattern_module, "_compile", spying)
    check = build_check("REGEX", value="echo")
    assert check("an echo").status == "PASSED"
    assert check("x" * 20_001 + " echo").status == "PASSED"
    assert [sorted(kwargs) for kwargs in searched] == [[], ["concurrent", "timeout"]]
