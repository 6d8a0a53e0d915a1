"""What goes into and comes out of the scenario service: plain frozen dataclasses, no ORM rows.

A scenario is an ordered list of turns: USER turns carry the user's message, EXPECT turns carry
the rules the assistant's reply must satisfy. The small constructors below are how a notebook
writes one:

>>> from workbench import ScenarioCreate, user, expect, must_contain, regex
>>> spec = ScenarioCreate(
...     name="Greeting",
...     turns=[user("Hi, I'm Ada"), expect(must_contain("Ada"), regex(r"\\bhello\\b"))],
... )
>>> spec.turns[1].expectations[0].type
<ExpectationType.MUST_CONTAIN: 'MUST_CONTAIN'>

Enum fields accept their names as strings ("published", "MUST_CONTAIN"); a name that is not a
member is kept as given and reported by validation, together with every other problem.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any, Final

from workbench.db.enums import ExpectationType, ScenarioStatus, ScenarioTurnType
from workbench.services.common import UNSET, Unset, coerce_enum, is_list
from workbench.services.scenarios.simulated_spec import SimulatedSpec
from workbench.services.scenarios.tools import ToolCheckSpec, ToolSpec

DEFAULT_SEMANTIC_THRESHOLD: Final = 0.7


def _as_tuple(value: Any) -> Any:
    """Lists (and other non-text sequences) become tuples so specs stay immutable and hashable."""
    if type(value) is tuple:
        return value
    return tuple(value) if is_list(value) else value


@dataclass(frozen=True)
class ExpectationSpec:
    """One rule an EXPECT turn checks against the assistant's reply.

    `value` is the text (MUST_CONTAIN, MUST_NOT_CONTAIN), the pattern (REGEX) or the statement
    (SEMANTIC_ASSERT); `values` are MUST_CONTAIN_ANY's alternatives; `threshold` is the judge's
    minimum score for SEMANTIC_ASSERT, 0..1.
    """

    type: ExpectationType | str
    value: str | None = None
    values: tuple[str, ...] = ()
    case_sensitive: bool = False
    threshold: float | None = None

    def __post_init__(self) -> None:
        object.__setattr__(self, "type", coerce_enum(ExpectationType, self.type))
        object.__setattr__(self, "values", _as_tuple(self.values))


@dataclass(frozen=True)
class TurnSpec:
    """One turn: USER with its `text`, or EXPECT with its `expectations` and `tool_checks`
    (checks on the tool calls made during the turn, kept in the workbench schema)."""

    type: ScenarioTurnType | str
    text: str | None = None
    expectations: tuple[ExpectationSpec, ...] = ()
    tool_checks: tuple[ToolCheckSpec, ...] = ()
    simulated: SimulatedSpec | None = None
    """A USER turn played by a simulated user (`simulated_user(...)`, issue 21)."""
    conversation_judge: bool = False
    """An EXPECT turn whose SEMANTIC_ASSERT values are criteria judged on the whole
    conversation (`judge_conversation(...)`)."""

    def __post_init__(self) -> None:
        object.__setattr__(self, "type", coerce_enum(ScenarioTurnType, self.type))
        object.__setattr__(self, "expectations", _as_tuple(self.expectations))
        object.__setattr__(self, "tool_checks", _as_tuple(self.tool_checks))


def user(text: str) -> TurnSpec:
    """A USER turn: `user("Where is my order?")`."""
    return TurnSpec(ScenarioTurnType.USER, text=text)


def expect(*checks: ExpectationSpec | ToolCheckSpec) -> TurnSpec:
    """An EXPECT turn: `expect(must_contain("order"), called("lookup_order"))`.

    Text checks and tool checks may be mixed; tool checks are numbered after the text checks."""
    tool_checks = tuple(check for check in checks if isinstance(check, ToolCheckSpec))
    expectations = tuple(check for check in checks if not isinstance(check, ToolCheckSpec))
    return TurnSpec(ScenarioTurnType.EXPECT, expectations=expectations, tool_checks=tool_checks)


def must_contain(value: str, *, case_sensitive: bool = False) -> ExpectationSpec:
    """The reply contains `value`: `must_contain("refund")`."""
    return ExpectationSpec(ExpectationType.MUST_CONTAIN, value=value, case_sensitive=case_sensitive)


def must_contain_any(*values: str, case_sensitive: bool = False) -> ExpectationSpec:
    """The reply contains at least one of `values`: `must_contain_any("hi", "hello")`."""
    return ExpectationSpec(
        ExpectationType.MUST_CONTAIN_ANY, values=values, case_sensitive=case_sensitive
    )


def must_not_contain(value: str, *, case_sensitive: bool = False) -> ExpectationSpec:
    """The reply does not contain `value`: `must_not_contain("as an AI")`."""
    return ExpectationSpec(
        ExpectationType.MUST_NOT_CONTAIN, value=value, case_sensitive=case_sensitive
    )


def regex(pattern: str, *, case_sensitive: bool = False) -> ExpectationSpec:
    """The reply matches `pattern` (Python `re` syntax): `regex(r"order #\\d+")`.

    Patterns are checked with Python's `re`; the web app may run them as JavaScript `RegExp`,
    so keep to the syntax both share if a scenario is run from both.
    """
    return ExpectationSpec(ExpectationType.REGEX, value=pattern, case_sensitive=case_sensitive)


def semantic(statement: str, *, threshold: float = DEFAULT_SEMANTIC_THRESHOLD) -> ExpectationSpec:
    """A judge model agrees the reply satisfies `statement`: `semantic("It apologises")`."""
    return ExpectationSpec(ExpectationType.SEMANTIC_ASSERT, value=statement, threshold=threshold)


@dataclass(frozen=True)
class ScenarioCreate:
    """A new scenario. Names are unique per user, at most 200 characters."""

    name: str
    description: str | None = None
    locale: str = "en"
    status: ScenarioStatus | str = ScenarioStatus.DRAFT
    tags: tuple[str, ...] = ()
    turns: tuple[TurnSpec, ...] = ()
    tools: tuple[ToolSpec, ...] = ()

    def __post_init__(self) -> None:
        object.__setattr__(self, "status", coerce_enum(ScenarioStatus, self.status))
        object.__setattr__(self, "tags", _as_tuple(self.tags))
        object.__setattr__(self, "turns", _as_tuple(self.turns))
        object.__setattr__(self, "tools", _as_tuple(self.tools))


@dataclass(frozen=True)
class ScenarioUpdate:
    """Changes to a scenario; fields left `UNSET` keep their value. `turns` replaces all turns.

    `description=None` clears the description.
    """

    name: str | Unset = UNSET
    description: str | Unset | None = UNSET
    locale: str | Unset = UNSET
    status: ScenarioStatus | str | Unset = UNSET
    tags: tuple[str, ...] | Unset = UNSET
    turns: tuple[TurnSpec, ...] | Unset = UNSET
    tools: tuple[ToolSpec, ...] | Unset = UNSET

    def __post_init__(self) -> None:
        if self.status is not UNSET:
            object.__setattr__(self, "status", coerce_enum(ScenarioStatus, self.status))
        for name in ("tags", "turns", "tools"):
            if getattr(self, name) is not UNSET:
                object.__setattr__(self, name, _as_tuple(getattr(self, name)))


def count_expectations(turns: Sequence[TurnSpec]) -> int:
    return sum(len(turn.expectations) for turn in turns)


@dataclass(frozen=True)
class ScenarioView:
    """A stored scenario with its turns in order. `version` is what an update must state."""

    id: str
    name: str
    description: str | None
    locale: str
    status: ScenarioStatus
    version: int
    tags: tuple[str, ...]
    created_at: datetime
    updated_at: datetime
    turns: tuple[TurnSpec, ...]
    tools: tuple[ToolSpec, ...] = ()
    """The scenario's tools and mocks (workbench schema), as saved with this version."""
    tool_problems: tuple[str, ...] = ()
    """Tool checks that no longer fit their turn (the web app changed the turns since): they are
    attached to no turn, and a run refuses the scenario until it is saved again."""
    simulation_problems: tuple[str, ...] = ()
    """Simulated blocks or conversation criteria whose turn the web app changed since (issue
    21): attached to no turn; a run refuses the scenario until it is saved again."""

    @property
    def turn_count(self) -> int:
        return len(self.turns)

    @property
    def expectation_count(self) -> int:
        return count_expectations(self.turns)

    def to_create(self, **changes: Any) -> ScenarioCreate:
        """This scenario's content as a `ScenarioCreate`, with `changes` applied."""
        spec = ScenarioCreate(
            name=self.name,
            description=self.description,
            locale=self.locale,
            status=self.status,
            tags=self.tags,
            turns=self.turns,
            tools=self.tools,
        )
        return replace(spec, **changes)


@dataclass(frozen=True)
class ScenarioSummary:
    """One row of a scenario list: the scenario without its turns, with their counts."""

    id: str
    name: str
    description: str | None
    locale: str
    status: ScenarioStatus
    version: int
    tags: tuple[str, ...]
    created_at: datetime
    updated_at: datetime
    turn_count: int
    expectation_count: int


@dataclass(frozen=True)
class ScenarioVersionView:
    """One saved version of a scenario: the snapshot written when it was saved."""

    scenario_id: str
    version: int
    note: str | None
    created_at: datetime
    name: str
    description: str | None
    locale: str
    status: ScenarioStatus | str
    tags: tuple[str, ...]
    turns: tuple[TurnSpec, ...]
    tools: tuple[ToolSpec, ...] = ()


@dataclass(frozen=True)
class ScenarioChange:
    """One difference between two versions, in words: `str(change)` reads as a sentence."""

    where: str
    """"name", "tags", "turn 3", ..."""
    kind: str
    """"changed", "added" or "removed"."""
    before: str | None = None
    after: str | None = None

    def __str__(self) -> str:
        if self.kind == "added":
            return f"{self.where} added: {self.after}"
        if self.kind == "removed":
            return f"{self.where} removed: {self.before}"
        return f"{self.where} changed: {self.before} → {self.after}"


@dataclass(frozen=True)
class ScenarioDiff:
    """What changed from version `from_version` to `to_version`; `print(diff)` lists it."""

    scenario_id: str
    from_version: int
    to_version: int
    changes: tuple[ScenarioChange, ...]

    @property
    def is_empty(self) -> bool:
        return not self.changes

    def __str__(self) -> str:
        head = f"version {self.from_version} → {self.to_version}"
        if not self.changes:
            return f"{head}: no changes"
        return "\n".join([f"{head}:", *(f"  {change}" for change in self.changes)])


@dataclass(frozen=True)
class ImportResult:
    """What an import did: ids of what it created, by name, and what it skipped or renamed."""

    scenario_ids: dict[str, str] = field(default_factory=dict)
    """Name (as stored) → id of every scenario created."""
    suite_ids: dict[str, str] = field(default_factory=dict)
    """Name (as stored) → id of every suite created."""
    skipped_scenarios: tuple[str, ...] = ()
    """With `on_conflict="skip"`: names you already had, left as they were."""
    skipped_suites: tuple[str, ...] = ()
    renamed_scenarios: dict[str, str] = field(default_factory=dict)
    """With `on_conflict="rename"`: name in the document → name it was stored under."""
    renamed_suites: dict[str, str] = field(default_factory=dict)
