"""The export document: scenarios and suites as plain data, and reading it back with every problem.

Format `workbench.scenarios/v1` (the same shape as YAML or JSON):

    format: workbench.scenarios/v1
    scenarios:
      - name: Greeting
        description: null
        locale: en
        status: DRAFT                 # DRAFT, PUBLISHED or ARCHIVED
        tags: [smoke]
        turns:
          - user: Hi, I'm Ada
          - expect:
              - {type: MUST_CONTAIN, value: Ada}
              - {type: MUST_CONTAIN_ANY, values: [hello, hi], case_sensitive: true}
              - {type: REGEX, value: '\\d+'}
              - {type: SEMANTIC_ASSERT, value: The reply is friendly, threshold: 0.7}
    suites:
      - name: Smoke
        description: null
        tags: []
        scenarios: [Greeting]         # scenario names, in suite order

An expectation lists only what differs from the defaults (`case_sensitive: false`, no
`threshold`, no `value`, no `values`). Only `name` is required in a scenario (and a suite);
`locale` defaults to "en", `status` to DRAFT. Positions in problems are 0-based paths into the
document: `scenarios[3].turns[2].expectations[1].value`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any, Final

from workbench.db.enums import ScenarioTurnType
from workbench.errors import quoted
from workbench.services.common import is_list, is_mapping
from workbench.services.scenarios.simulated import ENTRY_KEYS as SIMULATED_KEYS
from workbench.services.scenarios.simulated import turn_entry as simulated_entry
from workbench.services.scenarios.simulated import turn_from_entry as simulated_turn
from workbench.services.scenarios.tool_validation import check_tool_checks
from workbench.services.scenarios.tools import (
    TOOL_CHECK_TYPES,
    ToolCheckSpec,
    check_document,
    check_from_document,
    tool_document,
    tool_from_document,
)
from workbench.services.scenarios.types import ExpectationSpec, ScenarioCreate, TurnSpec
from workbench.services.scenarios.validation import (
    REPORTED,
    check_description,
    check_name,
    check_scenario,
    check_simulation,
    check_tags,
    check_turns,
)

FORMAT: Final = "workbench.scenarios/v1"
SCENARIO_KEYS: Final = ("name", "description", "locale", "status", "tags", "turns", "tools")
EXPECTATION_KEYS: Final = ("type", "value", "values", "case_sensitive", "threshold")
TOOL_CHECK_KEYS: Final = ("type", "names", "args", "times", "args_schema")
TOOL_KEYS: Final = ("name", "description", "parameters", "returns", "cases")
SUITE_KEYS: Final = ("name", "description", "tags", "scenarios")


@dataclass(frozen=True)
class SuiteEntry:
    """A suite as the document gives it: members by scenario name, in order."""

    name: str
    description: str | None
    tags: tuple[str, ...]
    scenarios: tuple[str, ...]


# ---------------------------------------------------------------- writing


def scenario_entry(spec: ScenarioCreate) -> dict[str, Any]:
    return {
        "name": spec.name,
        "description": spec.description,
        "locale": spec.locale,
        "status": str(spec.status),
        "tags": list(spec.tags),
        "turns": [turn_entry(turn) for turn in spec.turns],
        **({"tools": [tool_document(tool) for tool in spec.tools]} if spec.tools else {}),
    }


def turn_entry(turn: TurnSpec) -> dict[str, Any]:
    simulated = simulated_entry(turn)  # issue 21: {simulated_user: ...}, {judge_conversation: ...}
    if simulated is not None:
        return simulated
    if turn.type is ScenarioTurnType.USER:
        return {"user": turn.text}
    checks = [expectation_entry(spec) for spec in turn.expectations]
    return {"expect": checks + [check_document(check) for check in turn.tool_checks]}


def expectation_entry(spec: ExpectationSpec) -> dict[str, Any]:
    entry: dict[str, Any] = {"type": str(spec.type)}
    if spec.value is not None:
        entry["value"] = spec.value
    if spec.values:
        entry["values"] = list(spec.values)
    if spec.case_sensitive:
        entry["case_sensitive"] = True
    if spec.threshold is not None:
        entry["threshold"] = spec.threshold
    return entry


def suite_entry(suite: SuiteEntry) -> dict[str, Any]:
    return {
        "name": suite.name,
        "description": suite.description,
        "tags": list(suite.tags),
        "scenarios": list(suite.scenarios),
    }


def document(scenarios: Sequence[ScenarioCreate], suites: Sequence[SuiteEntry]) -> dict[str, Any]:
    return {
        "format": FORMAT,
        "scenarios": [scenario_entry(spec) for spec in scenarios],
        "suites": [suite_entry(suite) for suite in suites],
    }


# ---------------------------------------------------------------- reading


@dataclass
class Reading:
    """What reading a document found: scenarios and suites, and every problem (as text)."""

    scenarios: list[tuple[int, ScenarioCreate]]
    """Each valid scenario with its index in the document."""
    suites: list[tuple[int, SuiteEntry]]
    problems: list[str]


def read_document(data: Any) -> Reading:
    """The scenarios and suites of a parsed document, each checked as the service would."""
    reading = Reading([], [], [])
    if not is_mapping(data):
        reading.problems.append(f"document: must be a mapping with 'format', not {kind(data)}")
        return reading
    if data.get("format") != FORMAT:
        given = data.get("format")
        reading.problems.append(f"format: must be {quoted(FORMAT)}, got {quoted(given)}")
    unknown_keys(data, ("format", "scenarios", "suites"), "", reading.problems)
    for index, entry in enumerate(entries(data, "scenarios", reading.problems)):
        spec = read_scenario(entry, f"scenarios[{index}]", reading.problems)
        if spec is not None:
            reading.scenarios.append((index, spec))
    for index, entry in enumerate(entries(data, "suites", reading.problems)):
        suite = read_suite(entry, f"suites[{index}]", reading.problems)
        if suite is not None:
            reading.suites.append((index, suite))
    duplicate_names([(i, s.name) for i, s in reading.scenarios], "scenarios", reading.problems)
    duplicate_names([(i, s.name) for i, s in reading.suites], "suites", reading.problems)
    return reading


def kind(value: Any) -> str:
    return "nothing" if value is None else f"a {type(value).__name__}"


def entries(data: Mapping[str, Any], key: str, problems: list[str]) -> Sequence[Any]:
    value = data.get(key)
    if value is None:
        return ()
    if not is_list(value):
        problems.append(f"{key}: must be a list, not {kind(value)}")
        return ()
    return value


def unknown_keys(
    entry: Mapping[str, Any], known: Sequence[str], path: str, problems: list[str]
) -> None:
    for key in entry:
        if key not in known:
            where = f"{path}.{key}" if path else str(key)
            problems.append(f"{where}: unknown key; known keys are {', '.join(known)}")


def read_scenario(entry: Any, path: str, problems: list[str]) -> ScenarioCreate | None:
    """One scenario entry; None (with its problems recorded) if it is not valid."""
    if not is_mapping(entry):
        problems.append(f"{path}: must be a mapping, not {kind(entry)}")
        return None
    found: list[str] = []
    unknown_keys(entry, SCENARIO_KEYS, path, found)
    turns, turn_problems = read_turns(entry.get("turns", []), path)
    found += turn_problems
    tools = read_tools(entry.get("tools") or [], path, found)
    spec = ScenarioCreate(
        name=entry.get("name"),  # type: ignore[arg-type]  # checked below
        description=entry.get("description"),
        locale=entry.get("locale", "en"),
        status=entry.get("status", "DRAFT"),
        tags=entry.get("tags") or (),
        tools=tools,
    )
    normalised, field_problems = check_scenario(spec)
    found += [problem.at(path) for problem in field_problems]
    found += [problem.at(path) for problem in check_turns(turns)]
    found += [problem.at(path) for problem in check_tool_checks(turns, None)]
    found += [problem.at(path) for problem in check_simulation(turns)]
    problems += found
    if found:
        return None
    return replace(normalised, turns=tuple(turns))


def read_tools(raw: Any, path: str, problems: list[str]) -> tuple[Any, ...]:
    """Tool entries as specs; a malformed one is recorded and left out."""
    if not is_list(raw):
        problems.append(f"{path}.tools: must be a list, not {kind(raw)}")
        return ()
    tools = []
    for index, item in enumerate(raw):
        where = f"{path}.tools[{index}]"
        if not is_mapping(item):
            problems.append(f"{where}: must be a mapping, not {kind(item)}")
            continue
        unknown_keys(item, TOOL_KEYS, where, problems)
        try:
            tools.append(tool_from_document({"parameters": None, **item}))
        except (KeyError, TypeError, ValueError) as error:
            problems.append(f"{where}: cannot be read ({error!r:.100})")
    return tuple(tools)


def read_turns(raw: Any, path: str) -> tuple[list[Any], list[str]]:
    """Turns in document shape as specs; a malformed turn is REPORTED, its problem recorded."""
    if not is_list(raw):
        return [], [f"{path}.turns: must be a list, not {kind(raw)}"]
    turns: list[Any] = []
    problems: list[str] = []
    for index, item in enumerate(raw):
        where = f"{path}.turns[{index}]"
        if (
            not is_mapping(item)
            or len(item) != 1
            or next(iter(item)) not in ("user", "expect", *SIMULATED_KEYS)
        ):
            problems.append(
                f"{where}: must be {{user: <text>}} or {{expect: [<expectations>]}}, "
                f"not {item!r:.80}"
            )
            turns.append(REPORTED)
            continue
        if "user" in item:
            turns.append(TurnSpec(ScenarioTurnType.USER, text=item["user"]))
            continue
        key = next(iter(item))
        if key in SIMULATED_KEYS:
            try:
                turns.append(simulated_turn(key, item[key]))
            except ValueError as error:
                problems.append(f"{where}: {error}")
                turns.append(REPORTED)
            continue
        expectations, found = read_expectations(item["expect"], where)
        problems += found
        checks = tuple(e for e in expectations if isinstance(e, ToolCheckSpec))
        texts = tuple(e for e in expectations if not isinstance(e, ToolCheckSpec))
        turns.append(TurnSpec(ScenarioTurnType.EXPECT, None, texts, checks))
    return turns, problems


def read_expectations(raw: Any, path: str) -> tuple[Any, list[str]]:
    """Expectations as specs; a malformed one is REPORTED (its problem recorded)."""
    if not is_list(raw):
        return (REPORTED,), [f"{path}.expect: must be a list of expectations, not {kind(raw)}"]
    specs: list[Any] = []
    problems: list[str] = []
    for index, item in enumerate(raw):
        where = f"{path}.expectations[{index}]"
        if not is_mapping(item):
            problems.append(f"{where}: must be a mapping with a 'type', not {kind(item)}")
            specs.append(REPORTED)
            continue
        if item.get("type") in TOOL_CHECK_TYPES:
            unknown_keys(item, TOOL_CHECK_KEYS, where, problems)
            try:
                specs.append(check_from_document(item))
            except (KeyError, TypeError, ValueError) as error:
                problems.append(f"{where}: cannot be read as a tool check ({error!r:.100})")
            continue
        unknown_keys(item, EXPECTATION_KEYS, where, problems)
        values = item.get("values") or ()
        specs.append(
            ExpectationSpec(
                type=item.get("type"),  # type: ignore[arg-type]  # validation reports it
                value=item.get("value"),
                values=values,  # a list becomes a tuple; anything else is reported
                case_sensitive=item.get("case_sensitive", False),
                threshold=item.get("threshold"),
            )
        )
    return tuple(specs), problems


def read_suite(entry: Any, path: str, problems: list[str]) -> SuiteEntry | None:
    if not is_mapping(entry):
        problems.append(f"{path}: must be a mapping, not {kind(entry)}")
        return None
    found: list[str] = []
    unknown_keys(entry, SUITE_KEYS, path, found)
    name, name_problems = check_name(entry.get("name"))
    tags, tag_problems = check_tags(entry.get("tags") or ())
    description = entry.get("description")
    checked = name_problems + tag_problems + check_description(description)
    found += [problem.at(path) for problem in checked]
    members = entry.get("scenarios") or ()
    if not is_list(members):
        found.append(f"{path}.scenarios: must be a list of scenario names, not {kind(members)}")
        members = ()
    for index, member in enumerate(members):
        if not isinstance(member, str):
            found.append(f"{path}.scenarios[{index}]: must be a scenario name, not {kind(member)}")
        elif member in members[:index]:
            found.append(f"{path}.scenarios[{index}]: {quoted(member)} is listed twice")
    problems += found
    if found:
        return None
    return SuiteEntry(name, description, tags, tuple(m.strip() for m in members))


def duplicate_names(names: Sequence[tuple[int, str]], what: str, problems: list[str]) -> None:
    """Names must be unique within the document, as they are within an account."""
    first: dict[str, int] = {}
    for index, name in names:
        if name in first:
            problems.append(
                f"{what}[{index}].name: {quoted(name)} is also the name of {what}[{first[name]}]; "
                "names must be unique"
            )
        else:
            first[name] = index
