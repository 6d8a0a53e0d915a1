"""The string checks against tables of cases: Unicode NFC, case folding, regex time limits."""

from __future__ import annotations

import json
import time
import unicodedata

import pytest

from workbench.errors import ValidationError
from workbench.runs.evaluators import build_check

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
