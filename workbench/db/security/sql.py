"""The fixed SQL of the isolation setup: names, the mapping table and the definer function."""

from __future__ import annotations

from workbench.db.base import WORKBENCH_SCHEMA

GROUP_ROLE = "wb_user"
ROLE_PREFIX = "wbu_"
POLICY_PREFIX = "wb_user_"
MAPPING_TABLE = "db_role_user"
MAPPING = f"{WORKBENCH_SCHEMA}.{MAPPING_TABLE}"
FUNCTION = f"{WORKBENCH_SCHEMA}.current_user_id"
# A scalar subquery: the planner runs it once per statement (an InitPlan) and compares the
# user_id column with a constant, so the user_id indexes stay usable.
ME = f"(SELECT {FUNCTION}())"


def quote_table(schema: str, table: str) -> str:
    return '"{}"."{}"'.format(schema.replace('"', '""'), table.replace('"', '""'))


def setup_statements() -> list[str]:
    """Idempotent: safe to run again after every `db upgrade` and every web-app migration."""
    return [
        # Cluster-wide, so two databases on one server may race to create it: either wins.
        f"""DO $$ BEGIN
              IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = '{GROUP_ROLE}') THEN
                CREATE ROLE {GROUP_ROLE} NOLOGIN;
              END IF;
            EXCEPTION WHEN duplicate_object OR unique_violation THEN NULL;
            END $$""",
        f"ALTER ROLE {GROUP_ROLE} NOLOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOBYPASSRLS",
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
        f"""CREATE OR REPLACE FUNCTION {FUNCTION}() RETURNS text
            LANGUAGE sql STABLE SECURITY DEFINER PARALLEL SAFE
            SET search_path = pg_catalog, pg_temp
            AS $$ SELECT m.user_id FROM {MAPPING} m WHERE m.role_name = session_user $$""",
        f"REVOKE ALL ON FUNCTION {FUNCTION}() FROM PUBLIC",
        f"GRANT EXECUTE ON FUNCTION {FUNCTION}() TO {GROUP_ROLE}",
        f"GRANT USAGE ON SCHEMA public, {WORKBENCH_SCHEMA} TO {GROUP_ROLE}",
        # PostgreSQL 15's default, restated for databases created on older servers: a user who
        # can create a function or view in a shared schema could plant one for others to call.
        f"REVOKE CREATE ON SCHEMA public, {WORKBENCH_SCHEMA} FROM PUBLIC",
        f"REVOKE CREATE ON SCHEMA public, {WORKBENCH_SCHEMA} FROM {GROUP_ROLE}",
    ]
