"""Deleting a user's own rows without the DELETE privilege, so that no user can lock a table.

PostgreSQL lets any role holding UPDATE, DELETE or TRUNCATE on a table (and, from 17, MAINTAIN)
take every lock on it, ACCESS EXCLUSIVE included (`LockTableAclCheck`, commands/lockcmds.c):
with DELETE on "Scenario", one user's role could `LOCK TABLE "Scenario"` in an open
transaction and freeze the web app and every other user. Only table-level privileges count
there, so per-user roles get UPDATE column by column (which does not count) and no DELETE at
all: they delete through `workbench.delete_rows(table, row ids)`, a SECURITY DEFINER function
that deletes those of the given rows that the table's own policy lets the caller see, and fails
(deleting nothing) if any given row is not one of them. The rows are picked and locked by the
caller first, `FOR UPDATE` under its policies, in the same statement:

    WITH doomed AS (SELECT ctid AS row_id, <returning> FROM t WHERE <where> FOR UPDATE)
    SELECT <returning> FROM doomed JOIN workbench.delete_rows('t', ARRAY(...)) ...

Services call `delete_rows(session, table, *where, returning=...)`: the plain DELETE for the
owner, this for a per-user role (`Database.definer_deletes`, set on sign-in from a role).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Executable,
    Result,
    Table,
    delete,
    func,
    literal,
    literal_column,
    select,
)
from sqlalchemy.dialects.postgresql import REGCLASS
from sqlalchemy.orm import Session

from workbench.db.engine import DEFINER_DELETES
from workbench.db.security.sql import GROUP_ROLE

DELETE_FUNCTION = "workbench.delete_rows"


def delete_function_statements(predicates: Mapping[str, str]) -> list[str]:
    """The function for `{quoted table: its policy's USING}`, and who may call it.

    Every branch re-applies the table's own policy: the function runs as the owner, whom row
    level security does not filter. Its argument is only compared, never spliced into SQL.
    """
    branches = "\n  ELS".join(
        f"""IF wb_target = '{table}'::regclass THEN
    RETURN QUERY DELETE FROM {table} WHERE ctid = ANY (wb_rows) AND ({using}) RETURNING ctid;"""
        for table, using in sorted(predicates.items())
    )
    body = (
        f"""{branches}
  ELSE
    RAISE EXCEPTION 'delete_rows: no such table of yours: %', wb_target
      USING ERRCODE = 'insufficient_privilege';
  END IF;"""
        if predicates
        else """RAISE EXCEPTION 'delete_rows: no such table of yours: %', wb_target
    USING ERRCODE = 'insufficient_privilege';"""
    )
    return [
        f"""CREATE OR REPLACE FUNCTION {DELETE_FUNCTION}(wb_target regclass, wb_rows tid[])
RETURNS SETOF tid LANGUAGE plpgsql VOLATILE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
#variable_conflict use_column
DECLARE
  deleted bigint;
BEGIN
  {body}
  GET DIAGNOSTICS deleted = ROW_COUNT;
  IF deleted <> coalesce(cardinality(wb_rows), 0) THEN
    RAISE EXCEPTION 'delete_rows: % of the % rows given are not yours to delete',
      coalesce(cardinality(wb_rows), 0) - deleted, coalesce(cardinality(wb_rows), 0)
      USING ERRCODE = 'insufficient_privilege';
  END IF;
END
$$""",
        f"REVOKE ALL ON FUNCTION {DELETE_FUNCTION}(regclass, tid[]) FROM PUBLIC",
        f"GRANT EXECUTE ON FUNCTION {DELETE_FUNCTION}(regclass, tid[]) TO {GROUP_ROLE}",
    ]


def delete_rows(
    session: Session,
    table: Any,
    *where: ColumnElement[bool],
    returning: Sequence[Any] = (),
) -> Result[Any]:
    """`DELETE FROM table WHERE ... RETURNING ...`, through the definer function when the
    session runs as a per-user role. `table` is a mapped class or a Table; `returning` its
    columns or mapped attributes."""
    if not session.info.get(DEFINER_DELETES, False):
        statement = delete(table).where(*where)
        return session.execute(statement.returning(*returning) if returning else statement)
    return session.execute(_through_definer(getattr(table, "__table__", table), where, returning))


def _through_definer(
    target: Table, where: Sequence[ColumnElement[bool]], returning: Sequence[Any]
) -> Executable:
    doomed = (
        select(literal_column("ctid").label("row_id"), *returning)
        .select_from(target)
        .where(*where)
        .with_for_update()
        .cte("doomed")
    )
    ids = select(func.array_agg(doomed.c.row_id)).scalar_subquery()
    name = f"{target.schema or 'public'}.{target.name}"
    quoted = ".".join('"' + part.replace('"', '""') + '"' for part in name.split(".", 1))
    called = func.workbench.delete_rows(literal(quoted).cast(REGCLASS), ids)
    gone = called.table_valued("row_id").render_derived(name="gone")
    columns = list(doomed.c)[1:] or [doomed.c.row_id]  # `returning`, in the order given
    return select(*columns).select_from(doomed.join(gone, doomed.c.row_id == gone.c.row_id))


def definer_delete_sql(table: str, where: str, returning: str = "") -> str:
    """The SQL of `DELETE FROM table WHERE where RETURNING returning` for a per-user role.

    `table` is quoted and schema-qualified; `returning` is a list of plain column names. The
    statement returns `returning` (or the deleted row ids) for each row deleted.
    """
    listed = f", {returning}" if returning else ""
    out = returning or "doomed.row_id"
    return f"""WITH doomed AS (SELECT ctid AS row_id{listed} FROM {table} WHERE {where} FOR UPDATE)
SELECT {out} FROM doomed JOIN {DELETE_FUNCTION}('{table}'::regclass,
    ARRAY(SELECT row_id FROM doomed)) AS gone(row_id) ON gone.row_id = doomed.row_id"""
