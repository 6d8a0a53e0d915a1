"""A run on `workbench.offline(rules)` with SEMANTIC_ASSERT and no `judge=`: the target judges
with its documented `judge_score`, as the first hour's tutorial does."""

from __future__ import annotations

import workbench
from tests.runs.conftest import make_setup
from workbench.handle import Workbench
from workbench.services.scenarios.types import expect, must_contain, semantic, user


def test_semantic_asserts_are_judged_by_the_offline_targets_score(wb: Workbench) -> None:
    made = make_setup(
        wb,
        {
            "Refunds": [
                user("Can I get a refund?"),
                expect(must_contain("30 days"), semantic("the reply states the refund window")),
            ]
        },
    )
    rules = {"refund": "Refunds are possible within 30 days."}
    for score, status in ((1.0, "PASSED"), (0.3, "FAILED")):
        target = (
            workbench.offline(rules)
            if score == 1.0
            else workbench.offline(rules, judge_score=score)
        )
        run = wb.runs.start(
            suite=made.suite_id, prompt=made.prompt_id, target=target, progress=False, repeats=2
        ).wait(60)
        frame = run.frame()
        judged = frame[frame["type"] == "SEMANTIC_ASSERT"]
        assert list(judged["status"]) == [status, status]
        assert [detail["score"] for detail in judged["detail"]] == [score, score]
        assert set(frame[frame["type"] == "MUST_CONTAIN"]["status"]) == {"PASSED"}
