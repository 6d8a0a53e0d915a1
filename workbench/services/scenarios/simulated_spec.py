"""The spec of a simulated block (issue 21), apart so `types.TurnSpec` can hold one without
importing the constructors and documents of `simulated.py` (which import `types`)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class SimulatedSpec:
    """A simulated block: a model plays the user toward `goal` for min..max of its own turns;
    `each_reply` expectations are checked on every assistant reply inside the block."""

    goal: str
    persona: str = ""
    min_turns: int = 1
    max_turns: int = 6
    each_reply: tuple[Any, ...] = ()

    def __post_init__(self) -> None:
        if isinstance(self.each_reply, list):
            object.__setattr__(self, "each_reply", tuple(self.each_reply))
