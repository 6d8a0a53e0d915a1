"""Variables: the user's named values that fill prompt placeholders (`{{company}}` ← "Acme").

>>> wb.variables.set_many({"company": "Acme", "tone": "friendly"})  # doctest: +SKIP
>>> wb.variables.get("company").value                             # doctest: +SKIP
'Acme'
"""

from __future__ import annotations

import builtins
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import Text, bindparam, or_, select, text
from sqlalchemy.orm import Session

from workbench.db.base import UTCDateTime
from workbench.db.columns import new_uuid
from workbench.db.models import Variable
from workbench.db.security.deletes import delete_rows
from workbench.errors import NotFound, quoted
from workbench.services._base import UserScopedService
from workbench.services._fields import (
    UNSET,
    Unset,
    checked_id,
    key_problems,
    page_problems,
    raise_problems,
    text_problems,
)
from workbench.services._variable_input import VariableInput, variable_inputs
from workbench.tables import VARIABLE_COLUMNS, typed_frame
from workbench.timeutil import utcnow

if TYPE_CHECKING:
    import pandas as pd

# One statement for any number of rows: the rows travel as four arrays (a constant number of
# parameters), and ON CONFLICT turns an existing key into an update.
UPSERT = """
INSERT INTO variable (id, user_id, key, value, description, created_at, updated_at)
SELECT v.id, :user_id, v.key, v.value, v.description, :now, :now
FROM unnest(
    CAST(:ids AS text[]), CAST(:keys AS text[]),
    CAST(:vals AS text[]), CAST(:descriptions AS text[])
) AS v(id, key, value, description)
ON CONFLICT (user_id, key) DO UPDATE SET
    value = EXCLUDED.value,
    description = {description},
    updated_at = EXCLUDED.updated_at
RETURNING id, key, value, description, created_at, updated_at
"""


@dataclass(frozen=True)
class VariableView:
    """A stored variable."""

    id: str
    key: str
    value: str
    description: str | None
    created_at: datetime
    updated_at: datetime


def variable_view(row: Any) -> VariableView:
    return VariableView(
        id=row.id,
        key=row.key,
        value=row.value,
        description=row.description,
        created_at=row.created_at,
        updated_at=row.updated_at,
    )


class VariableService(UserScopedService):
    """Create, read, update, delete and list the signed-in user's variables, one or many."""

    def create(self, *, key: str, value: str, description: str | None = None) -> VariableView:
        """Store a new variable; `Duplicate` (field "key") if you already have this key."""
        raise_problems(
            "Cannot create the variable",
            key_problems(key)
            + text_problems(value, "value")
            + text_problems(description, "description", optional=True),
        )
        now = utcnow()
        row = Variable(
            user_id=self._user_id,
            key=key,
            value=value,
            description=description,
            created_at=now,
            updated_at=now,
        )
        with self._transaction() as session:
            session.add(row)
            session.flush()
            return variable_view(row)

    def get(self, key: str) -> VariableView:
        """The variable with this key; `NotFound` if you have none."""
        with self._single_statement_read() as session:
            return variable_view(self._row(session, key))

    def list(
        self, *, search: str | None = None, limit: int | None = None, offset: int = 0
    ) -> builtins.list[VariableView]:
        """Your variables by key (A to Z), in one query; `search` matches key or description."""
        raise_problems(
            "Cannot list variables",
            text_problems(search, "search", optional=True) + page_problems(limit, offset),
        )
        statement = select(Variable).where(Variable.user_id == self._user_id)
        if search:
            statement = statement.where(
                or_(
                    Variable.key.icontains(search, autoescape=True),
                    Variable.description.icontains(search, autoescape=True),
                )
            )
        statement = statement.order_by(Variable.key).offset(offset).limit(limit)
        with self._single_statement_read() as session:
            return [variable_view(row) for row in session.scalars(statement)]

    def as_dict(self) -> dict[str, str]:
        """Every variable as `{key: value}`."""
        statement = select(Variable.key, Variable.value).where(Variable.user_id == self._user_id)
        with self._single_statement_read() as session:
            return {key: value for key, value in session.execute(statement.order_by(Variable.key))}

    def update(
        self,
        key: str,
        *,
        value: str | Unset = UNSET,
        description: str | Unset | None = UNSET,
    ) -> VariableView:
        """Change the value and/or description of the variable with this key."""
        problems = []
        if value is not UNSET:
            problems += text_problems(value, "value")
        if description is not UNSET:
            problems += text_problems(description, "description", optional=True)
        raise_problems("Cannot update the variable", problems)
        with self._transaction() as session:
            row = self._row(session, key, lock=True)
            if value is not UNSET or description is not UNSET:
                if not isinstance(value, Unset):
                    row.value = value
                if not isinstance(description, Unset):
                    row.description = description
                row.updated_at = utcnow()
                session.flush()
            return variable_view(row)

    def delete(self, key: str) -> None:
        """Delete the variable with this key; `NotFound` if you have none."""
        with self._transaction() as session:
            row = self._row(session, key, lock=True)
            delete_rows(session, Variable, Variable.id == row.id)

    def set_many(self, data: Mapping[str, str] | pd.DataFrame) -> builtins.list[VariableView]:
        """Insert or update many variables in one statement and one transaction.

        `data` is a dict `{key: value}` or a DataFrame with columns `key` and `value` and,
        optionally, `description` (a null description clears it). A dict leaves existing
        descriptions alone. Any invalid row: `ValidationError` listing every problem, and
        nothing is written. Returns the stored variables in the order given.

        >>> wb.variables.set_many({"company": "Acme", "tone": "friendly"})  # doctest: +SKIP
        >>> wb.variables.set_many(wb.variables.frame())                    # doctest: +SKIP
        """
        rows, with_descriptions = variable_inputs(data)
        if not rows:
            return []
        with self._transaction() as session:
            stored = {view.key: view for view in self._upsert(session, rows, with_descriptions)}
        return [stored[row.key] for row in rows]

    def frame(self, **filters: Any) -> pd.DataFrame:
        """Your variables as a DataFrame (see `workbench.frames.variables_frame`)."""
        variables = self.list(**filters)
        return typed_frame((vars(variable) for variable in variables), VARIABLE_COLUMNS)

    def _upsert(
        self, session: Session, rows: builtins.list[VariableInput], with_descriptions: bool
    ) -> builtins.list[VariableView]:
        description = "EXCLUDED.description" if with_descriptions else "variable.description"
        statement = (
            text(UPSERT.format(description=description))
            .bindparams(bindparam("now", type_=UTCDateTime()))
            .columns(
                id=Text,
                key=Text,
                value=Text,
                description=Text,
                created_at=UTCDateTime(),
                updated_at=UTCDateTime(),
            )
        )
        result = session.execute(
            statement,
            {
                "user_id": self._user_id,
                "now": utcnow(),
                "ids": [new_uuid() for _ in rows],
                "keys": [row.key for row in rows],
                "vals": [row.value for row in rows],
                "descriptions": [row.description for row in rows],
            },
        )
        return [variable_view(row) for row in result]

    def _row(self, session: Session, key: str, *, lock: bool = False) -> Variable:
        checked_id(key, "key")
        statement = select(Variable).where(Variable.user_id == self._user_id, Variable.key == key)
        row = session.scalar(statement.with_for_update() if lock else statement)
        if row is None:
            raise NotFound(f"No variable with key {quoted(key)}.")
        return row
