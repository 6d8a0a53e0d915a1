"""`ScenarioService`: a user's scenarios: create, read, update, delete, duplicate, list, lifecycle.

Every save (create, update, status change, restore) is one transaction that bumps `version`
(a new scenario is version 1) and writes a `"ScenarioVersion"` snapshot of the whole scenario.

>>> s = wb.scenarios.create(ScenarioCreate(name="Greeting", turns=[user("Hi"),
...                                        expect(must_contain("hello"))]))   # doctest: +SKIP
>>> s = wb.scenarios.update(s.id, ScenarioUpdate(tags=["smoke"]),
...                         expected_version=s.version)                       # doctest: +SKIP
>>> wb.scenarios.publish(s.id)                                                # doctest: +SKIP

Lifecycle: DRAFT → PUBLISHED (`publish`), DRAFT or PUBLISHED → ARCHIVED (`archive`), PUBLISHED
or ARCHIVED → DRAFT (`restore_to_draft`). ARCHIVED → PUBLISHED goes through DRAFT. Any other
move is a `ValidationError`; `update(status=...)` follows the same rules.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from workbench.db.columns import new_uuid
from workbench.db.enums import ScenarioStatus
from workbench.db.models import Scenario
from workbench.db.security.deletes import delete_rows
from workbench.errors import Duplicate, NotFound, quoted
from workbench.services.common import UNSET, Page
from workbench.services.scenarios.bulk import NewScenario, insert_scenarios
from workbench.services.scenarios.extensions import load_view
from workbench.services.scenarios.history import ScenarioHistory
from workbench.services.scenarios.listing import SortKey, TagMatch, list_scenarios
from workbench.services.scenarios.save import TRANSITIONS, explain_refusal, save_scenario
from workbench.services.scenarios.types import (
    ScenarioCreate,
    ScenarioSummary,
    ScenarioUpdate,
    ScenarioView,
)
from workbench.services.scenarios.validation import NAME_MAX, validate_scenario, validate_update
from workbench.tables import ALL_ROWS, SCENARIO_COLUMNS, typed_frame
from workbench.timeutil import utcnow

if TYPE_CHECKING:
    import pandas as pd

COPY_SUFFIX = re.compile(r"^(?P<base>.*) \(copy(?: (?P<n>\d+))?\)$", re.DOTALL)
NAME_UNIQUE = "Scenario_user_id_name_key"


class ScenarioService(ScenarioHistory):
    """The signed-in user's scenarios. Reach it as `wb.scenarios`."""

    def create(self, spec: ScenarioCreate) -> ScenarioView:
        """Save a new scenario with its turns (version 1). `Duplicate` if the name is taken."""
        spec = validate_scenario(spec)
        item = NewScenario(new_uuid(), spec, utcnow(), "created")
        with self._transaction() as session:
            insert_scenarios(session, self._user_id, [item])
            return load_view(session, self._user_id, item.id)

    def get(self, scenario_id: str) -> ScenarioView:
        """The scenario with its turns and expectations; `NotFound` if it is not yours."""
        with self._transaction() as session:
            return load_view(session, self._user_id, scenario_id)

    def get_by_name(self, name: str) -> ScenarioView:
        """The scenario called `name` (names are unique per user)."""
        with self._transaction() as session:
            found = session.scalar(
                select(Scenario.id).where(Scenario.user_id == self._user_id, Scenario.name == name)
            )
            if found is None:
                raise not_found_by_name(name)
            return load_view(session, self._user_id, found)

    def frame(self, **filters: Any) -> pd.DataFrame:
        """Your scenarios as a DataFrame, one row per scenario with its turn and expectation
        counts; `filters` are `list`'s (status, tags, search, sort, ...), every match by default
        (see `workbench.frames.scenarios_frame`).

        >>> wb.scenarios.frame(status="PUBLISHED")                    # doctest: +SKIP
        """
        page = self.list(**{**ALL_ROWS, **filters})
        return typed_frame((vars(summary) for summary in page), SCENARIO_COLUMNS)

    def update(
        self, scenario_id: str, changes: ScenarioUpdate, *, expected_version: int
    ) -> ScenarioView:
        """Apply `changes` if the scenario is still at `expected_version`, else `Conflict`.

        Fields left unset keep their value; `turns`, when given, replaces every turn.
        """
        changes = validate_update(changes)
        values: dict[str, Any] = {
            name: getattr(changes, name)
            for name in ("name", "description", "locale", "status", "tags")
            if getattr(changes, name) is not UNSET
        }
        allowed = None
        if isinstance(changes.status, ScenarioStatus):
            allowed = TRANSITIONS[changes.status] | {changes.status}
        with self._transaction() as session:
            return save_scenario(
                session,
                self._user_id,
                scenario_id,
                values,
                changes.turns,
                expected_version=expected_version,
                allowed_from=allowed,
                note="updated",
                tools=changes.tools,
            )

    def delete(self, scenario_id: str, *, expected_version: int | None = None) -> None:
        """Delete the scenario, its turns, versions and suite memberships."""
        with self._transaction() as session:
            where = [Scenario.id == scenario_id, Scenario.user_id == self._user_id]
            if expected_version is not None:
                where.append(Scenario.version == expected_version)
            deleted = delete_rows(session, Scenario, *where, returning=[Scenario.id]).first()
            if deleted is None:
                explain_refusal(session, self._user_id, scenario_id, expected_version, None)

    def duplicate(self, scenario_id: str, *, name: str | None = None) -> ScenarioView:
        """A DRAFT copy named `name`, or "X (copy)", "X (copy 2)", ... whichever is free."""
        with self._transaction() as session:
            source = load_view(session, self._user_id, scenario_id)
            note = f"duplicated from {quoted(source.name)} version {source.version}"
            if name is not None:
                spec = validate_scenario(source.to_create(name=name, status=ScenarioStatus.DRAFT))
                item = NewScenario(new_uuid(), spec, utcnow(), note)
                insert_scenarios(session, self._user_id, [item])
                return load_view(session, self._user_id, item.id)
            return self._insert_copy(session, source, note)

    def list(
        self,
        *,
        status: ScenarioStatus | str | Iterable[ScenarioStatus | str] | None = None,
        tags: str | Iterable[str] | None = None,
        tag_match: TagMatch = "any",
        search: str | None = None,
        sort: SortKey = "updated_at",
        descending: bool | None = None,
        offset: int = 0,
        limit: int | None = 50,
        count_total: bool = True,
    ) -> Page[ScenarioSummary]:
        """A page of summaries with turn and expectation counts, in one query.

        `status`: one or several; `tags`: scenarios with any of them (`tag_match="all"`: with
        every one); `search`: text in the name or description, case-insensitive, `%` and `_`
        taken literally. Sorted newest first (`sort="updated_at"`) or A to Z (`sort="name"`);
        `descending` reverses. `limit=None` returns every match; `count_total=False` leaves
        `total` as None and skips counting.

        >>> page = wb.scenarios.list(status="PUBLISHED", tags=["smoke"], limit=20)  # doctest: +SKIP
        """
        with self._single_statement_driver() as driver:
            return list_scenarios(
                driver,
                self._user_id,
                status=status,
                tags=tags,
                tag_match=tag_match,
                search=search,
                sort=sort,
                descending=descending,
                offset=offset,
                limit=limit,
                count_total=count_total,
                definer_counts=self._database.definer_counts,
            )

    def publish(self, scenario_id: str, *, expected_version: int | None = None) -> ScenarioView:
        """DRAFT → PUBLISHED."""
        return self.set_status(
            scenario_id, ScenarioStatus.PUBLISHED, expected_version=expected_version
        )

    def archive(self, scenario_id: str, *, expected_version: int | None = None) -> ScenarioView:
        """DRAFT or PUBLISHED → ARCHIVED."""
        return self.set_status(
            scenario_id, ScenarioStatus.ARCHIVED, expected_version=expected_version
        )

    def restore_to_draft(
        self, scenario_id: str, *, expected_version: int | None = None
    ) -> ScenarioView:
        """PUBLISHED or ARCHIVED → DRAFT."""
        return self.set_status(scenario_id, ScenarioStatus.DRAFT, expected_version=expected_version)

    def set_status(
        self,
        scenario_id: str,
        status: ScenarioStatus | str,
        *,
        expected_version: int | None = None,
    ) -> ScenarioView:
        """Move the scenario to `status` if the lifecycle allows it (a new version)."""
        target = validate_update(ScenarioUpdate(status=status)).status
        assert isinstance(target, ScenarioStatus)
        with self._transaction() as session:
            return save_scenario(
                session,
                self._user_id,
                scenario_id,
                {"status": target},
                UNSET,
                expected_version=expected_version,
                allowed_from=TRANSITIONS[target],
                note=f"status {target.value}",
            )

    def _insert_copy(self, session: Session, source: ScenarioView, note: str) -> ScenarioView:
        """Try "X (copy)", "X (copy 2)", ...; a name taken meanwhile just moves on to the next."""
        match = COPY_SUFFIX.match(source.name)
        base = match.group("base") if match else source.name
        taken = set(
            session.scalars(
                select(Scenario.name).where(
                    Scenario.user_id == self._user_id,
                    Scenario.name.startswith(base, autoescape=True),
                )
            )
        )
        number = 1
        for _attempt in range(100):
            while copy_name(base, number) in taken:
                number += 1
            candidate = copy_name(base, number)
            spec = source.to_create(name=candidate, status=ScenarioStatus.DRAFT)
            item = NewScenario(new_uuid(), validate_scenario(spec), utcnow(), note)
            try:
                with session.begin_nested():
                    insert_scenarios(session, self._user_id, [item])
            except IntegrityError as error:
                if constraint_of(error) != NAME_UNIQUE:
                    raise
                taken.add(candidate)
                continue
            return load_view(session, self._user_id, item.id)
        raise Duplicate(
            f"Duplicate name: no free name for a copy of {quoted(source.name)}.", field="name"
        )


def copy_name(base: str, number: int) -> str:
    """ "X (copy)" for the first copy, then "X (copy 2)", ..., shortened to fit 200 characters."""
    suffix = " (copy)" if number == 1 else f" (copy {number})"
    return base[: NAME_MAX - len(suffix)] + suffix


def not_found_by_name(name: str) -> NotFound:
    return NotFound(f"No scenario named {quoted(name)}; check the name (wb.scenarios.list()).")


def constraint_of(error: IntegrityError) -> str | None:
    diag = getattr(error.orig, "diag", None)
    return getattr(diag, "constraint_name", None)
