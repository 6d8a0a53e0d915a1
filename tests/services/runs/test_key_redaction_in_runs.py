"""Issue 18 item 4: a server echoing the key in its error bodies, over both transports and both
APIs, as the run's target and as its judge: the key reaches no stored row (run_attempt.error,
turn_result.error, expectation_result.detail), no frame, no transcript and no export."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from sqlalchemy import text

import workbench
from tests.runs.conftest import Setup, make_setup
from workbench.handle import Workbench
from workbench.runs import Target
from workbench.services.scenarios.types import expect, semantic, user
from workbench.testing.standin import ANTHROPIC_PATH, OPENAI_PATH, StandIn

# Shapes the key-like pattern alone did not catch: Groq's gsk_, xAI's xai-.
KEYS = {
    "anthropic": "gsk_Q7rT2vX9mB4nL8kP3sW6yZ1cF5hJ0dGa",
    "openai": "xai-Rb3Nq8Lm2Vx7Tc5Hj9Wk4Pz6Yd1Fs0Ge",
}
TABLES = ("run", "run_scenario", "run_attempt", "turn_result", "expectation_result")


@pytest.fixture
def server() -> Iterator[StandIn]:
    with StandIn(max_lifetime_s=120) as s:
        yield s


@pytest.fixture
def judged(wb: Workbench, monkeypatch: pytest.MonkeyPatch) -> Setup:
    monkeypatch.setenv("ANTHROPIC_API_KEY", KEYS["anthropic"])
    monkeypatch.setenv("OPENAI_API_KEY", KEYS["openai"])
    return make_setup(wb, {"Judged": [user("hello"), expect(semantic("the reply is polite"))]})


def target(server: StandIn, api: str, transport: str) -> Target:
    if api == "anthropic":
        return workbench.anthropic(
            "claude-3-5-haiku", base_url=server.base_url, max_retries=0, transport=transport
        )
    return workbench.openai_compatible(
        base_url=server.openai_base_url, model="m", max_retries=0, transport=transport
    )


def surfaces(setup: Setup, run_id: str) -> list[str]:
    """Everything a user or the database keeps of a run, as text."""
    with setup.wb.database.transaction() as session:
        stored = [
            str(
                session.scalar(
                    text(f"SELECT string_agg(to_jsonb(t)::text, '') FROM workbench.{name} t")
                )
            )
            for name in TABLES
        ]
    run = setup.wb.runs.get(run_id)
    shown = [run.frame().to_string(), run.attempts().to_string(), repr(run.transcript(position=1))]
    exports = [run.to_json(), run.to_csv(), run.to_junit()]
    return stored + shown + exports


@pytest.mark.parametrize("transport", ["sdk", "direct"])
@pytest.mark.parametrize("api", ["openai", "anthropic"])
def test_an_echoed_key_is_stored_nowhere(
    judged: Setup, server: StandIn, api: str, transport: str
) -> None:
    other = "anthropic" if api == "openai" else "openai"
    failing = target(server, api, transport)
    path = ANTHROPIC_PATH if api == "anthropic" else OPENAI_PATH
    options = {"suite": judged.suite_id, "prompt": judged.prompt_id, "progress": False}
    # The failing API as the target (the attempt's error), then as the judge (the detail).
    server.inject(*["400"] * 4, path=path)
    as_target = judged.wb.runs.start(
        **options, target=failing, judge=target(server, other, transport)
    )
    as_target.wait(60)
    server.inject(*["400"] * 4, path=path)
    as_judge = judged.wb.runs.start(
        **options, target=target(server, other, transport), judge=failing
    )
    as_judge.wait(60)
    assert server.faults_served["400"] == 2
    errors = [as_target.attempts()["error"].iloc[0], as_judge.frame()["detail"].iloc[0]]
    assert all("Invalid request for key [redacted]" in str(error) for error in errors), errors
    key = KEYS[api]
    pieces = [key[i : i + 10] for i in range(len(key) - 9)]
    for run in (as_target, as_judge):
        for surface in surfaces(judged, run.id):
            assert not [piece for piece in pieces if piece in surface], surface[:400]
