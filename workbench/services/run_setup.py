"""Everything `wb.runs.start` checks and reads before a single row or request: the plan of a run.

Suite and prompt are resolved within the user's own rows (by id, else by name), the prompt is
rendered, every scenario is snapshotted at its current version, and the keys are found. Any
problem is a `ValidationError`/`ConfigError`/`NotFound` raised here, so nothing is written and
nothing is sent.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from workbench.db.models import Prompt, Scenario, ScenarioSuite, ScenarioSuiteItem, ScenarioTurn
from workbench.errors import ConfigError, NotFound, ValidationError
from workbench.runs.providers import Target


@dataclass(frozen=True)
class ScenarioSnapshot:
    position: int
    scenario_id: str
    name: str
    version: int
    turns: list[dict[str, Any]]


@dataclass(frozen=True)
class RunPlan:
    suite_id: str
    suite_name: str
    prompt: Prompt
    system_text: str
    scenarios: list[ScenarioSnapshot]

    @property
    def system_sha256(self) -> str:
        return hashlib.sha256(self.system_text.encode()).hexdigest()


def check_counts(repeats: object, concurrency: object) -> None:
    problems = [
        f"{name} must be a whole number of at least 1, got {value!r}"
        for name, value in (("repeats", repeats), ("concurrency", concurrency))
        if isinstance(value, bool) or not isinstance(value, int) or value < 1
    ]
    if problems:
        raise ValidationError("Cannot start the run: " + "; ".join(problems), problems=problems)


def check_target(target: object, field: str) -> Target:
    if not isinstance(target, Target):
        raise ValidationError(
            f"{field} must be a target such as workbench.openai('gpt-4o-mini'), "
            "workbench.anthropic(...), workbench.openai_compatible(...) or workbench.offline(...); "
            f"got {type(target).__name__}"
        )
    return target


def find_suite(session: Session, user_id: str, suite: str) -> ScenarioSuite:
    if not isinstance(suite, str) or not suite:
        raise ValidationError("suite must be a suite's id or name")
    mine = ScenarioSuite.user_id == user_id
    row = session.scalar(select(ScenarioSuite).where(mine, ScenarioSuite.id == suite))
    row = row or session.scalar(select(ScenarioSuite).where(mine, ScenarioSuite.name == suite))
    if row is None:
        raise NotFound(f"No suite {suite!r} (by id or name); see wb.suites.list().")
    return row


def find_prompt(session: Session, user_id: str, prompt: str) -> Prompt:
    if not isinstance(prompt, str) or not prompt:
        raise ValidationError("prompt must be a prompt's id or name")
    mine = Prompt.user_id == user_id
    row = session.scalar(select(Prompt).where(mine, Prompt.id == prompt))
    if row is not None:
        return row
    named = list(session.scalars(select(Prompt).where(mine, Prompt.name == prompt)))
    if not named:
        raise NotFound(f"No prompt {prompt!r} (by id or name); see wb.prompts.list().")
    if len(named) > 1:
        ids = sorted(p.id for p in named)
        raise ValidationError(
            f"{len(named)} prompts are named {prompt!r}; pass one of their ids: {', '.join(ids)}",
            problems=[f"prompt {i}" for i in ids],
        )
    return named[0]


def snapshot_scenarios(
    session: Session, user_id: str, suite: ScenarioSuite
) -> list[ScenarioSnapshot]:
    ids = list(
        session.scalars(
            select(ScenarioSuiteItem.scenario_id)
            .where(ScenarioSuiteItem.suite_id == suite.id)
            .order_by(ScenarioSuiteItem.order_index)
        )
    )
    rows = session.scalars(
        select(Scenario)
        .where(Scenario.user_id == user_id, Scenario.id.in_(ids))
        .options(selectinload(Scenario.turns).selectinload(ScenarioTurn.expectations))
    )
    by_id = {row.id: row for row in rows}
    ordered = [by_id[i] for i in ids if i in by_id]  # another user's crossed-in item: skipped
    if not ordered:
        raise ValidationError(
            f"Suite {suite.name!r} has no scenarios; add some with wb.suites.add(...)."
        )
    return [
        ScenarioSnapshot(position, s.id, s.name, s.version, [turn_json(t) for t in s.turns])
        for position, s in enumerate(ordered)
    ]


def turn_json(turn: ScenarioTurn) -> dict[str, Any]:
    if turn.turn_type == "USER":
        return {"type": "USER", "text": turn.user_text or ""}
    return {
        "type": "EXPECT",
        "expectations": [
            {
                "type": str(e.type),
                "value": e.value,
                "values": list(e.values or []),
                "case_sensitive": e.case_sensitive,
                "threshold": e.threshold,
            }
            for e in turn.expectations
        ],
    }


def find_key(reveal: Any, target: Target, role: str) -> str | None:
    """The key for `target`: the vault's active key, else the provider's environment variable.

    `reveal` is the vault's `_reveal_for_provider_call`. The plaintext goes straight to
    `open_client` and nowhere else."""
    provider = target.vault_provider
    if provider is None:
        return None
    try:
        key: str = reveal(provider=provider)
        return key
    except NotFound:
        pass
    env = target.env_var
    if env and os.environ.get(env):
        return os.environ[env]
    if target.provider == "openai_compatible":
        return None  # local servers (vLLM, Ollama) usually take none
    raise ConfigError(
        f"No API key for the {role}'s provider {provider!r}: store one with ApiKeyEditor "
        f"(or wb.api_keys.set(provider={provider!r}, ...)) or set {env}."
    )


def rendered(render: Any, prompt: Prompt, variables: Mapping[str, object] | None) -> str:
    if variables is not None and not isinstance(variables, Mapping):
        raise ValidationError("variables must be a dict of placeholder values")
    text: str = render(prompt.id, dict(variables or {}))
    return text
