"""The JSON side of tools, shared by scenarios (services) and runs: check types, argument
matching and a mock's answer, all on plain JSON values (a tool as its stored document)."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any, Final

from workbench.runs.evaluators.outcome import PASSED
from workbench.runs.evaluators.pattern import regex_check

TOOL_CALLED: Final = "TOOL_CALLED"
TOOL_NOT_CALLED: Final = "TOOL_NOT_CALLED"
TOOL_ORDER: Final = "TOOL_ORDER"
TOOL_CHECK_TYPES: Final = (TOOL_CALLED, TOOL_NOT_CALLED, TOOL_ORDER)

REGEX_KEY: Final = "$regex"
CASE_KEY: Final = "$case_sensitive"
"""`called(args={"id": regex("A\\d+")})` is stored as `{"id": {"$regex": "A\\d+"}}`."""


def canonical(value: Any) -> str:
    """JSON text with sorted keys: equal values, equal text. TypeError/ValueError if not JSON."""
    return json.dumps(value, sort_keys=True, ensure_ascii=False, allow_nan=False)


def args_match(wanted: Any, actual: Any) -> bool:
    """Subset match: every key of `wanted` is in `actual` with a matching value, recursively;
    `{"$regex": p}` matches text `p` searches; lists and scalars must be equal."""
    if isinstance(wanted, Mapping):
        if REGEX_KEY in wanted and set(wanted) <= {REGEX_KEY, CASE_KEY}:
            return isinstance(actual, str) and _searches(wanted, actual)
        if not isinstance(actual, Mapping):
            return False
        return all(key in actual and args_match(item, actual[key]) for key, item in wanted.items())
    if isinstance(wanted, bool) or isinstance(actual, bool):
        return wanted is actual  # True is not 1 in JSON
    return bool(wanted == actual)


def _searches(wanted: Mapping[str, Any], actual: str) -> bool:
    """The REGEX check's own search (the `regex` package, with its time limit): a pattern that
    takes too long counts as no match."""
    case = bool(wanted.get(CASE_KEY, False))
    return regex_check(str(wanted[REGEX_KEY]), case_sensitive=case)(actual).status == PASSED


def mock_answer(tool: Mapping[str, Any], arguments: Any) -> Any:
    """A tool document's mock answer to `arguments`: the first case whose arguments are a
    subset of them, else `returns`; `LookupError` when neither."""
    for case in tool.get("cases") or ():
        if args_match(case["args"], arguments):
            return case["result"]
    if "returns" in tool:
        return tool["returns"]
    raise LookupError(
        f"the mock of {tool.get('name')!r} has no case matching these arguments and no returns"
    )
