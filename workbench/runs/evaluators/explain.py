"""One sentence for one expectation's outcome, from its type, status and stored detail.

    explain("MUST_CONTAIN", "FAILED", {"value": "30 days", "found": False})
    # "the reply does not contain '30 days'"

For reports a person reads (JUnit failure messages, the CLI): what was wanted and what the
reply did, never a dict. Works on details of any age or shape (a missing key is skipped), and
bounded: values are at most 200 characters in a detail already, reasoning is cut here.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from workbench.runs.evaluators.outcome import clip

REASONING_SHOWN = 300


def explain(kind: str, status: str, detail: Mapping[str, Any] | None) -> str:
    """What happened, as a sentence without a final full stop."""
    d: Mapping[str, Any] = detail if isinstance(detail, Mapping) else {}
    if status == "ERROR":
        return f"{kind} could not be checked: {d.get('error') or 'no reason was recorded'}"
    if kind == "SEMANTIC_ASSERT":
        return _judged(status, d)
    value = repr(d.get("value")) if d.get("value") is not None else "the value"
    if kind == "MUST_CONTAIN":
        return f"the reply {'contains' if status == 'PASSED' else 'does not contain'} {value}"
    if kind == "MUST_NOT_CONTAIN":
        if status == "PASSED":
            return f"the reply does not contain {value}"
        found = f" ({d['excerpt']!r})" if d.get("excerpt") else ""
        return f"the reply contains {value}, which it must not{found}"
    if kind == "MUST_CONTAIN_ANY":
        if status == "PASSED":
            return f"the reply contains {d.get('matched')!r}"
        values = ", ".join(repr(v) for v in d.get("values") or [])
        return f"the reply contains none of {values or 'the values'}"
    if kind == "REGEX":
        pattern = repr(d.get("pattern")) if d.get("pattern") is not None else "the pattern"
        if status == "PASSED":
            return f"the reply matches {pattern} ({d.get('matched')!r})"
        return f"the reply does not match {pattern}"
    return f"{kind} {status.lower()}"


def _judged(status: str, d: Mapping[str, Any]) -> str:
    assertion = repr(d.get("assertion")) if d.get("assertion") else "the assertion"
    verdict = "holds" if status == "PASSED" else "does not hold"
    score, threshold = d.get("score"), d.get("threshold")
    scored = f" (score {score:g}, threshold {threshold:g})" if _numbers(score, threshold) else ""
    reasoning = d.get("reasoning")
    why = f": {clip(str(reasoning), REASONING_SHOWN)}" if reasoning else ""
    return f"the judge found that {assertion} {verdict}{scored}{why}"


def _numbers(*values: Any) -> bool:
    return all(isinstance(v, int | float) and not isinstance(v, bool) for v in values)
