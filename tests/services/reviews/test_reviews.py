"""wb.reviews over a real run (stand-in judge over HTTP): queues, labels with their history,
agreement with a hand-computed kappa, the threshold curve, and bad input refused whole."""

from __future__ import annotations

import pandas as pd
import pytest

from tests.services.reviews.conftest import Reviewed, play
from workbench.errors import NotFound, ValidationError
from workbench.handle import Workbench


def semantic_ids(reviewed: Reviewed) -> tuple[list[int], list[int]]:
    """(result ids the judge passed, those it failed) of the run's SEMANTIC_ASSERT."""
    frame = reviewed.wb.reviews.queue(reviewed.run, only="semantic").frame()
    passed = frame[frame["judge_outcome"] == "PASSED"]["result_id"]
    failed = frame[frame["judge_outcome"] == "FAILED"]["result_id"]
    return [int(i) for i in passed], [int(i) for i in failed]


def label_the_plan(reviewed: Reviewed) -> None:
    """Judge PASSED x5: people say pass x4, fail x1. Judge FAILED x5: pass, fail x3, unsure."""
    passed, failed = semantic_ids(reviewed)
    assert len(passed) == len(failed) == 5
    plan = [*zip(passed, ["pass"] * 4 + ["fail"], strict=True),
            *zip(failed, ["pass", "fail", "fail", "fail", "unsure"], strict=True)]  # fmt: skip
    for result_id, label in plan:
        reviewed.wb.reviews.label(result_id, label)


def test_agreement_is_the_hand_computed_kappa(reviewed: Reviewed) -> None:
    label_the_plan(reviewed)
    frame = reviewed.wb.reviews.agreement(reviewed.run)
    assert list(frame["type"]) == ["SEMANTIC_ASSERT"]  # nothing else was labelled
    row = frame.iloc[0]
    assert row["judge_prompt_version"] is not pd.NA and row["threshold"] == 0.5
    counts = [row[c] for c in ("judge_pass_human_pass", "judge_pass_human_fail",
                               "judge_fail_human_pass", "judge_fail_human_fail")]  # fmt: skip
    assert counts == [4, 1, 1, 3] and row["n"] == 9
    assert (row["unsure"], row["errored"]) == (1, 0)
    # By hand: observed 7/9; chance (5*5 + 4*4)/81 = 41/81; kappa = (63-41)/(81-41) = 0.55.
    assert row["agreement"] == pytest.approx(7 / 9)
    assert row["kappa"] == pytest.approx(0.55)
    # Cohen's (1960) large-sample standard error, by hand: sqrt(po (1 - po) / (n (1 - pe)^2))
    # = sqrt((7/9)(2/9) / (9 (40/81)^2)) = 0.2806; statsmodels' variance (Fleiss, Cohen and
    # Everitt) is close to it. The upper end, 0.55 + 0.55, is clipped to kappa's maximum.
    assert row["kappa_low"] == pytest.approx(0.55 - 1.96 * 0.2806, abs=0.01)
    assert row["kappa_high"] == 1.0
    # "pass" with people as the truth: precision 4/5, recall 4/5.
    assert (row["precision"], row["recall"], row["f1"]) == pytest.approx((0.8, 0.8, 0.8))
    pooled = reviewed.wb.reviews.agreement(reviewed.run, by="type").iloc[0]
    assert pooled["threshold"] is pd.NA and pooled["judge_prompt_version"] is pd.NA
    assert pooled["kappa"] == pytest.approx(0.55) and pooled["n"] == 9
    with pytest.raises(ValidationError, match="by must name some of"):
        reviewed.wb.reviews.agreement(reviewed.run, by=["model"])


def test_threshold_curve_finds_the_threshold_that_agrees_most(reviewed: Reviewed) -> None:
    label_the_plan(reviewed)
    curve = reviewed.wb.reviews.threshold_curve(reviewed.run)
    assert len(curve) == 21 and curve["threshold"].iloc[0] == 0 and curve["threshold"].iloc[-1] == 1
    at = curve.set_index("threshold")
    assert at.loc[0.5, "kappa"] == pytest.approx(0.55)  # the run's own threshold
    assert at.loc[0.2, "kappa"] == pytest.approx(0.0)  # every score passes: no agreement
    assert at.loc[0.95, "kappa"] == pytest.approx(0.0)  # every score fails
    # Scores are 0.9 and 0.2: every threshold in (0.2, 0.9] agrees as much; the lowest wins.
    assert curve.attrs["best_threshold"] == pytest.approx(0.25)
    assert list(curve[curve["best"]]["threshold"]) == [pytest.approx(0.25)]


def test_a_label_never_overwrites_the_judge_and_every_change_is_kept(reviewed: Reviewed) -> None:
    wb = reviewed.wb
    passed, _ = semantic_ids(reviewed)
    first = wb.reviews.label(passed[0], "pass")
    second = wb.reviews.label(passed[0], "fail", comment="misses the point")
    assert (second.label, second.comment) == ("fail", "misses the point")
    assert second.created_at == first.created_at and second.updated_at >= first.updated_at
    kept = wb.reviews.label(passed[0], "unsure")  # no comment given: the comment stays
    assert kept.comment == "misses the point"
    assert wb.reviews.label(passed[0], "fail", comment="").comment is None  # "" removes it
    history = wb.reviews.history(passed[0])
    assert list(history["label"]) == ["pass", "fail", "unsure", "fail"]
    assert list(history["comment"].fillna("-")) == [
        "-",
        "misses the point",
        "misses the point",
        "-",
    ]
    assert set(history["changed_by"]) == {wb.user.id}
    frame = reviewed.run.frame()
    row = frame[frame["result_id"] == passed[0]].iloc[0]
    assert (row["status"], row["label"]) == ("PASSED", "fail")  # the judge's verdict is kept
    assert frame["label"].isna().sum() == len(frame) - 1


def test_summary_counts_people_where_they_labelled(reviewed: Reviewed) -> None:
    label_the_plan(reviewed)
    plain = reviewed.run.summary().set_index("type")
    people = reviewed.run.summary(labels=True).set_index("type")
    assert (plain.loc["SEMANTIC_ASSERT", "passed"], plain.loc["SEMANTIC_ASSERT", "failed"]) == (
        5,
        5,
    )
    # 4 + 1 labelled pass, 1 + 3 labelled fail, the unsure one keeps the judge's FAILED.
    assert people.loc["SEMANTIC_ASSERT", "passed"] == 5
    assert people.loc["SEMANTIC_ASSERT", "failed"] == 5
    assert people.loc["SEMANTIC_ASSERT", "labelled"] == 9
    assert people.loc["MUST_CONTAIN", "labelled"] == 0
    assert "labelled" not in plain.columns


def test_queues_filter_sample_repeatably_and_come_from_frames(reviewed: Reviewed) -> None:
    wb, run = reviewed.wb, reviewed.run
    everything = wb.reviews.queue(run)
    assert len(everything) == 20
    assert len(wb.reviews.queue(run, only="semantic")) == 10
    assert len(wb.reviews.queue(run.id, only="failed")) == 5
    flaky = wb.reviews.queue(run, only="flaky").frame()
    assert set(flaky["type"]) == {"SEMANTIC_ASSERT"} and len(flaky) == 10
    one = wb.reviews.queue(run, only="semantic", sample=4, seed=1)
    again = wb.reviews.queue(run, only="semantic", sample=4, seed=1)
    assert one.result_ids == again.result_ids and len(one) == 4
    frame = one.frame()
    assert list(frame["result_id"]) == list(one.result_ids)
    assert list(frame.columns[:8]) == ["result_id", "run_id", "scenario", "position", "repeat",
                                       "turn", "expectation", "type"]  # fmt: skip
    assert set(frame["turn"]) == {2} and set(frame["expectation"]) == {2}  # counted from 1
    assert set(frame["expected"]) == {"It states the window"}
    assert frame["judge_score"].notna().all()
    chosen = wb.reviews.queue(frame.iloc[1:3])
    assert chosen.result_ids == one.result_ids[1:3]
    assert wb.reviews.queue(list(one.result_ids[:2])).result_ids == one.result_ids[:2]


def test_an_item_shows_the_conversation_and_the_verdict(reviewed: Reviewed) -> None:
    q = reviewed.wb.reviews.queue(reviewed.run, only="semantic")
    item = q.item(0)
    assert item.conversation == (
        ("user", "Can I get a refund?"),
        ("assistant", "echo: Can I get a refund?"),
    )
    assert item.reply == "echo: Can I get a refund?" and item.type == "SEMANTIC_ASSERT"
    assert item.judge_reasoning == "stand-in verdict" and item.judge_outcome in ("PASSED", "FAILED")
    q.label(0, "unsure")
    assert q.item(0).label == "unsure" and q.first_unlabelled() == 1 and q.labelled() == 1


BAD_QUEUES = [
    ({"only": "broken"}, ValidationError, "only must be one of"),
    ({"only": "errored"}, ValidationError, "no errored results to review"),
    ({"sample": 11, "only": "semantic"}, ValidationError, "ask for at most 10"),
    ({"sample": 0}, ValidationError, "sample must be a whole number"),
    ({"seed": "x", "sample": 1}, ValidationError, "seed must be a whole number"),
]


@pytest.mark.parametrize(("options", "error", "match"), BAD_QUEUES)
def test_bad_queues_are_refused(
    reviewed: Reviewed, options: dict[str, object], error: type[Exception], match: str
) -> None:
    with pytest.raises(error, match=match):
        reviewed.wb.reviews.queue(reviewed.run, **options)  # type: ignore[arg-type]


def test_bad_sources_are_refused(reviewed: Reviewed) -> None:
    wb = reviewed.wb
    with pytest.raises(NotFound, match="No run"):
        wb.reviews.queue("no-such-run")
    with pytest.raises(ValidationError, match="no result_id column"):
        wb.reviews.queue(pd.DataFrame({"id": [1]}))
    with pytest.raises(ValidationError, match="No result ids"):
        wb.reviews.queue([])
    with pytest.raises(ValidationError, match="result_id must be a whole number"):
        wb.reviews.queue(["1"])
    with pytest.raises(ValidationError, match="with result ids given"):
        wb.reviews.queue([1], only="semantic")
    with pytest.raises(ValidationError, match="At most 1,000,000 results per queue"):
        wb.reviews.queue(list(range(1, 1_000_002)))


def test_bad_labels_are_refused_and_nothing_is_written(reviewed: Reviewed) -> None:
    wb = reviewed.wb
    passed, _ = semantic_ids(reviewed)
    with pytest.raises(ValidationError, match="label must be 'pass', 'fail' or 'unsure'"):
        wb.reviews.label(passed[0], "maybe")
    with pytest.raises(ValidationError, match="at most 2,000"):
        wb.reviews.label(passed[0], "fail", comment="x" * 2001)
    with pytest.raises(ValidationError, match="result_id must be a whole number"):
        wb.reviews.label(True, "pass")  # type: ignore[arg-type]
    with pytest.raises(NotFound, match="No result"):
        wb.reviews.label(10**15, "pass")
    with pytest.raises(ValidationError, match="result_id must be a whole number from 1 to"):
        wb.reviews.label(2**64, "pass")
    with pytest.raises(ValidationError, match="NUL"):
        wb.reviews.label(passed[0], "fail", comment="a\x00b")
    assert wb.reviews.history(passed[0]).empty
    assert reviewed.run.frame()["label"].isna().all()


def test_another_users_results_and_runs_are_not_found(
    reviewed: Reviewed, other_wb: Workbench
) -> None:
    passed, _ = semantic_ids(reviewed)
    reviewed.wb.reviews.label(passed[0], "pass")
    with pytest.raises(NotFound, match="No result"):
        other_wb.reviews.label(passed[1], "fail")
    with pytest.raises(NotFound, match="not results of yours"):
        other_wb.reviews.queue(passed)
    with pytest.raises(NotFound, match="not results of yours"):
        other_wb.reviews.history(passed[0])
    for read in (
        other_wb.reviews.agreement,
        other_wb.reviews.threshold_curve,
        other_wb.reviews.queue,
    ):
        with pytest.raises(NotFound, match="No run"):
            read(reviewed.run)
    assert list(reviewed.wb.reviews.history(passed[1])["label"]) == []
    # Their own run of the same suite shows none of these labels.
    theirs = play(other_wb)
    assert other_wb.reviews.agreement(theirs).empty
    assert theirs.frame()["label"].isna().all()
