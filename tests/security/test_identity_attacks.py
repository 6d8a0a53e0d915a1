"""B tries to become A, or somebody, or to reach around the policies: every way is closed."""

from __future__ import annotations

from typing import Any

import psycopg

from tests.security.hub import Hub

Conn = psycopg.Connection[Any]
READ_A = 'SELECT count(*) FROM "Scenario" WHERE name = %s'


def refused(b: Conn, statement: str, params: Any = None) -> bool:
    """Whether the server refuses `statement`; tried in a transaction that is rolled back."""
    b.execute("BEGIN")
    try:
        b.execute(statement, params)
        return False
    except psycopg.Error:
        return True
    finally:
        b.execute("ROLLBACK")


def a_rows_after(b: Conn, setup: str, params: Any, marker: str) -> int | None:
    """A's scenarios B sees after `setup` (None when the setup itself was refused)."""
    b.execute("BEGIN")
    try:
        try:
            b.execute(setup, params)
        except psycopg.Error:
            return None
        try:
            row = b.execute(READ_A, (marker,)).fetchone()
        except psycopg.errors.InsufficientPrivilege:  # row_security = off: refused, not lifted
            return None
        return int(row[0]) if row else 0
    finally:
        b.execute("ROLLBACK")


def test_b_cannot_switch_identity_or_spoof_the_id(hub: Hub) -> None:
    a_role, a_id, marker = hub.a.role.role, hub.a.user_id, hub.a.marker
    setups: list[tuple[str, Any]] = [
        (f'SET ROLE "{a_role}"', None),
        ("SET ROLE postgres", None),
        ("SET ROLE wb_user", None),  # refused on 16+; on 15 allowed, and session_user stays B
        (f'SET SESSION AUTHORIZATION "{a_role}"', None),
        ("SELECT set_config('role', %s, false)", (a_role,)),
        ("SELECT set_config('session_authorization', %s, false)", (a_role,)),
        ("SELECT set_config('workbench.user_id', %s, false)", (a_id,)),
        ("SELECT set_config('request.jwt.claim.sub', %s, false)", (a_id,)),
        ("SET row_security = off", None),  # B's queries then fail rather than bypass
        (
            'SET search_path = pg_temp, public; CREATE TEMP TABLE "Scenario" AS '
            "SELECT 'x'::text AS name",
            None,
        ),
    ]
    seen = {
        setup: a_rows_after(b, setup, params, marker)
        for b in [hub.b.connect()]
        for setup, params in setups
    }
    leaked = {setup: count for setup, count in seen.items() if count}
    assert leaked == {}
    assert seen[f'SET ROLE "{a_role}"'] is None and seen["SET ROLE postgres"] is None
    assert seen[f'SET SESSION AUTHORIZATION "{a_role}"'] is None


def test_b_cannot_read_the_mapping_nor_misuse_the_definer_function(hub: Hub) -> None:
    with hub.b.connect() as b:
        assert refused(b, "SELECT * FROM workbench.db_role_user")
        assert refused(b, "SELECT workbench.current_user_id(%s)", (hub.a.role.role,))
        assert refused(b, "SELECT workbench.current_user_id(%s::name)", (hub.a.role.role,))
        assert refused(b, "ALTER FUNCTION workbench.current_user_id() SECURITY INVOKER")
        assert refused(
            b,
            "CREATE OR REPLACE FUNCTION workbench.current_user_id() RETURNS text "
            "LANGUAGE sql AS $$ SELECT 'x' $$",
        )
        row = b.execute("SELECT workbench.current_user_id(), session_user").fetchone()
        assert row == (hub.b.user_id, hub.b.role.role)


def test_the_catalog_counting_function_counts_only_the_callers_scenarios(hub: Hub) -> None:
    # It runs as the owner (past the child tables' policies), so it must filter by itself.
    with hub.admin() as admin:
        ids = {
            marker: admin.execute('SELECT id FROM "Scenario" WHERE name = %s', (marker,)).fetchone()
            for marker in (hub.a.marker, hub.b.marker)
        }
    a_id, b_id = (str(found[0]) for found in (ids[hub.a.marker], ids[hub.b.marker]) if found)
    with hub.b.connect() as b:
        counted = b.execute(
            "SELECT id, turns, expectations FROM workbench.scenario_counts(%s)", ([a_id, b_id],)
        ).fetchall()
        assert counted == [(b_id, 1, 1)]  # B's own scenario, counted; A's id yields nothing
        assert b.execute("SELECT * FROM workbench.scenario_counts(%s)", ([a_id],)).fetchall() == []
        assert refused(b, "ALTER FUNCTION workbench.scenario_counts(text[]) SECURITY INVOKER")
        assert refused(
            b,
            "CREATE OR REPLACE FUNCTION workbench.scenario_counts(ids text[]) RETURNS TABLE "
            "(id text, turns bigint, expectations bigint) LANGUAGE sql AS $$ SELECT 'x', 1::bigint,"
            " 1::bigint $$",
        )
    with hub.admin() as admin:  # the owner is mapped to nobody: it counts nothing through it
        assert (
            admin.execute("SELECT * FROM workbench.scenario_counts(%s)", ([a_id],)).fetchall() == []
        )


def test_b_cannot_plant_objects_or_lift_the_policies(hub: Hub) -> None:
    planted = [
        "CREATE FUNCTION public.leak() RETURNS SETOF text LANGUAGE sql SECURITY DEFINER "
        'AS $$ SELECT name FROM "Scenario" $$',
        "CREATE FUNCTION workbench.leak() RETURNS int LANGUAGE sql AS $$ SELECT 1 $$",
        'CREATE VIEW public.leak AS SELECT * FROM "Scenario"',
        'CREATE VIEW workbench.leak AS SELECT * FROM "Scenario"',
        'ALTER TABLE "Scenario" DISABLE ROW LEVEL SECURITY',
        'ALTER TABLE "Scenario" NO FORCE ROW LEVEL SECURITY',
        'DROP POLICY wb_user_rows ON "Scenario"',
        'CREATE POLICY mine ON "Scenario" TO wb_user USING (true)',
        f'GRANT wb_user TO "{hub.b.role.role}" WITH ADMIN OPTION',
        f'GRANT "{hub.a.role.role}" TO "{hub.b.role.role}"',
        "CREATE ROLE sneaky LOGIN SUPERUSER",
        f'ALTER ROLE "{hub.b.role.role}" BYPASSRLS',
        'TRUNCATE "Scenario"',
        "INSERT INTO workbench.db_role_user VALUES ('x', 'y')",
        'ALTER TABLE "Scenario" OWNER TO wb_user',
    ]
    with hub.b.connect() as b:
        allowed = [statement for statement in planted if not refused(b, statement)]
    assert allowed == []


def test_temporary_functions_and_views_run_as_b_and_see_only_b(hub: Hub) -> None:
    escapes = [
        "CREATE FUNCTION pg_temp.leak() RETURNS SETOF text LANGUAGE sql SECURITY DEFINER "
        'AS $$ SELECT name FROM public."Scenario" $$',
        'CREATE TEMP VIEW leak_view AS SELECT name FROM public."Scenario"',
        "CREATE TEMP VIEW leak_invoker WITH (security_invoker = false) AS "
        'SELECT name FROM public."Scenario"',
    ]
    reads = ["SELECT pg_temp.leak()", "SELECT name FROM leak_view", "SELECT name FROM leak_invoker"]
    with hub.b.connect() as b:
        b.execute("BEGIN")
        for statement in escapes:
            b.execute(statement)
        seen = [str(row[0]) for read in reads for row in b.execute(read).fetchall()]
        b.execute("ROLLBACK")
    assert seen and all(hub.b.marker in name for name in seen)


def test_the_owner_still_sees_everyone(hub: Hub) -> None:
    with hub.admin() as admin:
        names = {row[0] for row in admin.execute('SELECT name FROM "Scenario"').fetchall()}
        keys = admin.execute("SELECT count(*) FROM user_api_key").fetchone()
        mapped = admin.execute("SELECT count(*) FROM workbench.db_role_user").fetchone()
    assert {hub.a.marker, hub.b.marker} <= names
    assert keys is not None and keys[0] >= 2 and mapped is not None and mapped[0] >= 2
