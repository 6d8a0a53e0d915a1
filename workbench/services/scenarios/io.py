"""Export and import of scenarios and suites as YAML or JSON (format in document.py).

>>> text = wb.export_scenarios(path="scenarios.yaml")             # doctest: +SKIP
>>> other_wb.import_scenarios("scenarios.yaml")                    # doctest: +SKIP
ImportResult(scenario_ids={'Greeting': '...'}, ...)

A round trip is lossless: exporting what an import created gives the same document again (ids,
versions and timestamps are not part of it). An import is one transaction: every entry is
checked first and every problem reported at once, with its position
(`scenarios[3].turns[2].expectations[1].value: MUST_CONTAIN needs a value`); if there is any,
nothing is written. Everything is inserted with COPY, so 10,000 scenarios (40,000 turns,
50,000 expectations) import in about 7 seconds from JSON or a dict. YAML parsing is much slower
than JSON even with libyaml (about 10 s for those 10,000): use JSON for very large documents.
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from sqlalchemy import select
from sqlalchemy.orm import Session

from workbench.db.models import Scenario, ScenarioSuite, ScenarioSuiteItem
from workbench.errors import NotFound, ValidationError, quoted
from workbench.services._base import UserScopedService
from workbench.services.scenarios.document import SuiteEntry, document, read_document
from workbench.services.scenarios.extensions import with_tools
from workbench.services.scenarios.formats import check_format, dump, format_of_path, load
from workbench.services.scenarios.importing import ImportPlan
from workbench.services.scenarios.store import (
    SCENARIO_COLUMNS,
    id_array,
    load_turns,
    not_found,
    view_of,
)
from workbench.services.scenarios.types import ImportResult, ScenarioCreate

OnConflict = Literal["error", "skip", "rename"]


class ScenarioIO(UserScopedService):
    """Export and import for the signed-in user (reached as `wb.export_scenarios` and
    `wb.import_scenarios`)."""

    def export_document(
        self,
        *,
        scenario_ids: Sequence[str] | None = None,
        suite_ids: Sequence[str] | None = None,
    ) -> dict[str, Any]:
        """The export document as plain data (see `export_scenarios` for what is included)."""
        with self._transaction() as session:
            suites = self._suites(session, suite_ids, everything=scenario_ids is None)
            wanted = None
            if scenario_ids is not None or suite_ids is not None:
                wanted = {*(scenario_ids or ()), *(sid for sid, _ in member_ids(suites))}
            scenarios = self._scenarios(session, wanted, scenario_ids or ())
        entries = [SuiteEntry(s.name, s.description, s.tags, s.names) for s in suites]
        return document(sorted(scenarios, key=lambda spec: spec.name), entries)

    def export_scenarios(
        self,
        *,
        scenario_ids: Sequence[str] | None = None,
        suite_ids: Sequence[str] | None = None,
        format: str | None = None,
        path: str | os.PathLike[str] | None = None,
    ) -> str:
        """Your scenarios and suites as YAML (default) or JSON text, also written to `path`.

        With no ids, everything you have. With `scenario_ids`, those scenarios (and no suites);
        with `suite_ids`, those suites and every scenario in them. The format is `format`, else
        the file's suffix (.yaml, .yml, .json), else YAML.
        """
        chosen = check_format(format) or (format_of_path(Path(path)) if path else None) or "yaml"
        text = dump(self.export_document(scenario_ids=scenario_ids, suite_ids=suite_ids), chosen)
        if path is not None:
            Path(path).write_text(text, encoding="utf-8")
        return text

    def import_scenarios(
        self,
        source: str | os.PathLike[str] | Mapping[str, Any],
        *,
        format: str | None = None,
        on_conflict: OnConflict = "error",
    ) -> ImportResult:
        """Import a document: its text, a path to a .yaml/.yml/.json file, or a parsed dict.

        All or nothing. A name you already have is a `Duplicate` listing every clash
        (`on_conflict="error"`), is left alone with the existing one kept
        (`"skip"`; suites then use it), or gets a free name like "X (imported)" (`"rename"`).
        Suites list scenarios by name: from the document or already in your account.
        """
        if on_conflict not in ("error", "skip", "rename"):
            raise ValidationError(
                f"on_conflict: must be 'error', 'skip' or 'rename', not {quoted(on_conflict)}"
            )
        reading = read_document(load(source, format))
        with self._transaction() as session:
            plan = ImportPlan(session, self._user_id, reading, on_conflict)
            return plan.execute()

    def _scenarios(
        self, session: Session, wanted: set[str] | None, required: Sequence[str]
    ) -> list[ScenarioCreate]:
        statement = select(*SCENARIO_COLUMNS).where(Scenario.user_id == self._user_id)
        if wanted is not None:
            statement = statement.where(Scenario.id == id_array(sorted(wanted)))
        rows = session.execute(statement).all()
        found = {row.id for row in rows}
        for scenario_id in required:
            if scenario_id not in found:
                raise not_found(scenario_id)
        turns = load_turns(session, [row.id for row in rows])
        views = [view_of(row, turns.get(row.id, ())) for row in rows]
        return [view.to_create() for view in with_tools(session, self._user_id, views)]

    def _suites(
        self, session: Session, suite_ids: Sequence[str] | None, *, everything: bool
    ) -> list[_Suite]:
        if suite_ids is None and not everything:
            return []
        statement = select(
            ScenarioSuite.id, ScenarioSuite.name, ScenarioSuite.description, ScenarioSuite.tags
        ).where(ScenarioSuite.user_id == self._user_id)
        if suite_ids is not None:
            statement = statement.where(ScenarioSuite.id == id_array(list(suite_ids)))
        rows = session.execute(statement).all()
        missing = set(suite_ids or ()) - {row.id for row in rows}
        if missing:
            raise NotFound(f"No suite with id {quoted(sorted(missing)[0])}; check the id.")
        members: dict[str, list[tuple[str, str]]] = {row.id: [] for row in rows}
        if rows:
            items = session.execute(
                select(ScenarioSuiteItem.suite_id, Scenario.id, Scenario.name)
                .join(Scenario, Scenario.id == ScenarioSuiteItem.scenario_id)
                # An item pointing at someone else's scenario (the web app could write one)
                # is never shown, as the suite service never shows it.
                .where(
                    ScenarioSuiteItem.suite_id == id_array(list(members)),
                    Scenario.user_id == self._user_id,
                )
                .order_by(ScenarioSuiteItem.order_index, ScenarioSuiteItem.added_at)
            ).all()
            for suite_id, scenario_id, name in items:
                members[suite_id].append((scenario_id, name))
        suites = [
            _Suite(row.name, row.description, tuple(row.tags or ()), tuple(members[row.id]))
            for row in rows
        ]
        return sorted(suites, key=lambda suite: suite.name)


@dataclass(frozen=True)
class _Suite:
    name: str
    description: str | None
    tags: tuple[str, ...]
    members: tuple[tuple[str, str], ...]
    """(scenario id, scenario name) in suite order."""

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(name for _, name in self.members)


def member_ids(suites: Sequence[_Suite]) -> list[tuple[str, str]]:
    return [member for suite in suites for member in suite.members]
