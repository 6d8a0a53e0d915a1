"""Column specs and the typed DataFrame builder behind every frame; pure, below the services.

A spec maps column name → dtype (or an enum, for a `category` with every member of the enum as a
category, in its order). The services' `.frame()` methods and the views in `workbench.frames`
build their DataFrames here; see `workbench.frames` for what each dtype means and how missing
values and numbering look. pandas is imported inside `typed_frame`, so importing this module
stays fast.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING, Any

from workbench.db.enums import ExpectationType, PromptStatus, ScenarioStatus, ScenarioTurnType

if TYPE_CHECKING:
    import pandas as pd

DATETIME = "datetime64[ns, UTC]"
JSON = "json"
"""A column of JSON values (dicts, lists, None), each kept exactly as it is."""

# The 36-character ids come last: they would push what you read off the screen.
SCENARIO_COLUMNS = {
    "name": "string",
    "description": "string",
    "locale": "string",
    "status": ScenarioStatus,
    "version": "Int64",
    "tags": "object",
    "turn_count": "Int64",
    "expectation_count": "Int64",
    "created_at": DATETIME,
    "updated_at": DATETIME,
    "id": "string",
}
SUITE_COLUMNS = {
    "position": "Int64",
    "name": "string",
    "status": ScenarioStatus,
    "version": "Int64",
    "turn_count": "Int64",
    "expectation_count": "Int64",
    "scenario_id": "string",
}
TURN_COLUMNS = {
    "turn": "Int64",
    "turn_type": ScenarioTurnType,
    "user_text": "string",
    "expectation": "Int64",
    "expectation_type": ExpectationType,
    "value": "string",
    "values": "object",
    "case_sensitive": "boolean",
    "threshold": "Float64",
}
PROMPT_COLUMNS = {
    "name": "string",
    "description": "string",
    "status": PromptStatus,
    "tags": "object",
    "placeholders": "object",
    "content": "string",
    "created_at": DATETIME,
    "updated_at": DATETIME,
    "id": "string",
}
VARIABLE_COLUMNS = {
    "key": "string",
    "value": "string",
    "description": "string",
    "created_at": DATETIME,
    "updated_at": DATETIME,
}

# What a frame of a list shows unless told otherwise: every match, without counting them.
ALL_ROWS = {"limit": None, "count_total": False}


def typed_frame(records: Iterable[Mapping[str, Any]], columns: Mapping[str, Any]) -> pd.DataFrame:
    """A DataFrame of `records` with exactly `columns` (name → dtype, or an enum for a category)."""
    import pandas as pd

    rows = list(records)
    data: dict[str, pd.Series[Any]] = {}
    for name, dtype in columns.items():
        values = [row[name] for row in rows]
        if isinstance(dtype, type) and issubclass(dtype, enum.Enum):
            categories = [member.value for member in dtype]
            values = [None if value is None else dtype(value).value for value in values]
            dtype = pd.CategoricalDtype(categories=categories)
        elif dtype == JSON:
            dtype = "object"
        elif dtype == "object":
            # Lists: an empty list where there is none, so every cell is a list.
            values = [[] if value is None else list(value) for value in values]
        data[name] = pd.Series(values, dtype=dtype, name=name)
    return pd.DataFrame(data, columns=list(columns))


def turn_records(turns: Iterable[Any]) -> list[dict[str, Any]]:
    """`TURN_COLUMNS` records of a scenario's turns: one per expectation, one per bare turn."""
    empty = dict.fromkeys(("expectation", "expectation_type", "value", "values"))
    empty |= {"case_sensitive": None, "threshold": None}
    records: list[dict[str, Any]] = []
    # Numbered from 1, as validation messages and diffs say them ("turn 3, expectation 2").
    for index, turn in enumerate(turns, start=1):
        base = {"turn": index, "turn_type": turn.type, "user_text": turn.text}
        if not turn.expectations:
            records.append(base | empty)
        for position, spec in enumerate(turn.expectations, start=1):
            records.append(
                base
                | {
                    "expectation": position,
                    "expectation_type": spec.type,
                    "value": spec.value,
                    "values": spec.values,
                    "case_sensitive": spec.case_sensitive,
                    "threshold": spec.threshold,
                }
            )
    return records


def suite_records(items: Iterable[Any]) -> list[dict[str, Any]]:
    """`SUITE_COLUMNS` records of a suite's items (their positions count from 1, like turns)."""
    return [vars(item) for item in items]
