"""Whole-workspace export and import: scenarios, suites, prompts and variables, never API keys.

>>> wb.export_workspace(path="workspace.yaml")            # doctest: +SKIP
>>> other_wb.import_workspace("workspace.yaml")            # doctest: +SKIP
WorkspaceImport(scenarios=..., prompts={'Support': '...'}, variables=('company',), ...)

Same guarantees as `export_scenarios`: lossless (exporting what an import created gives the same
document), all or nothing (one transaction; every entry checked first and every problem reported
at once, each with its path), bounded parsing. The document format is in document.py.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from workbench.db.models import Prompt, Scenario, ScenarioSuite, Variable
from workbench.errors import Duplicate, ValidationError, quoted
from workbench.services._base import UserScopedService, session_driver
from workbench.services.reviews.document import export_labels, import_labels
from workbench.services.scenarios.document import SuiteEntry, document
from workbench.services.scenarios.formats import check_format, dump, format_of_path, load
from workbench.services.scenarios.importing import ImportPlan, imported_name
from workbench.services.scenarios.io import ScenarioIO
from workbench.services.scenarios.types import ImportResult
from workbench.services.workspace.document import (
    PromptEntry,
    VariableEntry,
    WorkspaceReading,
    read_workspace,
    workspace_document,
)
from workbench.services.workspace.history import export_history, write_history
from workbench.timeutil import utcnow

ON_CONFLICT = ("error", "skip", "rename")


@dataclass(frozen=True)
class WorkspaceImport:
    """What a workspace import created, skipped or renamed."""

    scenarios: ImportResult
    """Scenarios and suites, as `import_scenarios` reports them."""
    prompts: tuple[tuple[str, str], ...] = ()
    """(name as stored, id) of every prompt created, in document order (names may repeat)."""
    variables: tuple[str, ...] = ()
    """Keys of the variables created."""
    skipped_prompts: tuple[str, ...] = ()
    skipped_variables: tuple[str, ...] = ()
    """Keys you already had: yours kept (a key is what placeholders name, so never renamed)."""
    renamed_prompts: dict[str, str] = field(default_factory=dict)
    labels: int = 0
    """Labels put on results of yours (issue 26)."""
    skipped_labels: tuple[str, ...] = ()
    """Where each label pointed whose result is not yours here (another database's run)."""


class WorkspaceIO(UserScopedService):
    """Reached as `wb.export_workspace` and `wb.import_workspace`."""

    def export_document(self, *, include_history: bool = False) -> dict[str, Any]:
        """Everything of yours but API keys, as plain data, read in one transaction; with
        `include_history`, every saved version of every scenario too."""
        scenario_io = ScenarioIO(self._database, self._user_id)
        with self._transaction() as session:
            suites = scenario_io._suites(session, None, everything=True)
            specs = scenario_io._scenarios(session, None, ())
            prompts = session.scalars(
                select(Prompt)
                .where(Prompt.user_id == self._user_id)
                .order_by(Prompt.name, Prompt.created_at, Prompt.id)
            ).all()
            variables = session.scalars(
                select(Variable).where(Variable.user_id == self._user_id).order_by(Variable.key)
            ).all()
            prompt_entries = [
                PromptEntry(p.name, p.description, p.content, p.status, tuple(p.tags or ()))
                for p in prompts
            ]
            variable_entries = [VariableEntry(v.key, v.value, v.description) for v in variables]
            history = None
            if include_history:
                ids = dict(
                    session.execute(
                        select(Scenario.name, Scenario.id).where(Scenario.user_id == self._user_id)
                    ).all()
                )
                history = export_history(session, self._user_id, ids)
            labels = export_labels(session_driver(session), self._user_id)
        entries = [SuiteEntry(s.name, s.description, s.tags, s.names) for s in suites]
        scenarios = document(sorted(specs, key=lambda spec: spec.name), entries)
        exported = workspace_document(scenarios, prompt_entries, variable_entries)
        if history is not None:
            exported["history"] = history
        if labels:  # only once there are any: documents of people who never labelled unchanged
            exported["labels"] = labels
        return exported

    def export_workspace(
        self,
        *,
        format: str | None = None,
        path: str | os.PathLike[str] | None = None,
        include_history: bool = False,
    ) -> str:
        """The document as YAML (default) or JSON text, also written to `path` if given."""
        chosen = check_format(format) or (format_of_path(Path(path)) if path else None) or "yaml"
        text = dump(self.export_document(include_history=include_history), chosen)
        if path is not None:
            Path(path).write_text(text, encoding="utf-8")
        return text

    def import_workspace(
        self,
        source: str | os.PathLike[str] | Mapping[str, Any],
        *,
        format: str | None = None,
        on_conflict: str = "error",
    ) -> WorkspaceImport:
        """Import a workspace document (text, a .yaml/.yml/.json path or a dict): all or nothing.

        A name (or variable key) you already have is a `Duplicate` listing every clash with its
        path (`on_conflict="error"`); with `"skip"` yours are kept; with `"rename"` scenarios,
        suites and prompts get a free name like "X (imported)" and variables keep yours.
        """
        if on_conflict not in ON_CONFLICT:
            raise ValidationError(
                f"on_conflict: must be 'error', 'skip' or 'rename', not {quoted(on_conflict)}"
            )
        reading = read_workspace(load(source, format))
        with self._transaction() as session:
            taken_prompts, taken_keys = self._taken(session, reading)
            if on_conflict == "error":
                self._refuse_clashes(session, reading, taken_prompts, taken_keys)
            # Scenario problems and ours are raised together by the plan, before any write.
            scenarios = ImportPlan(session, self._user_id, reading.scenarios, on_conflict).execute()
            created = {
                name: scenarios.scenario_ids[scenarios.renamed_scenarios.get(name, name)]
                for name in reading.history
                if scenarios.renamed_scenarios.get(name, name) in scenarios.scenario_ids
            }
            write_history(session, self._user_id, created, reading.history)
            done = self._write(session, reading, on_conflict, scenarios, taken_prompts, taken_keys)
            written, skipped = import_labels(session_driver(session), self._user_id, reading.labels)
            return replace(done, labels=written, skipped_labels=skipped)

    def _taken(self, session: Session, reading: WorkspaceReading) -> tuple[set[str], set[str]]:
        names = [p.name for _, p in reading.prompts]
        keys = [v.key for _, v in reading.variables]
        prompts = set(
            session.scalars(
                select(Prompt.name).where(Prompt.user_id == self._user_id, Prompt.name.in_(names))
            )
        )
        variables = set(
            session.scalars(
                select(Variable.key).where(
                    Variable.user_id == self._user_id, Variable.key.in_(keys)
                )
            )
        )
        return prompts, variables

    def _refuse_clashes(
        self,
        session: Session,
        reading: WorkspaceReading,
        taken_prompts: set[str],
        taken_keys: set[str],
    ) -> None:
        scenario_names = [(i, s.name) for i, s in reading.scenarios.scenarios]
        suite_names = [(i, s.name) for i, s in reading.scenarios.suites]
        clashes = [
            *self._named_clashes(session, Scenario, "scenarios", scenario_names),
            *self._named_clashes(session, ScenarioSuite, "suites", suite_names),
            *(
                f"prompts[{i}] {quoted(p.name)}"
                for i, p in reading.prompts
                if p.name in taken_prompts
            ),
            *(
                f"variables[{i}] {quoted(v.key)}"
                for i, v in reading.variables
                if v.key in taken_keys
            ),
        ]
        if clashes:
            raise Duplicate(
                f"Duplicate name: you already have {len(clashes)} of the names in this "
                f"document: {', '.join(clashes)}. Nothing was imported; rename them, or import "
                "with on_conflict='skip' (keep yours) or on_conflict='rename'.",
                field="name",
            )

    def _named_clashes(
        self, session: Session, model: Any, where: str, names: list[tuple[int, str]]
    ) -> list[str]:
        wanted = [name for _, name in names]
        taken = set(
            session.scalars(
                select(model.name).where(model.user_id == self._user_id, model.name.in_(wanted))
            )
        )
        return [f"{where}[{i}] {quoted(name)}" for i, name in names if name in taken]

    def _write(
        self,
        session: Session,
        reading: WorkspaceReading,
        on_conflict: str,
        scenarios: ImportResult,
        taken_prompts: set[str],
        taken_keys: set[str],
    ) -> WorkspaceImport:
        now = utcnow()
        all_names = taken_prompts | {p.name for _, p in reading.prompts}
        created: list[Prompt] = []
        skipped: list[str] = []
        renamed: dict[str, str] = {}
        for index, (_, entry) in enumerate(reading.prompts):
            name = entry.name
            if name in taken_prompts:
                if on_conflict == "skip":
                    skipped.append(name)
                    continue
                number = 1
                while (name := imported_name(entry.name, number)) in all_names:
                    number += 1
                all_names.add(name)
                renamed[entry.name] = name
            row = Prompt(
                user_id=self._user_id,
                name=name,
                description=entry.description,
                content=entry.content,
                status=entry.status,
                tags=list(entry.tags),
                # A millisecond apart (the column keeps milliseconds): prompts sharing a name
                # keep the document's order, since exports list them by name, then creation time.
                created_at=now + timedelta(milliseconds=index),
                updated_at=now + timedelta(milliseconds=index),
            )
            created.append(row)
        new_variables = [
            Variable(
                user_id=self._user_id,
                key=v.key,
                value=v.value,
                description=v.description,
                created_at=now,
                updated_at=now,
            )
            for _, v in reading.variables
            if v.key not in taken_keys
        ]
        session.add_all([*created, *new_variables])
        session.flush()
        return WorkspaceImport(
            scenarios=scenarios,
            prompts=tuple((row.name, row.id) for row in created),
            variables=tuple(v.key for v in new_variables),
            skipped_prompts=tuple(skipped),
            skipped_variables=tuple(v.key for _, v in reading.variables if v.key in taken_keys),
            renamed_prompts=renamed,
        )
