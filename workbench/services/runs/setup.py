"""Everything `wb.runs.start` checks and reads before a single row or request: the plan of a run.

Suite and prompt are resolved within the user's own rows (by id, else by name), the prompt is
rendered, every scenario is snapshotted at its current version, and the keys are found. Any
problem is a `ValidationError`/`ConfigError`/`NotFound` raised here, so nothing is written and
nothing is sent.
"""

from __future__ import annotations

import hashlib
import os
import socket
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import timedelta
from typing import TYPE_CHECKING

from sqlalchemy import Engine, TextClause, select, text
from sqlalchemy.orm import Session

from workbench.db.models import Prompt, ScenarioSuite
from workbench.errors import ConfigError, NotFound, ValidationError, quoted
from workbench.runs.cache import ttl_of
from workbench.runs.lifecycle import Connection, CopySnapshots, ScenarioSnapshot
from workbench.runs.play import RunKeys, playing_here
from workbench.runs.providers import Target
from workbench.services.keys.service import KeyReveal
from workbench.services.limits import (
    MAX_CONCURRENCY,
    MAX_REPEATS,
    MAX_RUN_ATTEMPTS,
    whole_number_problem,
)
from workbench.services.suggest import POOL, did_you_mean

# The prompts service is imported where a start uses it: a worker (services/runs/worker.py)
# needs only the keys and the stored settings here, and its start-up is paid per process.
if TYPE_CHECKING:
    from workbench.services.prompts.service import PromptService

THIS_KERNEL = f"kernel:{socket.gethostname()}:{os.getpid()}:"


def new_owner() -> str:
    """The owner of a run played in this kernel (its lease names it)."""
    return f"{THIS_KERNEL}{uuid.uuid4().hex[:8]}"


def ended_here(status: str, owner: str | None) -> bool:
    """A run still 'running' whose player was in this kernel and has stopped: its end could not
    be written (the database went away, `ResultsNotStored`). It resumes at once, without
    waiting for its heartbeat to go stale."""
    return (
        status == "running"
        and owner is not None
        and owner.startswith(THIS_KERNEL)
        and not playing_here(owner)
    )


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
    """`repeats` from 1 to `MAX_REPEATS`, `concurrency` from 1 to `MAX_CONCURRENCY`."""
    limits = (("repeats", repeats, MAX_REPEATS), ("concurrency", concurrency, MAX_CONCURRENCY))
    problems = [
        f"{name} {problem}"
        for name, value, high in limits
        if (problem := whole_number_problem(value, 1, high)) is not None
    ]
    if problems:
        raise ValidationError("Cannot start the run: " + "; ".join(problems), problems=problems)


def check_size(scenarios: int, repeats: int) -> None:
    """At most `MAX_RUN_ATTEMPTS` attempts (scenarios times repeats) in one run."""
    if scenarios * repeats > MAX_RUN_ATTEMPTS:
        raise ValidationError(
            f"Cannot start the run: {scenarios:,} scenarios times {repeats:,} repeats is "
            f"{scenarios * repeats:,} attempts; the limit is {MAX_RUN_ATTEMPTS:,} a run. "
            "Use fewer repeats or split the suite."
        )


def check_target(target: object, field: str) -> Target:
    if not isinstance(target, Target):
        raise ValidationError(
            f"{field} must be a target such as workbench.openai('gpt-4o-mini'), "
            "workbench.anthropic(...), workbench.openai_compatible(...) or workbench.offline(...); "
            f"got {type(target).__name__}"
        )
    return target


EXECUTORS = ("kernel", "workers")


def check_executor(executor: object, detach: object) -> None:
    """`executor` is "kernel", "workers" or a Dask client (checked further once it is used:
    services/runs/dask.py); `detach` only means something on Dask."""
    if not isinstance(detach, bool):
        raise ValidationError(f"detach must be True or False, got {str(detach)[:50]!r}")
    named = isinstance(executor, str) and executor in EXECUTORS
    if not named and type(executor).__name__ not in ("Client", "DaskExecutor"):
        raise ValidationError(
            f"executor must be 'kernel', 'workers' or a dask Client, got {str(executor)[:80]!r}"
        )
    if detach and executor == "kernel":
        raise ValidationError(
            "detach=True needs a Dask client as executor: a run in this kernel stops with it. "
            "Pass executor=client (a dask Client), or executor='workers' for "
            "`workbench worker` processes (a queued run never depends on this kernel)."
        )


def check_playable_elsewhere(target: Target, *others: Target | None) -> None:
    """Workers and Dask rebuild targets (and the judge, the simulator) from the stored run,
    which holds no offline rules."""
    if "offline" in (target.provider, *(other.provider for other in others if other)):
        raise ValidationError(
            "An offline target plays only in this kernel (its rules are not stored): use "
            "executor='kernel', or a provider target for workers and Dask."
        )


def cache_settings(cache: object, ttl: timedelta | float | None) -> timedelta | None:
    """The cache TTL of `wb.runs.start(cache=..., cache_ttl=...)`, None when the cache is off."""
    if not isinstance(cache, bool):
        raise ValidationError(f"cache must be True or False, got {str(cache)[:50]!r}")
    if not cache:
        if ttl is not None:
            raise ValidationError("cache_ttl is given but cache is off; pass cache=True too")
        return None
    return ttl_of(ttl)


def run_options(stop_on_failure: bool, ttl: timedelta | None) -> dict[str, object]:
    """The run's `options` JSONB; the cache settings are kept so that `resume` reuses them."""
    cache = {"cache": True, "cache_ttl_s": ttl.total_seconds()} if ttl is not None else {}
    return {"stop_on_failure": stop_on_failure, **cache}


def stored_cache_ttl(options: Mapping[str, object] | None) -> timedelta | None:
    """The cache TTL a run was started with (`run_options`); None: started without the cache."""
    ttl_s = (options or {}).get("cache_ttl_s")
    return timedelta(seconds=float(str(ttl_s))) if ttl_s is not None else None


def find_suite(session: Session, user_id: str, suite: str) -> ScenarioSuite:
    if not isinstance(suite, str) or not suite:
        raise ValidationError("suite must be a suite's id or name")
    mine = ScenarioSuite.user_id == user_id
    row = session.scalar(select(ScenarioSuite).where(mine, ScenarioSuite.id == suite))
    row = row or session.scalar(select(ScenarioSuite).where(mine, ScenarioSuite.name == suite))
    if row is None:
        names = session.scalars(select(ScenarioSuite.name).where(mine).limit(POOL))
        hint = did_you_mean(suite, names)
        raise NotFound(f"No suite {quoted(suite)} (by id or name){hint}; see wb.suites.list().")
    return row


def find_prompt(session: Session, user_id: str, prompt: str) -> Prompt:
    """The user's prompt with this id, else the one prompt with this name (names may repeat:
    the rule of `prompts/names.py`)."""
    from workbench.services.prompts.names import ids_named, the_one_named

    if not isinstance(prompt, str) or not prompt:
        raise ValidationError("prompt must be a prompt's id or name")
    mine = Prompt.user_id == user_id
    row = session.scalar(select(Prompt).where(mine, Prompt.id == prompt))
    if row is None:
        named = ids_named(session, user_id, prompt)
        if not named:
            names = session.scalars(select(Prompt.name).where(mine).limit(POOL))
            hint = did_you_mean(prompt, names)
            raise NotFound(
                f"No prompt {quoted(prompt)} (by id or name){hint}; see wb.prompts.list()."
            )
        found = the_one_named(prompt, named, use_id="prompt=<id>")
        row = session.scalar(select(Prompt).where(mine, Prompt.id == found))
        assert row is not None
    return row


# A scenario's turns and expectations as the JSON `run_scenario.turns` keeps, built by
# PostgreSQL (the ORM's object graph for 2,000 scenarios took most of a second); `{sid}` is the
# scenario's id column.
TURNS = """coalesce((
  SELECT jsonb_agg(CASE WHEN t."turnType" = 'USER'
      THEN jsonb_build_object('type', 'USER', 'text', coalesce(t."userText", ''))
      ELSE jsonb_build_object('type', 'EXPECT', 'expectations', coalesce((
        SELECT jsonb_agg(jsonb_build_object(
            'type', e.type::text, 'value', e.value,
            'values', to_jsonb(coalesce(e.values, ARRAY[]::text[])),
            'case_sensitive', e."caseSensitive", 'threshold', e.threshold)
          ORDER BY e."orderIndex", e.id)
        FROM "ScenarioExpectation" e WHERE e."turnId" = t.id), '[]'::jsonb)) END
    ORDER BY t."orderIndex")
  FROM "ScenarioTurn" t WHERE t."scenarioId" = {sid}), '[]'::jsonb)"""
# The suite's scenarios of this user, in suite order (a position each); another user's
# crossed-in item skipped.
SUITE_SCENARIOS = """
FROM "ScenarioSuiteItem" i
JOIN "Scenario" s ON s.id = i."scenarioId" AND s.user_id = {user_id}
WHERE i."suiteId" = {suite_id}"""
SUITE_ORDER = 'i."orderIndex", i."scenarioId"'
# Scenarios with a document the run's setup puts on their turns (tools.py, simulated_setup.py).
EXTENDED = """EXISTS (SELECT 1 FROM workbench.scenario_extension x
  WHERE x.user_id = s.user_id AND x.scenario_id = s.id AND x.kind IN ('tools', 'simulated'))"""

# Every scenario's snapshot, its turns as text (`ScenarioSnapshot`): what a matrix writes.
SNAPSHOT = text(
    f"SELECT s.id, s.name, s.version, {TURNS.format(sid='s.id')}::text"
    + SUITE_SCENARIOS.format(user_id=":user_id", suite_id=":suite_id")
    + f" ORDER BY {SUITE_ORDER}"
)
# What `start()` reads: the turns only of the scenarios its setup changes; the others'
# snapshots are copied by PostgreSQL (`COPY`) in the same transaction.
PLAN_READ = text(
    f"SELECT s.id, s.name, s.version, CASE WHEN {EXTENDED}"
    f" THEN {TURNS.format(sid='s.id')}::text END"
    + SUITE_SCENARIOS.format(user_id=":user_id", suite_id=":suite_id")
    + f" ORDER BY {SUITE_ORDER}"
)
# The snapshots of the scenarios not at `skip`, from the scenarios themselves: positions
# numbered as `PLAN_READ`'s rows (psycopg parameters: runs/lifecycle.py runs it). The turns are
# built as json and cast once: building jsonb level by level took a quarter longer (0.27 s
# against 0.21 s for 10,000 scenarios), for the same value.
COPY = f"""
INSERT INTO workbench.run_scenario (run_id, position, user_id, scenario_id, scenario_name,
    scenario_version, turns, tools)
SELECT %(run_id)s, q.position, %(user_id)s, q.id, q.name, q.version,
    ({TURNS.replace("jsonb", "json").format(sid="q.id")})::jsonb, NULL
FROM (SELECT s.id, s.name, s.version,
        (row_number() OVER (ORDER BY {SUITE_ORDER}) - 1)::int AS position
      {SUITE_SCENARIOS.format(user_id="%(user_id)s", suite_id="%(suite_id)s")}) q
WHERE q.position <> ALL(%(skip)s::int[])
"""


def snapshot_scenarios(
    session: Session, user_id: str, suite: ScenarioSuite
) -> list[ScenarioSnapshot]:
    """The scenarios to play, at their current versions, each with its turns."""
    return _snapshots(session, SNAPSHOT, user_id, suite)


def plan_scenarios(session: Session, user_id: str, suite: ScenarioSuite) -> list[ScenarioSnapshot]:
    """The scenarios to play, at their current versions: with their turns those with tools
    or simulated blocks (the run's setup changes them), the others `copied` (`copy_snapshots`
    writes them, in the same transaction)."""
    return _snapshots(session, PLAN_READ, user_id, suite)


def _snapshots(
    session: Session, statement: TextClause, user_id: str, suite: ScenarioSuite
) -> list[ScenarioSnapshot]:
    rows = session.execute(statement, {"user_id": user_id, "suite_id": suite.id}).all()
    if not rows:
        raise ValidationError(
            f"Suite {suite.name!r} has no scenarios; add some with wb.suites.add(...)."
        )
    return [
        ScenarioSnapshot(position, sid, name, version, turns or "", copied=turns is None)
        for position, (sid, name, version, turns) in enumerate(rows)
    ]


def snapshot_copier(run_id: str, user_id: str, suite_id: str) -> CopySnapshots:
    """What writes the `copied` snapshots of this run of this suite (`lifecycle.create`)."""

    def copy(conn: Connection, skip: Sequence[int]) -> int:
        ids = {"run_id": run_id, "user_id": user_id, "suite_id": suite_id}
        return conn.execute(COPY, {**ids, "skip": list(skip)}).rowcount

    return copy


def repeatable_read(session: Session) -> None:
    """The transaction sees one snapshot of the database throughout: a run's checks read the
    scenarios that its `INSERT ... SELECT` copies. A test's database, bound to one connection
    whose transaction has begun, cannot change its level (and has nobody editing meanwhile)."""
    if isinstance(session.get_bind(), Engine):
        session.execute(text("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ"))


def find_key(keys: KeyReveal, target: Target, role: str) -> str | None:
    """The key for `target`: the vault's active key, else the provider's environment variable.

    The plaintext goes straight into the run's `RunKeys` (`run_keys`), and from there only to
    `open_client`."""
    provider = target.vault_provider
    if provider is None:
        return None
    try:
        return keys.for_provider_call(provider=provider)
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


def run_keys(
    keys: KeyReveal, target: Target, judge: Target | None, simulator: Target | None = None
) -> RunKeys:
    """The keys of a run's target, judge and simulator (`find_key`), on their way to
    `open_client`."""
    judge_key = find_key(keys, judge, "judge") if judge is not None else None
    sim_key = find_key(keys, simulator, "simulator") if simulator is not None else None
    return RunKeys(find_key(keys, target, "target"), judge_key, sim_key)


def rendered(prompts: PromptService, prompt: Prompt, variables: Mapping[str, object] | None) -> str:
    from workbench.services.prompts.templates import MissingVariables

    if variables is not None and not isinstance(variables, Mapping):
        raise ValidationError("variables must be a dict of placeholder values")
    try:
        return prompts.render(prompt.id, dict(variables or {}))
    except MissingVariables as missing:
        wanted = ", ".join(f"{name!r}: ..." for name in missing.missing[:3])
        raise missing.saying(f"or pass them to start(variables={{{wanted}}})") from None
