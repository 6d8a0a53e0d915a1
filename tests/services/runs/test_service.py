"""wb.runs: validation before anything happens, cancel, resume, interrupted runs, keys."""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy import text

import workbench
from tests.runs.conftest import Setup
from workbench.errors import ConfigError, NotFound, ValidationError
from workbench.testing.standin import StandIn

KEY = "sk-run-test-secret-0123456789abcdef"


@pytest.fixture
def standin() -> Iterator[StandIn]:
    with StandIn(max_lifetime_s=120) as server:
        yield server


def rows(setup: Setup) -> int:
    with setup.wb.database.transaction() as session:
        return int(
            session.scalar(
                text(
                    "SELECT (SELECT count(*) FROM workbench.run)"
                    " + (SELECT count(*) FROM workbench.run_attempt)"
                )
            )
            or 0
        )


def start(setup: Setup, **kwargs: Any) -> Any:
    options: dict[str, Any] = {
        "suite": setup.suite_id,
        "prompt": setup.prompt_id,
        "target": workbench.offline(),
        "progress": False,
    }
    return setup.wb.runs.start(**{**options, **kwargs})


BAD_STARTS = [
    ({"repeats": 0}, ValidationError, "repeats"),
    ({"concurrency": 0}, ValidationError, "concurrency"),
    ({"suite": "No such suite"}, NotFound, "No suite"),
    ({"prompt": "No such prompt"}, NotFound, "No prompt"),
    ({"target": "gpt-4o"}, ValidationError, "target must be"),
]


@pytest.mark.parametrize(("change", "error", "match"), BAD_STARTS)
def test_bad_input_is_refused_before_any_row_or_request(
    setup: Setup, standin: StandIn, change: dict[str, Any], error: type[Exception], match: str
) -> None:
    target = workbench.openai_compatible(base_url=standin.openai_base_url, model="m")
    with pytest.raises(error, match=match):
        start(setup, **{"target": target, **change})
    assert rows(setup) == 0 and standin.requests == 0


def test_no_key_names_both_ways_to_give_one(
    setup: Setup, standin: StandIn, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    target = workbench.openai("gpt-4o-mini", base_url=standin.openai_base_url)
    with pytest.raises(ConfigError, match=r"store one with ApiKeyEditor .* set OPENAI_API_KEY"):
        start(setup, target=target)
    assert rows(setup) == 0 and standin.requests == 0


def test_missing_prompt_variables_are_all_listed(setup: Setup) -> None:
    made = setup.wb.prompts.create(name="Needs", content="{{ company }} and {{ product }}")
    with pytest.raises(ValidationError, match="company, product"):
        start(setup, prompt=made.id)
    assert rows(setup) == 0


def test_an_empty_suite_is_refused(setup: Setup) -> None:
    empty = setup.wb.suites.create(name="Empty")
    with pytest.raises(ValidationError, match="has no scenarios"):
        start(setup, suite=empty.id)
    assert rows(setup) == 0


def test_ambiguous_prompt_names_list_the_ids(setup: Setup) -> None:
    with pytest.warns(UserWarning):
        other = setup.wb.prompts.create(name="Support", content="Also {{ tone }}.")
    with pytest.raises(ValidationError, match=other.id):
        start(setup, prompt="Support")


def test_names_resolve_and_variables_override(setup: Setup) -> None:
    run = start(setup, suite="Smoke", variables={"tone": "brief"}, repeats=2).wait(30)
    with setup.wb.database.transaction() as session:
        system = session.scalar(text("SELECT system_text FROM workbench.run"))
    assert system == "Be brief."
    assert len(run.frame()) == 2 * 4


def test_the_vault_key_reaches_the_server_and_nothing_stored_or_shown(
    setup: Setup, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ENCRYPTION_KEY", "runs-test-master-secret")
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    setup.wb.api_keys.set(provider="openai", api_key=KEY)
    with StandIn(api_key=KEY, max_lifetime_s=60) as server:
        target = workbench.openai("gpt-4o-mini", base_url=server.openai_base_url)
        run = start(setup, target=target).wait(60)
        assert server.faults_served["401"] == 0
    assert set(run.frame()["status"]) <= {"PASSED", "FAILED"}
    with setup.wb.database.transaction() as session:
        dumped = session.scalar(
            text("SELECT string_agg(to_jsonb(t)::text, '') FROM (SELECT * FROM workbench.run) t")
        )
    shown = [dumped, repr(run), run.frame().to_string(), repr(setup.wb.runs.list())]
    assert not [s for s in shown if KEY in str(s)]


def test_cancel_keeps_finished_attempts_and_resume_plays_only_the_rest(setup: Setup) -> None:
    with StandIn(latency_s=0.2, max_lifetime_s=60) as server:
        target = workbench.openai_compatible(
            base_url=server.openai_base_url, model="m", max_retries=0
        )
        run = start(setup, target=target, repeats=10, concurrency=2)
        time.sleep(0.9)
        run.cancel()
        view = setup.wb.runs.get(run.id)
        assert view.status == "cancelled"
        kept = run.frame()
        done = view.totals["passed"] + view.totals["failed"] + view.totals["errors"]
        assert 0 < done < 20 and view.totals["unplayed"] == 20 - done
        sent_before = server.requests
        resumed = setup.wb.runs.resume(run.id, target=target, progress=False).wait(60)
        assert setup.wb.runs.get(run.id).status == "finished"
    frame = resumed.frame()
    assert len(frame) == 10 * 4  # 10 repeats of 1 + 3 expectations
    assert len(frame.drop_duplicates(["scenario", "repeat", "turn", "expectation"])) == len(frame)
    # The attempts kept were not played again: their replies are the ones stored before.
    merged = kept.merge(frame, on=["scenario", "repeat", "turn", "expectation"])
    assert len(merged) == len(kept)
    assert server.requests - sent_before <= 3 * (20 - done)


def test_a_run_whose_owner_stopped_beating_is_marked_interrupted(setup: Setup) -> None:
    run = start(setup).wait(30)
    with setup.wb.database.transaction() as session:
        session.execute(
            text(
                "UPDATE workbench.run SET status = 'running',"
                " heartbeat_at = heartbeat_at - interval '1 hour'"
            )
        )
    assert [v.status for v in setup.wb.runs.list()] == ["interrupted"]
    assert setup.wb.runs.get(run.id).status == "interrupted"


def test_another_users_run_is_not_found(setup: Setup, other_wb: workbench.Workbench) -> None:
    run = start(setup).wait(30)
    with pytest.raises(NotFound):
        other_wb.runs.get(run.id)
    assert other_wb.runs.list() == []


def test_summary_and_runs_frame(setup: Setup) -> None:
    run = start(setup, repeats=2).wait(30)
    summary = run.summary()
    assert list(summary["pass_rate"]) == [1.0, 1.0, 0.0, 1.0]
    frame = setup.wb.runs.frame()
    assert list(frame["id"]) == [run.id] and list(frame["status"]) == ["finished"]
    assert "attempts" in repr(run)


def test_ctrl_c_in_wait_cancels_the_run(setup: Setup) -> None:
    import os
    import signal
    import threading

    with StandIn(latency_s=0.2, max_lifetime_s=60) as server:
        target = workbench.openai_compatible(
            base_url=server.openai_base_url, model="m", max_retries=0
        )
        run = start(setup, target=target, repeats=10, concurrency=2)
        # The interrupt button, pressed once the run is under way (on a loaded machine a fixed
        # delay could fire before the run started, or after it ended).
        deadline = time.monotonic() + 30
        while not run._counts and time.monotonic() < deadline:
            time.sleep(0.01)
        threading.Timer(0.05, os.kill, (os.getpid(), signal.SIGINT)).start()
        with pytest.raises(KeyboardInterrupt):
            run.wait(60)
    view = setup.wb.runs.get(run.id)
    assert view.status == "cancelled" and view.totals["unplayed"] > 0


def test_a_reply_with_a_nul_character_is_stored_with_a_replacement(setup: Setup) -> None:
    # PostgreSQL text and jsonb cannot hold NUL; a model that answers with one must not lose
    # the batch it is written in.
    run = start(setup, target=workbench.offline(lambda message: "before\x00after"))
    run.wait()
    replies = set(run.frame()["reply"].dropna())
    assert replies == {"before\ufffdafter"}
