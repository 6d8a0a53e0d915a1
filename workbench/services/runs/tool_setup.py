"""What a run needs of tools at start (issue 20), all checked before anything is written.

`tools=` (live Python functions by name) and `max_tool_rounds` are checked; each scenario's
tools document is read, its tool checks are put on their EXPECT turns of the run's snapshot
(`turns[i]["tool_checks"]`) and its tools kept as `run_scenario.tools`. A scenario whose tool
checks no longer fit its turns (the web app changed them), or whose checks name a tool that
neither the scenario nor the run offers, stops the start with a `ValidationError` naming it.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy.orm import Session

from workbench.errors import ValidationError, quoted
from workbench.runs.engine import DEFAULT_MAX_TOOL_ROUNDS
from workbench.runs.lifecycle import ScenarioSnapshot
from workbench.runs.mcp import McpStdio
from workbench.services.scenarios.extensions import (
    TOOLS,
    latest_documents,
    read_tools,
    turn_identities,
)
from workbench.services.scenarios.tool_validation import name_problem
from workbench.services.scenarios.tools import check_document, tool_document

MAX_TOOL_ROUNDS_LIMIT = 100


@dataclass(frozen=True)
class RunTools:
    """What `tools=` gave: live functions by name, and MCP servers."""

    functions: dict[str, Callable[..., Any]]
    servers: tuple[McpStdio, ...]


def check_run_tools(tools: object) -> RunTools:
    """`tools=`: a dict of name -> function, an MCP server (`mcp_stdio(...)`), or a list of
    those; checked."""
    if tools is None:
        return RunTools({}, ())
    items = list(tools) if isinstance(tools, list | tuple) else [tools]
    functions: dict[str, Callable[..., Any]] = {}
    servers: list[McpStdio] = []
    for item in items:
        if isinstance(item, McpStdio):
            servers.append(item)
        else:
            functions |= check_live_tools(item)
    return RunTools(functions, tuple(servers))


def check_live_tools(tools: object) -> dict[str, Callable[..., Any]]:
    """`wb.runs.start(tools={"name": function})`, checked."""
    if tools is None:
        return {}
    if not isinstance(tools, Mapping):
        raise ValidationError(
            "tools must be a dict of tool name -> Python function, an MCP server "
            f"(workbench.mcp_stdio(...)) or a list of those, not {type(tools).__name__}"
        )
    problems = []
    for name, function in tools.items():
        problem = name_problem(name)
        if problem is not None:
            problems.append(f"tools: {problem}")
        elif not callable(function):
            problems.append(f"tools[{name!r}]: must be a function, not {type(function).__name__}")
    if problems:
        raise ValidationError("Cannot start the run: " + "; ".join(problems), problems=problems)
    return dict(tools)


def check_max_tool_rounds(rounds: object) -> int:
    if (
        isinstance(rounds, bool)
        or not isinstance(rounds, int)
        or not 1 <= rounds <= MAX_TOOL_ROUNDS_LIMIT
    ):
        raise ValidationError(
            f"max_tool_rounds must be a whole number from 1 to {MAX_TOOL_ROUNDS_LIMIT} "
            f"(default {DEFAULT_MAX_TOOL_ROUNDS}), got {str(rounds)[:50]!r}"
        )
    return rounds


def rounds_option(rounds: int) -> dict[str, object]:
    """The run's `options` entry: recorded only when chosen (older runs' options stay equal)."""
    return {} if rounds == DEFAULT_MAX_TOOL_ROUNDS else {"max_tool_rounds": rounds}


def with_tools(
    session: Session, user_id: str, snapshots: Sequence[ScenarioSnapshot], live: Collection[str]
) -> list[ScenarioSnapshot]:
    """The snapshots with their tools and tool checks; `ValidationError` listing every problem."""
    ids = [s.scenario_id for s in snapshots]
    documents = latest_documents(session, user_id, ids, TOOLS)
    if not documents:
        return list(snapshots)
    identities = turn_identities(session, list(documents))
    problems: list[str] = []
    out = []
    for snapshot in snapshots:
        found = documents.get(snapshot.scenario_id)
        if found is None:
            out.append(snapshot)
            continue
        document = read_tools(found[1])
        turns = [dict(turn) for turn in snapshot.turns]
        known = {spec.name for spec in document.tools} | set(live)
        where = f"Scenario {quoted(snapshot.name)}"
        ids_now = identities.get(snapshot.scenario_id, [])
        for turn_id, position, checks in document.checks:
            fits = position < len(ids_now) and ids_now[position][0] == turn_id
            if not fits or turns[position].get("type") != "EXPECT":
                problems.append(
                    f"{where}, turn {position + 1}: its tool checks were written for a turn that "
                    "was changed since outside the workbench; open the scenario, put them back "
                    "on the right turn and save it"
                )
                continue
            for k, check in enumerate(checks):
                for name in check.names:
                    if name not in known:
                        number = len(turns[position].get("expectations") or ()) + k + 1
                        problems.append(
                            f"{where}, turn {position + 1}, expectation {number}, name: "
                            f"{check.type} names {name!r}, which neither the scenario nor "
                            "wb.runs.start(tools=...) offers"
                        )
            turns[position]["tool_checks"] = [check_document(check) for check in checks]
        tools = {"tools": [tool_document(spec) for spec in document.tools]}
        out.append(snapshot.with_turns(turns, tools=tools))
    if problems:
        raise ValidationError(
            "Cannot start the run; nothing was started:\n" + "\n".join(f"- {p}" for p in problems),
            problems=problems,
        )
    return out


def kernel_only_tools(given: RunTools, executor: object) -> None:
    """Live functions and MCP servers are this kernel's: workers and Dask cannot call them."""
    if (given.functions or given.servers) and executor != "kernel":
        raise ValidationError(
            "tools= (live Python functions, MCP servers) need executor='kernel': workers "
            "and Dask cannot call this kernel's functions"
        )
