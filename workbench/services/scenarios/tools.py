"""Tools a scenario offers the assistant, their mocks, and the checks on the calls it makes.

>>> from workbench import tool, called, not_called, calls_in_order
>>> lookup = tool("lookup_order", "Look up an order by its id",
...               parameters={"type": "object", "properties": {"order_id": {"type": "string"}}},
...               returns={"status": "shipped"}, cases=[({"order_id": "A2"}, {"status": "lost"})])
>>> lookup.mock({"order_id": "A2"})
{'status': 'lost'}
>>> called("lookup_order", args={"order_id": "A1"}).describe()
"TOOL_CALLED lookup_order args={'order_id': 'A1'}"

Tool checks go into `expect(...)` next to text checks; they are kept apart from them
(`TurnSpec.tool_checks`) because the web app's expectation types cannot name them.
Values are kept as canonical JSON text inside the specs so turns stay hashable (diffs align
turns with difflib) and compare by content.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Final

from workbench.runs.evaluators.tools import (
    CASE_KEY,
    REGEX_KEY,
    TOOL_CALLED,
    TOOL_CHECK_TYPES,
    TOOL_NOT_CALLED,
    TOOL_ORDER,
    canonical,
    mock_answer,
)

__all__ = [
    "TOOL_CALLED",
    "TOOL_CHECK_TYPES",
    "TOOL_NOT_CALLED",
    "TOOL_ORDER",
    "ToolCheckSpec",
    "ToolSpec",
    "called",
    "calls_in_order",
    "canonical",
    "not_called",
    "tool",
]

NO_RESULT: Final = "__workbench_no_result__"
"""`returns` left out: a call matching no case is answered with an error result."""
NOT_JSON: Final = "\x00not json: "
"""Prefix of a check's `args_json` that is not JSON (validation reports it by field)."""


@dataclass(frozen=True)
class ToolSpec:
    """A tool offered to the assistant: its name, description, JSON Schema parameters and mock.

    The mock answers `cases` first (the first whose arguments are a subset of the call's), then
    `returns`; with neither, the call gets an error result the model can react to.
    """

    name: str
    description: str = ""
    parameters: Any = field(default_factory=lambda: {"type": "object", "properties": {}})
    returns: Any = NO_RESULT
    cases: tuple[tuple[Any, Any], ...] = ()

    def __post_init__(self) -> None:
        object.__setattr__(self, "cases", tuple(tuple(case) for case in self.cases))

    @property
    def has_returns(self) -> bool:
        return not (isinstance(self.returns, str) and self.returns == NO_RESULT)

    def mock(self, arguments: Any) -> Any:
        """The mock's answer to `arguments`; `LookupError` when no case matches and no `returns`."""
        return mock_answer(tool_document(self), arguments)

    def __hash__(self) -> int:
        return hash(canonical(tool_document(self)))

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, ToolSpec):
            return NotImplemented
        return canonical(tool_document(self)) == canonical(tool_document(other))


@dataclass(frozen=True)
class ToolCheckSpec:
    """A check on the calls made during one EXPECT turn (`called`, `not_called`, ...)."""

    type: str
    names: tuple[str, ...]
    args_json: str | None = None
    times: int | None = None
    args_schema_json: str | None = None

    @property
    def args_schema(self) -> Any:
        return None if self.args_schema_json is None else json.loads(self.args_schema_json)

    @property
    def name(self) -> str:
        return self.names[0] if self.names else ""

    @property
    def args(self) -> Any:
        return None if self.args_json is None else json.loads(self.args_json)

    def describe(self) -> str:
        if self.type == TOOL_ORDER:
            return f"{self.type} " + " → ".join(self.names)
        text = f"{self.type} {self.name}"
        if self.args_json is not None:
            text += f" args={self.args!r}"
        if self.args_schema_json is not None:
            text += f" args_schema={self.args_schema_json[:200]}"
        if self.times is not None:
            text += f" times={self.times}"
        return text


def tool(
    name: str,
    description: str = "",
    *,
    parameters: Any = None,
    returns: Any = NO_RESULT,
    cases: Sequence[tuple[Any, Any]] = (),
) -> ToolSpec:
    """A tool with a mock: `tool("lookup_order", "Look up an order", parameters={...},
    returns={"status": "shipped"}, cases=[({"order_id": "A2"}, {"status": "lost"})])`."""
    schema = {"type": "object", "properties": {}} if parameters is None else parameters
    return ToolSpec(name, description, schema, returns, tuple(cases))


def called(
    name: str, args: Any = None, times: int | None = None, *, args_schema: Any = None
) -> ToolCheckSpec:
    """The assistant called `name` during this EXPECT turn; `args`: a subset of the arguments
    (a value may be `regex(...)`); `args_schema`: a JSON Schema the arguments satisfy;
    `times`: exactly this many calls (matching both)."""
    return ToolCheckSpec(TOOL_CALLED, (name,), _args_json(args), times, _args_json(args_schema))


def not_called(name: str) -> ToolCheckSpec:
    """The assistant never called `name` during this EXPECT turn."""
    return ToolCheckSpec(TOOL_NOT_CALLED, (name,))


def calls_in_order(*names: str) -> ToolCheckSpec:
    """These calls happened in this order during the turn (others may come between)."""
    return ToolCheckSpec(TOOL_ORDER, tuple(names))


def _args_json(args: Any) -> str | None:
    if args is None:
        return None
    try:
        return canonical(_plain_args(args))
    except (TypeError, ValueError) as error:
        return NOT_JSON + str(error)[:200]


def _plain_args(value: Any) -> Any:
    """`regex(...)` values become `{"$regex": pattern}`; everything else must be JSON."""
    kind = getattr(value, "type", None)
    if str(kind) == "REGEX" and hasattr(value, "value"):
        sensitive = {CASE_KEY: True} if getattr(value, "case_sensitive", False) else {}
        return {REGEX_KEY: value.value, **sensitive}
    if isinstance(value, Mapping):
        return {key: _plain_args(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_plain_args(item) for item in value]
    return value


def tool_document(spec: ToolSpec) -> dict[str, Any]:
    """A tool as JSON (what the `tools` extension document keeps)."""
    out: dict[str, Any] = {
        "name": spec.name,
        "description": spec.description,
        "parameters": spec.parameters,
        "cases": [{"args": args, "result": result} for args, result in spec.cases],
    }
    if spec.has_returns:
        out["returns"] = spec.returns
    return out


def tool_from_document(item: Mapping[str, Any]) -> ToolSpec:
    cases = tuple((case["args"], case["result"]) for case in item.get("cases") or ())
    returns = item.get("returns", NO_RESULT)
    return ToolSpec(
        str(item["name"]), str(item.get("description") or ""), item["parameters"], returns, cases
    )


def check_document(spec: ToolCheckSpec) -> dict[str, Any]:
    out: dict[str, Any] = {"type": spec.type, "names": list(spec.names)}
    if spec.args_json is not None:
        out["args"] = json.loads(spec.args_json)
    if spec.times is not None:
        out["times"] = spec.times
    if spec.args_schema_json is not None:
        out["args_schema"] = json.loads(spec.args_schema_json)
    return out


def check_from_document(item: Mapping[str, Any]) -> ToolCheckSpec:
    args, schema = item.get("args"), item.get("args_schema")
    return ToolCheckSpec(
        str(item["type"]),
        tuple(str(name) for name in item["names"]),
        None if args is None else canonical(args),
        item.get("times"),
        None if schema is None else canonical(schema),
    )


def args_problem(spec: ToolCheckSpec) -> str | None:
    """Why a check's `args` cannot be stored, or None."""
    return _not_json(spec.args_json, "args")


def args_schema_problem(spec: ToolCheckSpec) -> str | None:
    """Why a check's `args_schema` is not a JSON Schema, or None."""
    problem = _not_json(spec.args_schema_json, "args_schema")
    if problem is not None or spec.args_schema_json is None:
        return problem
    from jsonschema import exceptions, validators  # only when such a check is saved

    schema = json.loads(spec.args_schema_json)
    if not isinstance(schema, dict):
        return "args_schema must be a JSON Schema object (a dict)"
    try:
        validators.validator_for(schema).check_schema(schema)
    except exceptions.SchemaError as error:
        return f"args_schema is not a valid JSON Schema: {error.message[:200]}"
    return None


def _not_json(text: str | None, what: str) -> str | None:
    if text is not None and text.startswith(NOT_JSON):
        return f"{what} are not JSON (" + text.removeprefix(NOT_JSON) + ")"
    return None
