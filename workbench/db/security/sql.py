"""The fixed SQL of the isolation setup: names, the mapping table and the definer function."""

from __future__ import annotations

from workbench.db.base import WORKBENCH_SCHEMA

GROUP_ROLE = "wb_user"
ROLE_PREFIX = "wbu_"
POLICY_PREFIX = "wb_user_"
MAPPING_TABLE = "db_role_user"
MAPPING = f"{WORKBENCH_SCHEMA}.{MAPPING_TABLE}"
FUNCTION = f"{WORKBENCH_SCHEMA}.current_user_id"
COUNTS_FUNCTION = f"{WORKBENCH_SCHEMA}.scenario_counts"
"""Turn and expectation counts of the caller's own scenarios among `ids` (the catalog page)."""
# A scalar subquery: the planner runs it once per statement (an InitPlan) and compares the
# user_id column with a constant, so the user_id indexes stay usable.
ME = f"(SELECT {FUNCTION}())"


# The catalog page counts each scenario's turns and expectations. Under the child tables'
# policies every counted row would check its parent scenario (an index probe per row: the page
# of 50 took 2.6x the owner's time), so a per-user role counts through this definer function:
# the counts run as the owner, for the caller's own scenarios only (`me` from session_user, as
# in every policy). plpgsql, so its plan is cached; `(s.user_id = me) IS TRUE` keeps the
# planner from ANDing a bitmap of all the caller's scenarios (10,000 in the benchmark) with the
# page's ids.
COUNTS_DEFINITION = f"""
CREATE OR REPLACE FUNCTION {COUNTS_FUNCTION}(ids text[])
RETURNS TABLE (id text, turns bigint, expectations bigint)
LANGUAGE plpgsql STABLE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
#variable_conflict use_column
DECLARE
    me text := {FUNCTION}();
BEGIN
    RETURN QUERY
    SELECT s.id,
        (SELECT count(*) FROM public."ScenarioTurn" t WHERE t."scenarioId" = s.id),
        (SELECT count(*) FROM public."ScenarioExpectation" e WHERE e."scenarioId" = s.id)
    FROM public."Scenario" s
    WHERE s.id = ANY (ids) AND (s.user_id = me) IS TRUE;
END
$$"""


def quote_table(schema: str, table: str) -> str:
    return '"{}"."{}"'.format(schema.replace('"', '""'), table.replace('"', '""'))


def setup_statements() -> list[str]:
    """Idempotent: safe to run again after every `db upgrade` and every web-app migration.

    `wb_user` itself is made first, by attributes.ensure_group_role."""
    return [
        # Kept out of the migrations: Prisma never sees it and Alembic ignores it. No foreign
        # key to "user": it would stop the web app's migrations (and `db downgrade`) from
        # dropping that table. A deleted user's mapping points at no row, so shows nothing.
        f"""CREATE TABLE IF NOT EXISTS {MAPPING} (
              role_name text PRIMARY KEY,
              user_id text NOT NULL UNIQUE
            )""",
        f"REVOKE ALL ON {MAPPING} FROM PUBLIC",
        # session_user, not current_user: inside a definer function current_user is its owner.
        # A pinned search_path (pg_temp last) so no object a caller creates can stand in.
        # plpgsql, not sql: a definer function is never inlined, and PostgreSQL plans a sql
        # function's query again on every call (0.1-0.2 ms a statement); plpgsql keeps the plan.
        f"""CREATE OR REPLACE FUNCTION {FUNCTION}() RETURNS text
            LANGUAGE plpgsql STABLE SECURITY DEFINER PARALLEL SAFE
            SET search_path = pg_catalog, pg_temp
            AS $$ BEGIN
              RETURN (SELECT m.user_id FROM {MAPPING} m WHERE m.role_name = session_user);
            END $$""",
        f"REVOKE ALL ON FUNCTION {FUNCTION}() FROM PUBLIC",
        f"GRANT EXECUTE ON FUNCTION {FUNCTION}() TO {GROUP_ROLE}",
        COUNTS_DEFINITION,
        f"REVOKE ALL ON FUNCTION {COUNTS_FUNCTION}(text[]) FROM PUBLIC",
        f"GRANT EXECUTE ON FUNCTION {COUNTS_FUNCTION}(text[]) TO {GROUP_ROLE}",
        f"GRANT USAGE ON SCHEMA public, {WORKBENCH_SCHEMA} TO {GROUP_ROLE}",
        # PostgreSQL 15's default, restated for databases created on older servers: a user who
        # can create a function or view in a shared schema could plant one for others to call.
        f"REVOKE CREATE ON SCHEMA public, {WORKBENCH_SCHEMA} FROM PUBLIC",
        f"REVOKE CREATE ON SCHEMA public, {WORKBENCH_SCHEMA} FROM {GROUP_ROLE}",
    ]
