"""The rules tools and tool checks satisfy before anything is written (issue 20).

Tool names follow the providers' own pattern (`^[a-zA-Z0-9_-]{1,64}$`, what OpenAI and
Anthropic both accept), are unique in a scenario, and `parameters` is a JSON Schema object
(`{"type": "object", ...}`); every value is JSON. A tool check names a tool the scenario defines
(a run may also offer tools of its own: `wb.runs.start(tools=...)` checks those at start).
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import Any, Final

from workbench.db.enums import ScenarioTurnType
from workbench.runs.evaluators.tools import REGEX_KEY
from workbench.services.scenarios.problem import Problem, regex_problems, text_problem
from workbench.services.scenarios.tools import (
    TOOL_CHECK_TYPES,
    TOOL_ORDER,
    ToolCheckSpec,
    ToolSpec,
    args_problem,
    args_schema_problem,
    canonical,
    tool_document,
)
from workbench.services.scenarios.types import TurnSpec

TOOL_NAME: Final = re.compile(r"[a-zA-Z0-9_-]{1,64}")
MAX_TOOLS: Final = 128  # OpenAI's limit on tools in one request
MAX_TOOL_JSON: Final = 100_000  # characters of one tool's JSON (schema, mock and cases)
MAX_TOOL_CHECKS: Final = 50  # per turn


def name_problem(name: Any) -> str | None:
    if not isinstance(name, str):
        return f"must be text, not {type(name).__name__}"
    if TOOL_NAME.fullmatch(name) is None:
        return (
            f"{name[:80]!r} is not a tool name the providers accept: 1 to 64 letters, digits, "
            "'_' or '-'"
        )
    return None


def check_tools(tools: Any) -> list[Problem]:
    """Every problem with a scenario's tools (`tools[i].field: ...`)."""
    if not isinstance(tools, Sequence) or isinstance(tools, str):
        return [Problem("tools", f"must be a list of tool(...), not {type(tools).__name__}")]
    if len(tools) > MAX_TOOLS:
        return [Problem("tools", f"at most {MAX_TOOLS} tools (got {len(tools)})")]
    problems: list[Problem] = []
    seen: set[str] = set()
    for index, spec in enumerate(tools):
        where = f"tools[{index}]"
        if not isinstance(spec, ToolSpec):
            hint = f"is a {type(spec).__name__}, not a tool; use tool(...)"
            problems.append(Problem(where, hint))
            continue
        problems += [Problem(f"{where}.{field}", message) for field, message in _tool(spec)]
        if isinstance(spec.name, str) and spec.name in seen:
            problems.append(Problem(f"{where}.name", f"duplicate tool name {spec.name!r}"))
        seen.add(spec.name)
    return problems


def _tool(spec: ToolSpec) -> list[tuple[str, str]]:
    found: list[tuple[str, str]] = []
    name = name_problem(spec.name)
    if name is not None:
        found.append(("name", name))
    description = text_problem(spec.description, required=False)
    if description is not None:
        found.append(("description", description))
    found += [("parameters", message) for message in schema_problems(spec.parameters)]
    for position, case in enumerate(spec.cases):
        if len(case) != 2 or not isinstance(case[0], Mapping):
            found.append((f"cases[{position}]", "must be (arguments dict, result)"))
    if not found:
        try:
            size = len(canonical(tool_document(spec)))
        except (TypeError, ValueError) as error:
            return [("returns", f"the mock's results and cases must be JSON ({error})")]
        if size > MAX_TOOL_JSON:
            found.append(("parameters", f"the tool is {size:,} characters of JSON; at most "
                                        f"{MAX_TOOL_JSON:,}"))  # fmt: skip
    return found


def schema_problems(schema: Any) -> list[str]:
    """Why `schema` is not a JSON Schema object the providers take as parameters."""
    if not isinstance(schema, Mapping):
        return [f"must be a JSON Schema object (a dict), not {type(schema).__name__}"]
    if schema.get("type") != "object":
        return ['must be a JSON Schema with "type": "object"']
    problems = []
    properties = schema.get("properties", {})
    if not isinstance(properties, Mapping) or not all(
        isinstance(item, Mapping) for item in properties.values()
    ):
        problems.append('"properties" must map each argument name to its JSON Schema (a dict)')
    required = schema.get("required", [])
    if not isinstance(required, list) or not all(isinstance(item, str) for item in required):
        problems.append('"required" must be a list of argument names')
    elif isinstance(properties, Mapping):
        missing = [item for item in required if item not in properties]
        if missing:
            problems.append(f'"required" names arguments not in "properties": {missing[:5]}')
    try:
        canonical(schema)
    except (TypeError, ValueError) as error:
        problems.append(f"must be JSON ({error})")
    return problems


def check_tool_checks(turns: Sequence[Any], tool_names: set[str] | None) -> list[Problem]:
    """Problems of the tool checks in `turns`; `tool_names` None skips "is it defined"."""
    problems: list[Problem] = []
    for index, turn in enumerate(turns):
        if not isinstance(turn, TurnSpec) or not turn.tool_checks:
            continue
        if turn.type is ScenarioTurnType.USER:
            problems.append(Problem("tool_checks", "a USER turn has no tool checks", turn=index))
            continue
        if len(turn.tool_checks) > MAX_TOOL_CHECKS:
            message = f"at most {MAX_TOOL_CHECKS} tool checks in a turn"
            problems.append(Problem("tool_checks", message, turn=index))
            continue
        offset = len(turn.expectations)
        for position, check in enumerate(turn.tool_checks):
            for field, message in _check(check, tool_names):
                problems.append(Problem(field, message, turn=index, expectation=offset + position))
    return problems


def _check(check: Any, tool_names: set[str] | None) -> list[tuple[str, str]]:
    if not isinstance(check, ToolCheckSpec) or check.type not in TOOL_CHECK_TYPES:
        return [("type", "not a tool check; use called(...), not_called(...), calls_in_order(...)")]
    found: list[tuple[str, str]] = []
    if not check.names or (check.type == TOOL_ORDER and len(check.names) < 2):
        found.append(("names", "calls_in_order needs at least two tool names"))
    for name in check.names:
        problem = name_problem(name)
        if problem is not None:
            found.append(("name", problem))
        elif tool_names is not None and name not in tool_names:
            defined = ", ".join(sorted(tool_names)) or "none"
            found.append(("name", f"{check.type} names {name!r}, which the scenario does not "
                                  f"define (its tools: {defined})"))  # fmt: skip
    problem = args_problem(check)
    if problem is not None:
        found.append(("args", problem))
    else:
        found += [("args", message) for message in _patterns(check.args)]
    schema_problem = args_schema_problem(check)
    if schema_problem is not None:
        found.append(("args_schema", schema_problem))
    if check.times is not None and (
        isinstance(check.times, bool) or not isinstance(check.times, int) or check.times < 0
    ):
        found.append(("times", "must be a whole number ≥ 0"))
    return found


def _patterns(args: Any, depth: int = 0) -> list[str]:
    """Problems of the `regex(...)` values inside `args` (nesting bounded)."""
    if depth > 20:
        return ["args are nested too deeply"]
    if isinstance(args, Mapping):
        pattern = args.get(REGEX_KEY)
        if isinstance(pattern, str):
            return regex_problems(pattern)
        return [m for item in args.values() for m in _patterns(item, depth + 1)]
    if isinstance(args, list):
        return [m for item in args for m in _patterns(item, depth + 1)]
    return []
