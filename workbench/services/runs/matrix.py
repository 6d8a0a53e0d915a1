"""`wb.runs.matrix(...)`: one normal run per (prompt, target) cell, started together.

    m = wb.runs.matrix(suite="Checkout flows", prompts=["Terse", "Friendly"],
                       targets=[workbench.openai("gpt-4o-mini"), workbench.anthropic(...)],
                       repeats=3, concurrency=16)
    m.wait(); m.summary(); m.compare(baseline=("Terse", "gpt-4o-mini")); m.report("r.html")

Every check runs before anything is written or sent, as `wb.runs.start` does: the lists, a
repeated cell, the baseline, pass^k against the repeats, the suite, the prompts and their
variables, the keys. Then the matrix, its cells and every cell's run are written in one
transaction, and each run plays as `start` plays it.

`concurrency` is a budget per provider and model (one key per provider): cells that call the
same model share it, split evenly, so a 2 x 2 matrix over two models sends at most
`2 * concurrency` requests at once, never four times the budget. (Runs play on their own event
loops, so the split is fixed when they start: a cell that finishes early does not hand its
share to the others.)
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from workbench.db.models import RunMatrix, RunMatrixCell
from workbench.errors import ValidationError, quoted
from workbench.runs import lifecycle
from workbench.runs.analysis.numbering import checked
from workbench.runs.play import PlayRequest
from workbench.runs.providers import Target
from workbench.services._base import session_driver
from workbench.services.runs.setup import (
    RunPlan,
    cache_settings,
    check_counts,
    check_target,
    find_prompt,
    find_suite,
    new_owner,
    rendered,
    run_keys,
    snapshot_scenarios,
)
from workbench.timeutil import utcnow

if TYPE_CHECKING:
    from datetime import timedelta

    from workbench.db.models import Prompt
    from workbench.services.runs.handle import RunHandle
    from workbench.services.runs.service import RunService

MAX_CELLS = 64  # a matrix plays every cell at once: beyond this, start runs in batches


@dataclass(frozen=True)
class MatrixSpec:
    """What `wb.runs.matrix` was asked, checked."""

    suite: str
    prompts: list[str]
    targets: list[Target]
    judge: Target | None
    repeats: int
    concurrency: int
    pass_k: int | None
    baseline: tuple[str, Target | str] | None
    variables: Mapping[str, object] | None
    ttl: timedelta | None


def check_spec(
    suite: str,
    prompts: object,
    targets: object,
    judge: object,
    repeats: object,
    concurrency: object,
    pass_k: object,
    baseline: object,
    variables: Mapping[str, object] | None,
    cache: object,
    cache_ttl: Any,
) -> MatrixSpec:
    """Every check that needs no database: the lists, counts, pass^k, the baseline's shape."""
    if not isinstance(prompts, list | tuple) or not prompts:
        raise ValidationError("prompts must be a non-empty list of prompt names or ids")
    if not isinstance(targets, list | tuple) or not targets:
        raise ValidationError("targets must be a non-empty list such as [workbench.openai(...)]")
    if len(prompts) * len(targets) > MAX_CELLS:
        raise ValidationError(f"a matrix has at most {MAX_CELLS} cells (prompts x targets), "
                              f"got {len(prompts)} x {len(targets)}")  # fmt: skip
    checked_targets = [check_target(t, f"targets[{i}]") for i, t in enumerate(targets)]
    check_counts(repeats, concurrency)
    assert isinstance(repeats, int) and isinstance(concurrency, int)
    k = None if pass_k is None else checked(pass_k, "pass_k")
    if k is not None and k > repeats:
        raise ValidationError(
            f"pass_k={k} needs {k} repeats of each scenario, but repeats={repeats}: pass "
            f"repeats={k} or more (one attempt cannot tell whether {k} in a row pass)"
        )
    if baseline is not None and not (isinstance(baseline, tuple) and len(baseline) == 2):
        raise ValidationError("baseline must be a (prompt, target) pair of the matrix")
    return MatrixSpec(
        suite, list(prompts), checked_targets, check_target(judge, "judge") if judge else None,
        repeats, concurrency, k, baseline, variables, cache_settings(cache, cache_ttl),
    )  # fmt: skip


def target_key(target: Target) -> tuple[Any, ...]:
    """What makes two targets the same cell: their settings (and an offline target's rules)."""
    return (json.dumps(target.settings(), sort_keys=True), target.offline_rules,
            target.offline_default)  # fmt: skip


def target_labels(settings: Sequence[Mapping[str, Any]]) -> list[str]:
    """How each target is shown: its model, made unique ("gpt-4o (temperature=1)", "#2")."""
    models = [str(s.get("model")) for s in settings]
    labels = []
    for s, model in zip(settings, models, strict=True):
        label = model
        if models.count(model) > 1 and s.get("params"):
            label += " (" + ", ".join(f"{k}={v}" for k, v in sorted(s["params"].items())) + ")"
        labels.append(label)
    plain = list(labels)
    return [f"{label} #{plain[: i + 1].count(label)}" if plain.count(label) > 1 else label
            for i, label in enumerate(plain)]  # fmt: skip


def budgets(targets: list[Target], concurrency: int, prompts: int) -> list[int]:
    """Each target's cells' concurrency: the budget of its provider and model, split evenly."""

    def group(t: Target) -> tuple[str, str | None, str]:
        return (t.provider, t.base_url, t.model)

    cells = {g: 0 for g in map(group, targets)}
    for t in targets:
        cells[group(t)] += prompts
    return [max(1, concurrency // cells[group(t)]) for t in targets]


def unique_prompts(rows: list[Prompt]) -> None:
    seen: dict[str, str] = {}
    for row in rows:
        if row.id in seen:
            raise ValidationError(f"repeated cell: prompt {quoted(row.name)} is listed twice; "
                                  "list each prompt once")  # fmt: skip
        seen[row.id] = row.name


def unique_targets(targets: list[Target], labels: list[str]) -> None:
    keys = [target_key(t) for t in targets]
    for i, key in enumerate(keys):
        if key in keys[:i]:
            raise ValidationError(f"repeated cell: target {labels[i]!r} is listed twice; "
                                  "list each target once")  # fmt: skip


def baseline_cell(
    baseline: tuple[Any, Any], rows: list[Prompt], targets: list[Target], labels: list[str]
) -> int:
    """The cell number (from 1) of a (prompt, target) baseline; ValidationError if not there."""
    prompt, target = baseline
    p = [i for i, row in enumerate(rows) if prompt in (row.id, row.name)]
    if isinstance(target, Target):
        t = [i for i, other in enumerate(targets) if target_key(other) == target_key(target)]
    else:
        t = [i for i, label in enumerate(labels) if target == label]
    if len(p) != 1 or len(t) != 1:
        raise ValidationError(
            f"baseline ({quoted(prompt)}, {quoted(target)}) is not a cell of this matrix; its "
            f"prompts are {[r.name for r in rows]} and its targets {labels}"
        )
    return p[0] * len(targets) + t[0] + 1


def start_matrix(
    service: RunService, spec: MatrixSpec, progress: bool
) -> tuple[str, Callable[[], dict[str, RunHandle]]]:
    """Check against the database and write everything in one transaction; returns the
    matrix's id and what starts every cell's run (called once the matrix has been read)."""
    user_id = service._user_id
    with service._transaction() as session:
        suite_row = find_suite(session, user_id, spec.suite)
        scenarios = snapshot_scenarios(session, user_id, suite_row)
        rows = [find_prompt(session, user_id, p) for p in spec.prompts]
    unique_prompts(rows)
    labels = target_labels([t.settings() for t in spec.targets])
    unique_targets(spec.targets, labels)
    base = baseline_cell(spec.baseline, rows, spec.targets, labels) if spec.baseline else None
    plans = [RunPlan(suite_row.id, suite_row.name, row, rendered(service._prompts, row,
             spec.variables), scenarios) for row in rows]  # fmt: skip
    keys = [run_keys(service._keys, t, spec.judge) for t in spec.targets]
    shares = budgets(spec.targets, spec.concurrency, len(rows))
    cells = [(plan, ti) for plan in plans for ti in range(len(spec.targets))]
    matrix_id, owners = str(uuid.uuid4()), [new_owner() for _ in cells]
    run_ids = [str(uuid.uuid4()) for _ in cells]
    settings = {"concurrency": spec.concurrency, "pass_k": spec.pass_k, "baseline_cell": base,
                "judge": spec.judge.settings() if spec.judge else None,
                "target_labels": labels}  # fmt: skip
    with service._transaction() as session:
        session.add(RunMatrix(id=matrix_id, user_id=user_id, suite_id=suite_row.id,
                              suite_name=suite_row.name, repeats=spec.repeats,
                              settings=settings, created_at=utcnow()))  # fmt: skip
        session.flush()
        for n, ((plan, ti), owner, run_id) in enumerate(zip(cells, owners, run_ids, strict=True)):
            new = service._new_run(run_id, owner, plan, spec.targets[ti], spec.judge,
                                   spec.repeats, False, spec.ttl)  # fmt: skip
            lifecycle.create(session_driver(session), new)
            cell = RunMatrixCell(matrix_id=matrix_id, position=n, user_id=user_id,
                                 prompt_id=plan.prompt.id, prompt_name=plan.prompt.name,
                                 target=spec.targets[ti].settings(), run_id=run_id)  # fmt: skip
            session.add(cell)
    total = len(scenarios) * spec.repeats

    def play() -> dict[str, RunHandle]:
        handles: dict[str, RunHandle] = {}
        for (_plan, ti), owner, run_id in zip(cells, owners, run_ids, strict=True):
            request = PlayRequest(run_id, user_id, owner, spec.targets[ti], spec.judge,
                                  shares[ti], spec.ttl)  # fmt: skip
            handles[run_id] = service._play(request, keys[ti], total, progress)
        return handles

    return matrix_id, play
