"""Evaluators: pure checks of one reply, built once per expectation and called per attempt.

    check = build_check("MUST_CONTAIN", value="refund")
    check("We sent your refund.")   # Outcome(status="PASSED", detail={...})

SEMANTIC_ASSERT is not built here: it needs a model, see `workbench.runs.judge`.
"""

from __future__ import annotations

from collections.abc import Sequence

from workbench.errors import ValidationError
from workbench.runs.evaluators.outcome import ERROR, FAILED, PASSED, Check, Outcome, Status
from workbench.runs.evaluators.pattern import DEFAULT_TIMEOUT_S, regex_check
from workbench.runs.evaluators.text import must_contain, must_contain_any, must_not_contain

__all__ = [
    "ERROR",
    "FAILED",
    "PASSED",
    "Check",
    "Outcome",
    "Status",
    "build_check",
    "must_contain",
    "must_contain_any",
    "must_not_contain",
    "regex_check",
]

STRING_TYPES = ("MUST_CONTAIN", "MUST_CONTAIN_ANY", "MUST_NOT_CONTAIN", "REGEX")


def build_check(
    kind: str,
    *,
    value: str | None = None,
    values: Sequence[str] = (),
    case_sensitive: bool = False,
    threshold: float | None = None,
    timeout_s: float = DEFAULT_TIMEOUT_S,
) -> Check:
    """The check for one expectation of type `kind` (a string type; not SEMANTIC_ASSERT).

    `threshold` is accepted for a uniform call and ignored: string checks have none."""
    del threshold
    if kind == "MUST_CONTAIN_ANY":
        items = [v for v in values if isinstance(v, str)]
        if not items or len(items) != len(values) or not all(items):
            raise ValidationError("MUST_CONTAIN_ANY needs `values`: one or more non-empty strings")
        return must_contain_any(items, case_sensitive=case_sensitive)
    if kind not in STRING_TYPES:
        hint = " (it needs a judge: workbench.runs.judge)" if kind == "SEMANTIC_ASSERT" else ""
        raise ValidationError(
            f"no string check for expectation type {kind!r}{hint}; known: {', '.join(STRING_TYPES)}"
        )
    if not isinstance(value, str) or not value:
        raise ValidationError(f"{kind} needs a non-empty `value`")
    if kind == "MUST_CONTAIN":
        return must_contain(value, case_sensitive=case_sensitive)
    if kind == "MUST_NOT_CONTAIN":
        return must_not_contain(value, case_sensitive=case_sensitive)
    return regex_check(value, case_sensitive=case_sensitive, timeout_s=timeout_s)
