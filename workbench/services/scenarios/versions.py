"""Version snapshots (the JSON kept in `"ScenarioVersion".snapshot`) and the diff between two.

A snapshot mirrors what Prisma returns for a scenario with its turns and expectations, without
ids or timestamps, so the web app can read it as naturally as the workbench does:

    {"name": "Greeting", "description": null, "locale": "en", "status": "DRAFT",
     "tags": ["smoke"],
     "turns": [{"orderIndex": 0, "turnType": "USER", "userText": "Hi", "expectations": []},
               {"orderIndex": 1, "turnType": "EXPECT", "userText": null, "expectations": [
                   {"orderIndex": 0, "type": "MUST_CONTAIN", "value": "hello", "values": [],
                    "caseSensitive": false, "threshold": null}]}]}
"""

from __future__ import annotations

import difflib
from collections.abc import Sequence
from typing import Any

from workbench.db.enums import ExpectationType, ScenarioStatus, ScenarioTurnType
from workbench.errors import ValidationError
from workbench.services.common import coerce_enum
from workbench.services.scenarios.tools import ToolSpec, canonical, tool_document
from workbench.services.scenarios.types import (
    ExpectationSpec,
    ScenarioChange,
    ScenarioCreate,
    TurnSpec,
)


def snapshot_of(spec: ScenarioCreate) -> dict[str, Any]:
    """The JSON snapshot of a scenario's whole content."""
    return {
        "name": spec.name,
        "description": spec.description,
        "locale": spec.locale,
        "status": str(spec.status),
        "tags": list(spec.tags),
        "turns": [
            {
                "orderIndex": index,
                "turnType": str(turn.type),
                "userText": turn.text,
                "expectations": [
                    {
                        "orderIndex": position,
                        "type": str(spec.type),
                        "value": spec.value,
                        "values": list(spec.values),
                        "caseSensitive": spec.case_sensitive,
                        "threshold": spec.threshold,
                    }
                    for position, spec in enumerate(turn.expectations)
                ],
            }
            for index, turn in enumerate(spec.turns)
        ],
    }


def content_of(snapshot: Any, *, version: int) -> ScenarioCreate:
    """A snapshot read back as a `ScenarioCreate`; tolerant of keys the web app may leave out."""
    try:
        turns = tuple(
            TurnSpec(
                coerce_enum(ScenarioTurnType, turn.get("turnType")),
                turn.get("userText"),
                tuple(
                    ExpectationSpec(
                        coerce_enum(ExpectationType, item.get("type")),
                        item.get("value"),
                        tuple(item.get("values") or ()),
                        bool(item.get("caseSensitive", False)),
                        item.get("threshold"),
                    )
                    for item in sorted(turn.get("expectations") or (), key=_order)
                ),
            )
            for turn in sorted(snapshot.get("turns") or (), key=_order)
        )
        return ScenarioCreate(
            name=snapshot["name"],
            description=snapshot.get("description"),
            locale=snapshot.get("locale", "en"),
            status=coerce_enum(ScenarioStatus, snapshot.get("status", "DRAFT")),
            tags=tuple(snapshot.get("tags") or ()),
            turns=turns,
        )
    except (AttributeError, KeyError, TypeError) as error:
        raise ValidationError(
            f"The snapshot of version {version} cannot be read ({error!r}); it was not written "
            "in the format the workbench expects."
        ) from None


def _order(item: Any) -> int:
    index = item.get("orderIndex", 0)
    return index if isinstance(index, int) else 0


def describe_expectation(spec: ExpectationSpec) -> str:
    """`MUST_CONTAIN 'hello'`, `MUST_CONTAIN_ANY ['hi', 'hello']`, `SEMANTIC_ASSERT '...' ≥ 0.7`."""
    what = (
        repr(list(spec.values))
        if spec.type is ExpectationType.MUST_CONTAIN_ANY
        else repr(spec.value)
    )
    extra = " (case-sensitive)" if spec.case_sensitive else ""
    if spec.threshold is not None:
        extra += f" ≥ {spec.threshold}"
    return f"{spec.type} {what}{extra}"


def describe_turn(turn: TurnSpec) -> str:
    """`USER 'Hi'` or `EXPECT [MUST_CONTAIN 'hello', REGEX '\\d+']`."""
    if turn.type is ScenarioTurnType.USER:
        return f"USER {turn.text!r}"
    checks = [describe_expectation(e) for e in turn.expectations]
    checks += [check.describe() for check in turn.tool_checks]
    return "EXPECT [" + ", ".join(checks) + "]"


def diff_contents(before: ScenarioCreate, after: ScenarioCreate) -> tuple[ScenarioChange, ...]:
    """Field changes first, then turns added, removed or changed (positions counted from 1)."""
    changes: list[ScenarioChange] = []
    for field in ("name", "description", "locale", "status"):
        old, new = getattr(before, field), getattr(after, field)
        if old != new:
            changes.append(ScenarioChange(field, "changed", _show(old), _show(new)))
    changes.extend(_tag_changes(before.tags, after.tags))
    changes.extend(_turn_changes(before.turns, after.turns))
    changes.extend(_tool_changes(before.tools, after.tools))
    return tuple(changes)


def _tool_changes(old: Sequence[ToolSpec], new: Sequence[ToolSpec]) -> list[ScenarioChange]:
    """Tools added, removed or changed (by name)."""
    before = {spec.name: spec for spec in old}
    after = {spec.name: spec for spec in new}
    changes = []
    for name, spec in after.items():
        if name not in before:
            changes.append(ScenarioChange(f"tool {name!r}", "added", after=spec.description))
        elif before[name] != spec:
            old_text, new_text = (canonical(tool_document(t))[:200] for t in (before[name], spec))
            changes.append(ScenarioChange(f"tool {name!r}", "changed", old_text, new_text))
    changes += [
        ScenarioChange(f"tool {name!r}", "removed", before=spec.description)
        for name, spec in before.items()
        if name not in after
    ]
    return changes


def _show(value: Any) -> str:
    return repr(value.value if isinstance(value, ScenarioStatus) else value)


def _tag_changes(old: Sequence[str], new: Sequence[str]) -> list[ScenarioChange]:
    changes = [
        ScenarioChange(f"tag {tag!r}", "added", after=repr(tag)) for tag in new if tag not in old
    ]
    changes += [
        ScenarioChange(f"tag {tag!r}", "removed", before=repr(tag)) for tag in old if tag not in new
    ]
    if not changes and list(old) != list(new):
        changes.append(ScenarioChange("tags", "changed", repr(list(old)), repr(list(new))))
    return changes


def _turn_changes(old: Sequence[TurnSpec], new: Sequence[TurnSpec]) -> list[ScenarioChange]:
    """Align the two turn lists (difflib) so an insertion reads as one added turn, not a cascade."""
    changes: list[ScenarioChange] = []
    matcher = difflib.SequenceMatcher(a=list(old), b=list(new), autojunk=False)
    for tag, i1, i2, j1, j2 in matcher.get_opcodes():
        if tag == "equal":
            continue
        paired = min(i2 - i1, j2 - j1) if tag == "replace" else 0
        for k in range(paired):
            before, after = describe_turn(old[i1 + k]), describe_turn(new[j1 + k])
            changes.append(ScenarioChange(f"turn {j1 + k + 1}", "changed", before, after))
        for k in range(i1 + paired, i2):
            changes.append(ScenarioChange(f"turn {k + 1}", "removed", before=describe_turn(old[k])))
        for k in range(j1 + paired, j2):
            changes.append(ScenarioChange(f"turn {k + 1}", "added", after=describe_turn(new[k])))
    return changes
