"""One problem with a scenario, and what stored text may be: shared by validation.py and
tool_validation.py (which validation.py uses, so neither imports the other's caller)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from workbench.services._fields import storage_problem
from workbench.services.limits import MAX_PATTERN_LENGTH, length_problem


@dataclass(frozen=True)
class Problem:
    """One thing wrong with a scenario. `turn` and `expectation` are 0-based indexes."""

    field: str
    message: str
    turn: int | None = None
    expectation: int | None = None

    def describe(self) -> str:
        """For people: "turn 3, expectation 2, value: ..." (positions counted from 1)."""
        parts = []
        if self.turn is not None:
            parts.append(f"turn {self.turn + 1}")
        if self.expectation is not None:
            parts.append(f"expectation {self.expectation + 1}")
        parts.append(self.field)
        return f"{', '.join(parts)}: {self.message}"

    def at(self, prefix: str) -> str:
        """For documents: "scenarios[3].turns[2].expectations[1].value: ..." (0-based)."""
        path = prefix
        if self.turn is not None:
            path += f".turns[{self.turn}]"
        if self.expectation is not None:
            path += f".expectations[{self.expectation}]"
        if self.field and not (self.field == "turn" or self.field == "expectation"):
            path += f".{self.field}" if path else self.field
        return f"{path}: {self.message}"


def text_problem(value: Any, *, required: bool) -> str | None:
    """What is wrong with `value` as stored text, or None."""
    if value is None:
        return "is required" if required else None
    if not isinstance(value, str):
        return f"must be text, not {type(value).__name__}"
    problem = storage_problem(value) or length_problem(value)
    if problem is not None:
        return problem
    if required and not value.strip():
        return "is empty"
    return None


def regex_problems(pattern: str) -> list[str]:
    too_long = length_problem(pattern, MAX_PATTERN_LENGTH)
    if too_long is not None:  # before compiling: a 1 MB pattern took 7 s to compile
        return [f"the REGEX pattern {too_long}"]
    try:
        re.compile(pattern)
    except re.error as error:
        return [f"REGEX does not compile: {error}"]
    return []
