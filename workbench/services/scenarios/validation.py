"""Every rule a scenario must satisfy before anything is written, with every problem reported.

Validation never stops at the first problem: it returns all of them, each naming the field and
the position ("turn 3, expectation 2, value: MUST_CONTAIN needs a value"), and a normalised copy
of the input (enums converted, names and tags stripped, duplicate tags dropped). It runs before
the database is touched, so a scenario that fails it leaves nothing behind.

Text is stored exactly as given (quotes, SQL, emoji, right-to-left marks, combining characters)
with two exceptions PostgreSQL forces: NUL characters (`\\x00`) and lone surrogates cannot be
stored in a `text` column, so they are refused here with a message saying so.

REGEX patterns are checked with Python's `re`; the web app may evaluate them with JavaScript's
`RegExp`, whose syntax differs in corners (lookbehind, named groups `(?P<..>)`, inline flags).
"""

from __future__ import annotations

import enum
import math
import re
from collections.abc import Sequence
from dataclasses import replace
from typing import Any, Final

from workbench.db.enums import ExpectationType, ScenarioStatus, ScenarioTurnType
from workbench.errors import ValidationError, quoted
from workbench.services._fields import MAX_NAME_LENGTH, MAX_TAG_LENGTH
from workbench.services.common import UNSET, is_list
from workbench.services.limits import (
    MAX_EXPECTATIONS_PER_TURN,
    MAX_SCENARIO_TEXT,
    MAX_TAGS,
    MAX_TURNS,
    count_problem,
    name_problem,
)
from workbench.services.scenarios.problem import Problem, regex_problems, text_problem
from workbench.services.scenarios.simulated import simulation_problems
from workbench.services.scenarios.tool_validation import check_tool_checks, check_tools
from workbench.services.scenarios.types import (
    ExpectationSpec,
    ScenarioCreate,
    ScenarioUpdate,
    TurnSpec,
)

NAME_MAX: Final = MAX_NAME_LENGTH
TAG_MAX: Final = MAX_TAG_LENGTH
LOCALE_PATTERN: Final = re.compile(r"[A-Za-z]{2,3}(-[A-Za-z0-9]{1,8})*")
_TAKES_VALUE: Final = {
    ExpectationType.MUST_CONTAIN,
    ExpectationType.MUST_NOT_CONTAIN,
    ExpectationType.REGEX,
    ExpectationType.SEMANTIC_ASSERT,
}

REPORTED: Final[Any] = type("Reported", (), {"__repr__": lambda self: "REPORTED"})()
"""Stands in for a malformed document entry whose problem the reader already recorded, so the
entries after it keep their positions and are still checked."""


def raise_if_any(problems: Sequence[Problem], what: str) -> None:
    """Raise one `ValidationError` listing every problem, or return if there are none."""
    if not problems:
        return
    lines = [problem.describe() for problem in problems]
    count = f"{len(lines)} problem" + ("" if len(lines) == 1 else "s")
    raise ValidationError(
        f"{what} cannot be saved ({count}):\n" + "\n".join(f"- {line}" for line in lines),
        problems=lines,
    )


def check_name(name: Any, *, field: str = "name") -> tuple[str, list[Problem]]:
    """A name stripped of surrounding whitespace: required, at most 200 characters."""
    problem = text_problem(name, required=True)
    if problem is not None:
        return name, [
            Problem(field, problem + ("; give it a name" if problem == "is empty" else ""))
        ]
    stripped = str(name).strip()
    if len(stripped) > NAME_MAX:
        message = f"is {len(stripped):,} characters long; the limit is {NAME_MAX}"
        return stripped, [Problem(field, message)]
    problem = name_problem(stripped)
    return stripped, [] if problem is None else [Problem(field, problem)]


def check_tags(tags: Any, *, field: str = "tags") -> tuple[tuple[str, ...], list[Problem]]:
    """Tags stripped, duplicates dropped (first one kept); none empty or over 100 characters."""
    if not is_list(tags):
        return (), [Problem(field, f"must be a list of text, not {type(tags).__name__}")]
    too_many = count_problem(len(tags), MAX_TAGS, "tags")
    if too_many is not None:
        return (), [Problem(field, too_many)]
    problems: list[Problem] = []
    kept: dict[str, None] = {}
    for index, tag in enumerate(tags):
        problem = text_problem(tag, required=True)
        if problem is None and len(tag.strip()) > TAG_MAX:
            problem = f"is {len(tag.strip()):,} characters long; the limit is {TAG_MAX}"
        if problem is None:
            problem = name_problem(tag.strip())
        if problem is not None:
            problems.append(Problem(f"{field}[{index}]", problem))
        else:
            kept.setdefault(tag.strip(), None)
    return tuple(kept), problems


def check_enum(value: Any, enum_type: type[enum.StrEnum], *, label: str) -> str | None:
    if isinstance(value, enum_type):
        return None
    allowed = ", ".join(member.value for member in enum_type)
    return f"unknown {label} {quoted(value)}; use one of {allowed}"


def check_locale(locale: Any) -> list[Problem]:
    problem = text_problem(locale, required=True)
    if problem is None and not LOCALE_PATTERN.fullmatch(locale):
        problem = f"{quoted(locale)} is not a locale tag like 'en', 'pt-BR' or 'zh-Hant-TW'"
    return [] if problem is None else [Problem("locale", problem)]


def check_expectation(spec: Any, turn: int, index: int) -> list[Problem]:
    """The fields `spec.type` needs are there and sound, and no others are set."""

    def problem(field: str, message: str) -> Problem:
        return Problem(field, message, turn=turn, expectation=index)

    if not isinstance(spec, ExpectationSpec):
        hint = "use must_contain(...), regex(...) and the like"
        return [problem("expectation", f"is a {type(spec).__name__}, not an expectation; {hint}")]
    kind = spec.type
    if not isinstance(kind, ExpectationType):
        return [problem("type", str(check_enum(kind, ExpectationType, label="expectation type")))]
    problems: list[Problem] = []
    if kind in _TAKES_VALUE:
        text = text_problem(spec.value, required=True)
        if text in ("is required", "is empty"):
            problems.append(problem("value", f"{kind.value} needs a value"))
        elif text is not None:
            problems.append(problem("value", text))
        elif kind is ExpectationType.REGEX:
            problems.extend(problem("value", m) for m in regex_problems(str(spec.value)))
    elif spec.value is not None:
        problems.append(problem("value", f"{kind.value} takes `values`, not `value`"))
    problems.extend(problem(f, m) for f, m in values_problems(spec))
    if not isinstance(spec.case_sensitive, bool):
        problems.append(problem("case_sensitive", "must be True or False"))
    problems.extend(problem("threshold", m) for m in threshold_problems(spec))
    return problems


def values_problems(spec: ExpectationSpec) -> list[tuple[str, str]]:
    if spec.type is not ExpectationType.MUST_CONTAIN_ANY:
        return [("values", f"{spec.type} takes `value`, not `values`")] if spec.values else []
    values = spec.values
    if not is_list(values):
        return [("values", f"must be a list of text, not {type(values).__name__}")]
    if not values:
        return [("values", "MUST_CONTAIN_ANY needs at least one value")]
    too_many = count_problem(len(values), MAX_EXPECTATIONS_PER_TURN, "values")
    if too_many is not None:
        return [("values", too_many)]
    found = []
    for index, value in enumerate(values):
        text = text_problem(value, required=True)
        if text is not None:
            found.append((f"values[{index}]", text))
    return found


def threshold_problems(spec: ExpectationSpec) -> list[str]:
    threshold = spec.threshold
    if threshold is None:
        return []
    if spec.type is not ExpectationType.SEMANTIC_ASSERT:
        return [f"only SEMANTIC_ASSERT takes a threshold, not {spec.type}"]
    if isinstance(threshold, bool) or not isinstance(threshold, int | float):
        return [f"must be a number between 0 and 1, not {type(threshold).__name__}"]
    if math.isnan(threshold) or not 0 <= threshold <= 1:
        return [f"must be between 0 and 1, got {threshold}"]
    return []


def check_turn(turn: Any, index: int, seen_user: bool) -> list[Problem]:
    if not isinstance(turn, TurnSpec):
        hint = f"is a {type(turn).__name__}, not a turn; use user(...) or expect(...)"
        return [Problem("turn", hint, turn=index)]
    if not isinstance(turn.type, ScenarioTurnType):
        message = check_enum(turn.type, ScenarioTurnType, label="turn type")
        return [Problem("type", str(message), turn=index)]
    if turn.type is ScenarioTurnType.USER:
        problems = []
        text = text_problem(turn.text, required=True)
        if text is not None:
            message = "a USER turn needs text" if text in ("is required", "is empty") else text
            problems.append(Problem("text", message, turn=index))
        if turn.expectations:
            problems.append(Problem("expectations", "a USER turn has no expectations", turn=index))
        return problems
    problems = []
    if not seen_user:
        message = "an EXPECT turn must come after a USER turn (there is no reply to check yet)"
        problems.append(Problem("turn", message, turn=index))
    if turn.text is not None:
        problems.append(Problem("text", "an EXPECT turn has no text", turn=index))
    if not turn.expectations and not turn.tool_checks:
        message = "an EXPECT turn needs at least one expectation"
        problems.append(Problem("expectations", message, turn=index))
    too_many = count_problem(len(turn.expectations), MAX_EXPECTATIONS_PER_TURN, "expectations")
    if too_many is not None:
        return [*problems, Problem("expectations", too_many, turn=index)]
    for position, spec in enumerate(turn.expectations):
        if spec is not REPORTED:
            problems.extend(check_expectation(spec, index, position))
    return problems


def check_turns(turns: Any) -> list[Problem]:
    if not is_list(turns):
        return [Problem("turns", f"must be a list of turns, not {type(turns).__name__}")]
    too_many = count_problem(len(turns), MAX_TURNS, "turns")
    if too_many is not None:
        return [Problem("turns", too_many)]
    problems: list[Problem] = []
    seen_user = False
    for index, turn in enumerate(turns):
        if turn is REPORTED:
            continue
        problems.extend(check_turn(turn, index, seen_user))
        seen_user = seen_user or (isinstance(turn, TurnSpec) and turn.type is ScenarioTurnType.USER)
    return problems


def check_status(status: Any) -> list[Problem]:
    message = check_enum(status, ScenarioStatus, label="status")
    return [] if message is None else [Problem("status", message)]


def check_description(description: Any) -> list[Problem]:
    problem = text_problem(description, required=False)
    return [] if problem is None else [Problem("description", problem)]


def check_scenario(spec: ScenarioCreate) -> tuple[ScenarioCreate, list[Problem]]:
    """Every problem with `spec`, and its normalised form (valid only if there are none)."""
    name, problems = check_name(spec.name)
    problems += check_description(spec.description)
    problems += check_locale(spec.locale)
    problems += check_status(spec.status)
    tags, tag_problems = check_tags(spec.tags)
    problems += tag_problems
    problems += check_turns(spec.turns)
    problems += check_tools_of(spec.tools, spec.turns)
    problems += check_simulation(spec.turns)
    if not problems:
        problems += check_total_text(spec)
    return replace(spec, name=name, tags=tags), problems


def check_tools_of(tools: Any, turns: Any) -> list[Problem]:
    """The tools' problems, then the tool checks'. A check may name a tool the scenario does not
    define (a run may offer it: `wb.runs.start(tools=...)` checks every name at start)."""
    problems = check_tools(tools)
    if not is_list(turns):
        return problems
    return problems + check_tool_checks(turns, None)


def check_simulation(turns: Any) -> list[Problem]:
    """Simulated blocks and conversation criteria (issue 21), each problem at its turn; a
    block's each_reply expectations are checked as any expectation."""
    found = simulation_problems(turns)
    problems = [Problem(field, message, turn=turn) for turn, field, message in found]
    for index, turn in enumerate(turns if is_list(turns) else ()):
        block = turn.simulated if isinstance(turn, TurnSpec) else None
        for k, check in enumerate(block.each_reply if block is not None else ()):
            for problem in check_expectation(check, index, k):
                where = f"each_reply[{k}].{problem.field}"
                problems.append(Problem(where, problem.message, turn=index))
    return problems


def check_total_text(spec: ScenarioCreate) -> list[Problem]:
    """All of a scenario's text together within `MAX_SCENARIO_TEXT` (after each field's check)."""
    total = len(spec.description or "") + sum(
        len(turn.text or "")
        + sum(len(e.value or "") + sum(map(len, e.values or ())) for e in turn.expectations)
        for turn in spec.turns
    )
    problem = count_problem(total, MAX_SCENARIO_TEXT, "characters of text in all")
    return [] if problem is None else [Problem("turns", problem)]


def validate_scenario(spec: ScenarioCreate) -> ScenarioCreate:
    """`spec` normalised, or a `ValidationError` listing every problem with its position."""
    if not isinstance(spec, ScenarioCreate):
        raise ValidationError(f"Expected a ScenarioCreate, got {type(spec).__name__}.")
    normalised, problems = check_scenario(spec)
    raise_if_any(problems, f"Scenario {quoted(spec.name)}")
    return normalised


def validate_update(changes: ScenarioUpdate) -> ScenarioUpdate:
    """The fields `changes` sets, each checked as on create; the rest stay `UNSET`."""
    if not isinstance(changes, ScenarioUpdate):
        raise ValidationError(f"Expected a ScenarioUpdate, got {type(changes).__name__}.")
    problems: list[Problem] = []
    normalised = changes
    if changes.name is not UNSET:
        name, found = check_name(changes.name)
        normalised, problems = replace(normalised, name=name), problems + found
    if changes.description is not UNSET:
        problems += check_description(changes.description)
    if changes.locale is not UNSET:
        problems += check_locale(changes.locale)
    if changes.status is not UNSET:
        problems += check_status(changes.status)
    if changes.tags is not UNSET:
        tags, found = check_tags(changes.tags)
        normalised, problems = replace(normalised, tags=tags), problems + found
    if changes.tools is not UNSET:
        problems += check_tools(changes.tools)
    if changes.turns is not UNSET:
        problems += check_tool_checks(changes.turns, None) if is_list(changes.turns) else []
        problems += check_simulation(changes.turns)
        found = check_turns(changes.turns)
        if not found:
            found = check_total_text(ScenarioCreate(name="", turns=changes.turns))
        problems += found
    raise_if_any(problems, "The scenario")
    return normalised
