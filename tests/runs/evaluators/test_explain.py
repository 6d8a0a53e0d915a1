"""One sentence per outcome, from the stored detail (JUnit messages, the CLI): a table of cases."""

from __future__ import annotations

from typing import Any

import pytest

from workbench.runs.evaluators import build_check
from workbench.runs.evaluators.explain import explain

CASES: list[tuple[str, str, Any, str]] = [
    ("MUST_CONTAIN", "FAILED", {"value": "30 days", "found": False},
     "the reply does not contain '30 days'"),
    ("MUST_CONTAIN", "PASSED", {"value": "30 days", "found": True}, "the reply contains '30 days'"),
    ("MUST_NOT_CONTAIN", "FAILED", {"value": "no", "found": True, "excerpt": "say no more"},
     "the reply contains 'no', which it must not ('say no more')"),
    ("MUST_CONTAIN_ANY", "FAILED", {"values": ["hi", "hello"], "matched": None},
     "the reply contains none of 'hi', 'hello'"),
    ("REGEX", "FAILED", {"pattern": r"\d+ days", "matched": None},
     "the reply does not match '\\\\d+ days'"),
    ("SEMANTIC_ASSERT", "FAILED",
     {"assertion": "it is polite", "score": 0.2, "threshold": 0.7, "reasoning": "It is curt."},
     "the judge found that 'it is polite' does not hold (score 0.2, threshold 0.7): It is curt."),
    ("SEMANTIC_ASSERT", "ERROR", {"error": "the verdict is not JSON"},
     "SEMANTIC_ASSERT could not be checked: the verdict is not JSON"),
    ("MUST_CONTAIN", "FAILED", None, "the reply does not contain the value"),
    ("TOOL_CALLED", "FAILED", {}, "TOOL_CALLED failed"),
]  # fmt: skip


@pytest.mark.parametrize(("kind", "status", "detail", "sentence"), CASES)
def test_each_outcome_reads_as_a_sentence(
    kind: str, status: str, detail: Any, sentence: str
) -> None:
    assert explain(kind, status, detail) == sentence


def test_it_reads_what_the_evaluators_store() -> None:
    outcome = build_check("MUST_CONTAIN_ANY", values=["hello", "hi"])("Good day.")
    assert explain("MUST_CONTAIN_ANY", outcome.status, outcome.detail) == (
        "the reply contains none of 'hello', 'hi'"
    )


def test_long_reasoning_is_cut() -> None:
    detail = {"assertion": "a", "score": 0.1, "threshold": 0.5, "reasoning": "why " * 10_000}
    assert len(explain("SEMANTIC_ASSERT", "FAILED", detail)) < 400
