"""A scenario's saved versions: list them, read one, compare two, restore one.

Part of `wb.scenarios` (mixed into `ScenarioService`):

>>> for v in wb.scenarios.history(s.id): print(v.version, v.note)   # doctest: +SKIP
>>> print(wb.scenarios.diff(s.id, 1, 3))                           # doctest: +SKIP
version 1 → 3:
  name changed: 'Greeting' → 'Greeting, polite'
  turn 3 added: EXPECT [MUST_NOT_CONTAIN 'sorry']
>>> wb.scenarios.restore(s.id, 1)                                   # doctest: +SKIP

Restoring brings back a version's content (name, description, locale, tags, turns) as a new
version; the status stays as it is, since moving between statuses has its own rules.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from sqlalchemy import select
from sqlalchemy.orm import Session

from workbench.db.models import Scenario, ScenarioVersion
from workbench.errors import NotFound, quoted
from workbench.services._base import UserScopedService
from workbench.services.scenarios.extensions import (
    TOOLS,
    ToolsDocument,
    latest_documents,
    read_tools,
)
from workbench.services.scenarios.save import save_scenario
from workbench.services.scenarios.simulated_store import at_version
from workbench.services.scenarios.store import AnyRow, select_scenario
from workbench.services.scenarios.types import (
    ScenarioCreate,
    ScenarioDiff,
    ScenarioVersionView,
    ScenarioView,
    TurnSpec,
)
from workbench.services.scenarios.validation import validate_scenario
from workbench.services.scenarios.versions import content_of, diff_contents

VERSION_COLUMNS = (
    ScenarioVersion.scenario_id,
    ScenarioVersion.version,
    ScenarioVersion.note,
    ScenarioVersion.created_at,
    ScenarioVersion.snapshot,
)


class ScenarioHistory(UserScopedService):
    """Version history of the user's scenarios (the methods live on `wb.scenarios`)."""

    def history(self, scenario_id: str) -> list[ScenarioVersionView]:
        """Every saved version of the scenario, newest first."""
        with self._transaction() as session:
            select_scenario(session, self._user_id, scenario_id)
            rows = session.execute(
                select(*VERSION_COLUMNS)
                .where(ScenarioVersion.scenario_id == scenario_id)
                .order_by(ScenarioVersion.version.desc())
            ).all()
            return [self._view(session, row) for row in rows]

    def get_version(self, scenario_id: str, version: int) -> ScenarioVersionView:
        """The scenario as it was saved at `version`."""
        with self._transaction() as session:
            row = self._version_row(session, scenario_id, version)
            return self._view(session, row)

    def diff(self, scenario_id: str, from_version: int, to_version: int) -> ScenarioDiff:
        """What changed between two versions; `print()` it for a readable list.

        Removed turns are numbered as in `from_version`, added and changed ones as in
        `to_version`.
        """
        with self._transaction() as session:
            before = self._version_row(session, scenario_id, from_version)
            after = self._version_row(session, scenario_id, to_version)
            old = with_version_tools(content_of(before.snapshot, version=from_version),
                                     self._tools_at(session, before))  # fmt: skip
            new = with_version_tools(content_of(after.snapshot, version=to_version),
                                     self._tools_at(session, after))  # fmt: skip
            old = replace(old, turns=self._simulated(session, before, old.turns))
            new = replace(new, turns=self._simulated(session, after, new.turns))
        changes = diff_contents(old, new)
        return ScenarioDiff(scenario_id, from_version, to_version, changes)

    def restore(
        self, scenario_id: str, version: int, *, expected_version: int | None = None
    ) -> ScenarioView:
        """Bring back `version`'s content as a new version (the status is left as it is)."""
        with self._transaction() as session:
            row = self._version_row(session, scenario_id, version)
            content = with_version_tools(
                content_of(row.snapshot, version=version), self._tools_at(session, row)
            )
            content = replace(content, turns=self._simulated(session, row, content.turns))
            content = validate_scenario(content)
            values = {
                "name": content.name,
                "description": content.description,
                "locale": content.locale,
                "tags": content.tags,
            }
            return save_scenario(
                session,
                self._user_id,
                scenario_id,
                values,
                content.turns,
                expected_version=expected_version,
                allowed_from=None,
                note=f"restored version {version}",
                tools=content.tools,
            )

    def _view(self, session: Session, row: AnyRow) -> ScenarioVersionView:
        view = version_view(row, self._tools_at(session, row))
        return replace(view, turns=self._simulated(session, row, view.turns))

    def _simulated(
        self, session: Session, row: AnyRow, turns: tuple[TurnSpec, ...]
    ) -> tuple[TurnSpec, ...]:
        """The version's turns with its simulated blocks and judge turns (issue 21)."""
        return at_version(session, self._user_id, row.scenario_id, row.version, turns)

    def _tools_at(self, session: Session, row: AnyRow) -> VersionTools | None:
        """The tools document saved with this version (or before it: a web app's save)."""
        found = latest_documents(
            session, self._user_id, [row.scenario_id], TOOLS, version=row.version
        ).get(row.scenario_id)
        if found is None:
            return None
        return VersionTools(read_tools(found[1]), exact=found[0] == row.version)

    def _version_row(self, session: Session, scenario_id: str, version: int) -> AnyRow:
        row = session.execute(
            select(*VERSION_COLUMNS)
            .join(Scenario, Scenario.id == ScenarioVersion.scenario_id)
            .where(
                ScenarioVersion.scenario_id == scenario_id,
                Scenario.user_id == self._user_id,
                ScenarioVersion.version == version,
            )
        ).first()
        if row is None:
            select_scenario(session, self._user_id, scenario_id)  # NotFound if not yours
            raise NotFound(
                f"Scenario {quoted(scenario_id)} has no version {quoted(version)}; "
                "see wb.scenarios.history(id) for the versions it has."
            )
        return row


@dataclass(frozen=True)
class VersionTools:
    document: ToolsDocument
    exact: bool
    """Saved with this very version; else an older one's (the version is a web app's save,
    whose turns the checks were not written for: only the tools are carried)."""


def with_version_tools(content: ScenarioCreate, tools: VersionTools | None) -> ScenarioCreate:
    """A version's content with the tools and tool checks saved with it (by position)."""
    if tools is None:
        return content
    turns = list(content.turns)
    if tools.exact:
        for _turn_id, position, checks in tools.document.checks:
            if 0 <= position < len(turns):
                turns[position] = replace(turns[position], tool_checks=checks)
    return replace(content, tools=tools.document.tools, turns=tuple(turns))


def version_view(row: AnyRow, tools: VersionTools | None = None) -> ScenarioVersionView:
    content = with_version_tools(content_of(row.snapshot, version=row.version), tools)
    return ScenarioVersionView(
        scenario_id=row.scenario_id,
        version=row.version,
        note=row.note,
        created_at=row.created_at,
        name=content.name,
        description=content.description,
        locale=content.locale,
        status=content.status,
        tags=content.tags,
        turns=content.turns,
        tools=content.tools,
    )
