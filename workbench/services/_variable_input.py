"""Reading `set_many`'s input, a dict or a DataFrame, into checked rows, or every problem."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from workbench.errors import quoted
from workbench.services._fields import key_problems, raise_problems, text_problems

FRAME_COLUMNS = ("key", "value", "description")
# Columns `variables_frame` adds: accepted and ignored, so a frame can be edited and sent back.
FRAME_EXTRA_COLUMNS = ("id", "created_at", "updated_at")

ACTION = "Cannot set the variables (nothing was written)"


@dataclass(frozen=True)
class VariableInput:
    key: str
    value: str
    description: str | None


def variable_inputs(data: object) -> tuple[list[VariableInput], bool]:
    """Checked rows, and whether they carry descriptions (only a frame with that column does)."""
    if isinstance(data, Mapping):
        return from_mapping(data), False
    return from_frame(data)


def from_mapping(data: Mapping[Any, Any]) -> list[VariableInput]:
    rows: list[VariableInput] = []
    problems: list[str] = []
    for key, value in data.items():
        found = key_problems(key) + text_problems(value, f"value of {quoted(key)}")
        problems += found
        if not found:
            rows.append(VariableInput(key, value, None))
    raise_problems(ACTION, problems)
    return rows


def is_missing(value: object) -> bool:
    """A null cell: None, NaN, pd.NA or NaT (checked without calling pandas on a list)."""
    if value is None or (isinstance(value, float) and value != value):
        return True
    return type(value).__name__ in {"NAType", "NaTType"}


def frame_problems(data: Any) -> list[str]:
    import pandas as pd

    if not isinstance(data, pd.DataFrame):
        return [
            "set_many takes a dict {key: value} or a DataFrame with columns key and value "
            f"(and optionally description), not {type(data).__name__}"
        ]
    columns = [str(column) for column in data.columns]
    problems = [
        f"the frame has no {quoted(name)} column"
        for name in ("key", "value")
        if name not in columns
    ]
    unknown = [c for c in columns if c not in FRAME_COLUMNS + FRAME_EXTRA_COLUMNS]
    if unknown:
        problems.append(
            f"unknown column(s) {', '.join(map(repr, unknown))}; expected key, value, description"
        )
    if len(set(columns)) != len(columns):
        problems.append("the frame has two columns with the same name")
    return problems


def from_frame(data: Any) -> tuple[list[VariableInput], bool]:
    raise_problems(ACTION, frame_problems(data))
    with_descriptions = "description" in [str(column) for column in data.columns]
    descriptions = data["description"] if with_descriptions else [None] * len(data)
    rows: list[VariableInput] = []
    problems: list[str] = []
    first_row: dict[str, object] = {}
    for label, key, value, description in zip(
        data.index, data["key"], data["value"], descriptions, strict=True
    ):
        where = f"row {label}"
        found = (
            [f"{where}: key is missing"] if is_missing(key) else key_problems(key, f"{where}: key")
        )
        if is_missing(value):
            found.append(f"{where}: value is missing")
        else:
            found += text_problems(value, f"{where}: value")
        description = None if is_missing(description) else description
        found += text_problems(description, f"{where}: description", optional=True)
        if not found and key in first_row:
            found.append(f"{where}: key {quoted(key)} is already set at row {first_row[key]}")
        problems += found
        if not found:
            first_row[key] = label
            rows.append(VariableInput(str(key), str(value), description))
    raise_problems(ACTION, problems)
    return rows, with_descriptions
