"""A run to review: ten repeats of one scenario whose SEMANTIC_ASSERT the stand-in's judge
passes five times (score 0.9) and fails five times (score 0.2), at threshold 0.5."""

from __future__ import annotations

import threading
from dataclasses import dataclass
from typing import Any

import pytest

import workbench
from tests.runs.conftest import make_setup
from workbench.handle import Workbench
from workbench.services.scenarios.types import expect, must_contain, semantic, user
from workbench.testing.standin import StandIn

SCORES = [0.9] * 5 + [0.2] * 5


class ScriptedJudge(StandIn):
    """The stand-in, its judge answering `scores` in turn (then 1.0): real HTTP, real SDK.

    The stand-in reads its judge score for every request, replies too, so with one attempt
    at a time (concurrency=1: a reply, then its verdict) every other score is the judge's."""

    def __init__(self, scores: list[float], **kwargs: Any) -> None:
        interleaved = [value for score in scores for value in (1.0, score)]
        self._scores, self._lock = interleaved, threading.Lock()
        super().__init__(**kwargs)

    @property  # type: ignore[override]
    def judge_score(self) -> float:
        with self._lock:
            return self._scores.pop(0) if self._scores else 1.0

    @judge_score.setter
    def judge_score(self, value: float) -> None:
        """The base class sets it once; the script decides."""


@dataclass(frozen=True)
class Reviewed:
    wb: Workbench
    run: Any


def play(wb: Workbench) -> Any:
    made = make_setup(
        wb,
        {
            "Refunds": [
                user("Can I get a refund?"),
                expect(must_contain("refund"), semantic("It states the window", threshold=0.5)),
            ]
        },
    )
    with ScriptedJudge(SCORES, max_lifetime_s=120) as server:
        target = workbench.openai_compatible(base_url=server.openai_base_url, model="m")
        return wb.runs.start(
            suite=made.suite_id, prompt=made.prompt_id, target=target, repeats=10, concurrency=1,
            progress=False,
        ).wait(60)  # fmt: skip


@pytest.fixture
def reviewed(wb: Workbench) -> Reviewed:
    return Reviewed(wb, play(wb))
