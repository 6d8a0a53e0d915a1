"""The result of one check: PASSED, FAILED or ERROR (or INCONCLUSIVE, a conversation
criterion's own verdict: runs/conversation_judge.py), with a JSON-safe, bounded detail."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Literal

Status = Literal["PASSED", "FAILED", "ERROR", "INCONCLUSIVE"]
PASSED: Status = "PASSED"
FAILED: Status = "FAILED"
ERROR: Status = "ERROR"

SHOWN = 200  # characters of a value, pattern or excerpt kept in a detail


@dataclass(frozen=True, slots=True)
class Outcome:
    status: Status
    detail: dict[str, Any] = field(default_factory=dict)

    @property
    def passed(self) -> bool:
        return self.status == PASSED


Check = Callable[[str], Outcome]


def clip(text: str, limit: int = SHOWN) -> str:
    """`text` cut to `limit` characters, marked when cut."""
    return text if len(text) <= limit else text[:limit] + "…"


def excerpt(text: str, start: int, end: int, around: int = 40) -> str:
    """The matched span with a little context, bounded whatever the reply's size."""
    left = max(0, start - around)
    return clip(text[left : min(len(text), end + around)], SHOWN)
