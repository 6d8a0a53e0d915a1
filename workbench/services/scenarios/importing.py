"""Carrying out an import inside one transaction: names, suite members, then bulk inserts.

The document has already been read and checked (document.py); what is left needs the
database: which names the user already has, what the suites' scenario names refer to. Every
problem found here joins the document's, and all are raised together before anything is
written. Suites are written straight into `"ScenarioSuite"` and `"ScenarioSuiteItem"`, so an
import is a single transaction whatever it holds.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import replace
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from workbench.db.columns import new_uuid
from workbench.db.models import Scenario, ScenarioSuite
from workbench.errors import Duplicate, ValidationError, quoted
from workbench.services.scenarios.bulk import NewScenario, copy_rows, insert_scenarios, naive_utc
from workbench.services.scenarios.document import Reading, SuiteEntry
from workbench.services.scenarios.store import id_array
from workbench.services.scenarios.types import ImportResult, ScenarioCreate
from workbench.services.scenarios.validation import NAME_MAX
from workbench.timeutil import utcnow


class ImportPlan:
    """What one import will write, worked out against the user's existing names."""

    def __init__(self, session: Session, user_id: str, reading: Reading, on_conflict: str) -> None:
        self.session, self.user_id, self.reading = session, user_id, reading
        self.on_conflict = on_conflict
        self.now = utcnow()

    def execute(self) -> ImportResult:
        reading = self.reading
        member_names = {name for _, suite in reading.suites for name in suite.scenarios}
        doc_names = {spec.name for _, spec in reading.scenarios}
        existing = self._existing(Scenario, doc_names | member_names)
        existing_suites = self._existing(ScenarioSuite, {suite.name for _, suite in reading.suites})
        scenario_clashes = [(i, s.name) for i, s in reading.scenarios if s.name in existing]
        suite_clashes = [(i, s.name) for i, s in reading.suites if s.name in existing_suites]
        if self.on_conflict == "error":
            self._refuse_clashes(scenario_clashes, suite_clashes)
        scenario_names = self._names(Scenario, scenario_clashes, doc_names)
        suite_names = self._names(
            ScenarioSuite, suite_clashes, {suite.name for _, suite in reading.suites}
        )
        new = [
            NewScenario(new_uuid(), rename(spec, scenario_names), self.now, "imported")
            for _, spec in reading.scenarios
            if scenario_names.get(spec.name, spec.name) is not None
        ]
        ids = {**existing, **{item.spec.name: item.id for item in new}}
        ids.update({old: ids[new_name] for old, new_name in scenario_names.items() if new_name})
        problems = reading.problems + self._member_problems(ids)
        if problems:
            count = f"{len(problems)} problem" + ("" if len(problems) == 1 else "s")
            lines = "\n".join(f"- {line}" for line in problems)
            raise ValidationError(f"Nothing was imported ({count}):\n{lines}", problems=problems)
        insert_scenarios(self.session, self.user_id, new)
        suites = self._insert_suites(suite_names, ids)
        return ImportResult(
            scenario_ids={item.spec.name: item.id for item in new},
            suite_ids=suites,
            skipped_scenarios=tuple(n for n, new_name in scenario_names.items() if not new_name),
            skipped_suites=tuple(n for n, new_name in suite_names.items() if not new_name),
            renamed_scenarios={o: n for o, n in scenario_names.items() if n and n != o},
            renamed_suites={o: n for o, n in suite_names.items() if n and n != o},
        )

    def _existing(self, model: Any, names: Iterable[str]) -> dict[str, str]:
        """Name → id of the user's rows (of `model`) with one of `names`."""
        wanted = sorted(names)
        if not wanted:
            return {}
        rows = self.session.execute(
            select(model.name, model.id).where(
                model.user_id == self.user_id, model.name == id_array(wanted)
            )
        )
        return {name: row_id for name, row_id in rows}

    def _refuse_clashes(
        self, scenarios: list[tuple[int, str]], suites: list[tuple[int, str]]
    ) -> None:
        clashes = [f"scenarios[{i}] {quoted(name)}" for i, name in scenarios]
        clashes += [f"suites[{i}] {quoted(name)}" for i, name in suites]
        if clashes:
            raise Duplicate(
                f"Duplicate name: you already have {len(clashes)} of the names in this "
                f"document: {', '.join(clashes)}. Nothing was imported; rename them, or import "
                "with on_conflict='skip' (keep yours) or on_conflict='rename'.",
                field="name",
            )

    def _names(
        self, model: Any, clashes: list[tuple[int, str]], document_names: set[str]
    ) -> dict[str, str | None]:
        """Clashing name → the name to store it under, or None to skip it."""
        if not clashes or self.on_conflict == "skip":
            return {name: None for _, name in clashes}
        taken = set(self.session.scalars(select(model.name).where(model.user_id == self.user_id)))
        taken |= document_names
        chosen: dict[str, str | None] = {}
        for _, name in clashes:
            number = 1
            while (candidate := imported_name(name, number)) in taken:
                number += 1
            taken.add(candidate)
            chosen[name] = candidate
        return chosen

    def _member_problems(self, ids: dict[str, str]) -> list[str]:
        return [
            f"suites[{i}].scenarios[{j}]: no scenario named {quoted(name)} in the document or in "
            "your account"
            for i, suite in self.reading.suites
            for j, name in enumerate(suite.scenarios)
            if name not in ids
        ]

    def _insert_suites(self, names: dict[str, str | None], ids: dict[str, str]) -> dict[str, str]:
        suites: list[tuple[str, SuiteEntry, str]] = []
        for _, suite in self.reading.suites:
            stored = names.get(suite.name, suite.name)
            if stored is not None:
                suites.append((new_uuid(), suite, stored))
        if not suites:
            return {}
        now = naive_utc(self.now)
        copy_rows(
            self.session,
            "ScenarioSuite",
            ("id", "user_id", "name", "description", "tags", "createdAt", "updatedAt"),
            [
                (suite_id, self.user_id, name, suite.description, list(suite.tags), now, now)
                for suite_id, suite, name in suites
            ],
        )
        copy_rows(
            self.session,
            "ScenarioSuiteItem",
            ("suiteId", "scenarioId", "orderIndex", "addedAt"),
            [
                (suite_id, ids[member], index, now)
                for suite_id, suite, _ in suites
                for index, member in enumerate(suite.scenarios)
            ],
        )
        return {stored: suite_id for suite_id, _, stored in suites}


def rename(spec: ScenarioCreate, names: dict[str, str | None]) -> ScenarioCreate:
    new_name = names.get(spec.name)
    return spec if new_name is None else replace(spec, name=new_name)


def imported_name(name: str, number: int) -> str:
    """ "X (imported)", then "X (imported 2)", ..., shortened to fit 200 characters."""
    suffix = " (imported)" if number == 1 else f" (imported {number})"
    return name[: NAME_MAX - len(suffix)] + suffix
