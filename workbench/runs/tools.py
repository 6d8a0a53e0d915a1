"""Tools during a run (issue 20): answering the assistant's calls, and the tool checks.

A scenario's tools come with the run's snapshot (`run_scenario.tools`): each has a JSON Schema
and a mock (cases, then `returns`). A run may pass live Python functions by name
(`wb.runs.start(tools={"lookup_order": fn})`), which replace the mocks of that name. Whatever
goes wrong with one call (a name the model made up, a mock with no matching case, a function
that raises or returns something that is not JSON) becomes an error *result* the model
receives, as a real tool's failure would; the call is stored with its error and the run goes on.

Arguments and results are stored bounded (`STORED_CHARS`), like replies, and with anything
shaped like a provider key (`sk-...`, which OpenAI's and Anthropic's keys all are) redacted: a
live function may well return what it read from the environment.
"""

from __future__ import annotations

import asyncio
import inspect
import json
import re
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from workbench.runs.evaluators.tools import TOOL_CALLED, TOOL_NOT_CALLED, args_match, mock_answer
from workbench.runs.providers import ToolCallRequest

STORED_CHARS = 20_000
"""Characters of a call's arguments and of its result kept in `workbench.tool_call`."""
SENT_CHARS = 100_000
"""Characters of a result sent back to the model (a live function may return a lot)."""
LIVE_TIMEOUT_S = 60.0
PROVIDER_KEY = re.compile(r"\bsk-[A-Za-z0-9_\-]{16,}")

LiveTool = Callable[..., Any]


@dataclass(frozen=True, slots=True)
class ToolBox:
    """The tools offered in one scenario: definitions for the provider, mocks by name."""

    definitions: tuple[Mapping[str, Any], ...]
    mocks: Mapping[str, Mapping[str, Any]]  # name -> the tool's document (cases, returns)


def toolbox(
    document: Mapping[str, Any] | None,
    live: Mapping[str, LiveTool],
    served: Mapping[str, Mapping[str, Any]] | None = None,
) -> ToolBox | None:
    """The scenario's tools (its snapshot's document), the run's live functions and its MCP
    servers' tools (`served`: name -> definition); None if there are none."""
    specs = list((document or {}).get("tools") or ())
    served = served or {}
    if not specs and not live and not served:
        return None
    definitions = [
        {"name": s["name"], "description": s.get("description") or "",
         "parameters": s["parameters"]}
        for s in specs
    ]  # fmt: skip
    defined = {spec["name"] for spec in specs}
    for name, definition in served.items():
        if name not in defined:
            definitions.append(dict(definition))
            defined.add(name)
    for name, function in live.items():
        if name not in defined:  # a live tool the scenario does not describe
            doc = (inspect.getdoc(function) or name).strip()[:1000]
            definitions.append({"name": name, "description": doc, "parameters": {"type": "object"}})
    return ToolBox(tuple(definitions), {spec["name"]: spec for spec in specs})


@dataclass(frozen=True, slots=True)
class ToolCallRow:
    """One call as stored: where it happened, what was asked, what came back."""

    turn_index: int
    round: int  # from 1
    call_index: int  # from 0, within the round
    name: str
    arguments: str
    result: str | None
    source: str  # mock, live, mcp or none (a tool nobody defines)
    error: str | None
    latency_s: float

    def row(self) -> dict[str, Any]:
        """The row as the ledger stores it: bounded, provider keys redacted."""
        return {"t": self.turn_index, "r": self.round, "i": self.call_index, "n": self.name,
                "g": _stored(self.arguments), "o": _stored(self.result), "s": self.source,
                "e": _stored(self.error), "l": self.latency_s}  # fmt: skip


def _stored(text: str | None) -> str | None:
    if text is None:
        return None
    return PROVIDER_KEY.sub("[redacted]", text[:STORED_CHARS])


async def answer(
    call: ToolCallRequest,
    box: ToolBox,
    live: Mapping[str, LiveTool],
    *,
    turn_index: int,
    round: int,
    index: int,
    served: Mapping[str, LiveTool] | None = None,
) -> tuple[str, bool, ToolCallRow]:
    """(text sent back to the model, is it an error, the stored row) for one call: a live
    function of that name, else the scenario's mock, else an MCP server's tool."""
    started = time.perf_counter()
    source, result, error = "none", None, None
    try:
        arguments = json.loads(call.arguments or "{}")
        if not isinstance(arguments, dict):
            raise ValueError("the arguments are not a JSON object")
    except ValueError as bad:
        arguments, error = None, f"the arguments are not valid JSON ({str(bad)[:200]})"
    if error is None and call.name in live:
        source = "live"
        result, error = await _call_live(live[call.name], arguments)
    elif error is None and call.name in box.mocks:
        source = "mock"
        try:
            result = _json_text(mock_answer(box.mocks[call.name], arguments))
        except LookupError as missing:
            error = str(missing)
    elif error is None and served and call.name in served:
        source = "mcp"
        result, error = await _call_live(served[call.name], arguments)
    elif error is None:
        error = f"there is no tool named {call.name[:100]!r}"
    latency = time.perf_counter() - started
    row = ToolCallRow(turn_index, round, index, call.name[:200], call.arguments, result,
                      source, error, latency)  # fmt: skip
    sent = f"Error: {error}" if error is not None else (result or "")[:SENT_CHARS]
    return sent, error is not None, row


async def _call_live(function: LiveTool, arguments: Any) -> tuple[str | None, str | None]:
    try:
        if inspect.iscoroutinefunction(function):
            async with asyncio.timeout(LIVE_TIMEOUT_S):
                value = await function(**arguments)
        else:
            value = function(**arguments)
        return _json_text(value), None
    except Exception as failure:
        return None, f"{type(failure).__name__}: {str(failure)[:500]}"


def _json_text(value: Any) -> str:
    """A result as the model receives it: text as is, anything else as JSON."""
    if isinstance(value, str):
        return value
    try:
        return json.dumps(value, ensure_ascii=False, default=str)
    except (TypeError, ValueError) as bad:
        raise LookupError(f"the result is not JSON ({bad})") from None


# ------------------------------------------------------------------------------------ checks


@dataclass(frozen=True, slots=True)
class ToolCheckPlan:
    index: int  # the check's expectation index: after the turn's text checks
    type: str
    names: tuple[str, ...]
    args: Any
    times: int | None
    args_schema: Any = None


def check_plans(turn: Mapping[str, Any], offset: int) -> tuple[ToolCheckPlan, ...]:
    """The tool checks of one EXPECT turn of a snapshot (`turn["tool_checks"]`)."""
    return tuple(
        ToolCheckPlan(
            offset + k,
            str(c["type"]),
            tuple(c["names"]),
            c.get("args"),
            c.get("times"),
            c.get("args_schema"),
        )
        for k, c in enumerate(turn.get("tool_checks") or ())
    )


def evaluate(plan: ToolCheckPlan, calls: Sequence[ToolCallRow]) -> tuple[str, dict[str, Any]]:
    """(PASSED or FAILED, detail) of one check against the calls made during its turn."""
    made = [call.name for call in calls]
    detail: dict[str, Any] = {"calls": made[:50]}
    if plan.type == TOOL_NOT_CALLED:
        passed = plan.names[0] not in made
    elif plan.type == TOOL_CALLED:
        matching = [
            c
            for c in calls
            if c.name == plan.names[0]
            and _args_fit(plan.args, c)
            and _schema_fits(plan.args_schema, c)
        ]
        detail["matching"] = len(matching)
        passed = len(matching) == plan.times if plan.times is not None else bool(matching)
    else:  # TOOL_ORDER: the names appear in this order, others may come between
        remaining = iter(made)
        passed = all(any(name == seen for seen in remaining) for name in plan.names)
    return ("PASSED" if passed else "FAILED"), detail


def _args_fit(wanted: Any, call: ToolCallRow) -> bool:
    if wanted is None:
        return True
    try:
        return args_match(wanted, json.loads(call.arguments or "{}"))
    except ValueError:
        return False


def _schema_fits(schema: Any, call: ToolCallRow) -> bool:
    """The call's arguments satisfy `schema` (None: no schema to satisfy)."""
    if schema is None:
        return True
    from jsonschema import validators  # only for runs with args_schema checks

    try:
        arguments = json.loads(call.arguments or "{}")
    except ValueError:
        return False
    return bool(validators.validator_for(schema)(schema).is_valid(arguments))
