"""`workbench db secure`: idempotent, leaves the contract intact, refuses unknown tables."""

from __future__ import annotations

from collections.abc import Callable

import psycopg
import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import text
from sqlalchemy.engine import URL

from tests.conftest import libpq
from tests.security.hub import Hub
from workbench.cli import main
from workbench.db.engine import open_database
from workbench.db.migrate import context_options, downgrade, upgrade
from workbench.db.models import Base
from workbench.db.security import secure
from workbench.errors import ConfigError


def policies(url: URL) -> set[tuple[str, str, str]]:
    with psycopg.connect(libpq(url)) as conn:
        rows = conn.execute("SELECT schemaname, tablename, qual FROM pg_policies").fetchall()
    return {(str(s), str(t), str(q)) for s, t, q in rows}


def test_secure_twice_changes_nothing_and_db_check_still_matches(
    secured_url: URL, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    before = policies(secured_url)
    monkeypatch.setenv("DATABASE_URL", secured_url.render_as_string(hide_password=False))
    assert main(["db", "secure"]) == 0
    assert "secured:" in capsys.readouterr().out
    assert policies(secured_url) == before and len(before) >= 17
    assert main(["db", "check"]) == 0
    assert "matches" in capsys.readouterr().out


def test_alembic_autogenerate_ignores_the_mapping(secured_url: URL) -> None:
    database = open_database(secured_url.render_as_string(hide_password=False))
    with database.engine.connect() as conn:
        context = MigrationContext.configure(conn, opts=context_options())
        assert compare_metadata(context, Base.metadata) == []
    database.engine.dispose()


def test_a_new_table_with_a_user_column_gets_its_policy(secured_url: URL) -> None:
    with psycopg.connect(libpq(secured_url), autocommit=True) as admin:
        admin.execute('CREATE TABLE public."Note" (id text PRIMARY KEY, "userId" text NOT NULL)')
        try:
            database = open_database(secured_url.render_as_string(hide_password=False))
            with database.engine.begin() as connection:
                report = secure(connection)
            database.engine.dispose()
            assert report.tables['"public"."Note"'] == "own rows (userId)"
            assert any(t == "Note" and '"userId"' in q for _, t, q in policies(secured_url))
        finally:
            admin.execute('DROP TABLE public."Note"')


def test_an_unknown_table_fails_the_command_and_changes_nothing(secured_url: URL) -> None:
    with psycopg.connect(libpq(secured_url), autocommit=True) as admin:
        admin.execute("CREATE TABLE public.audit (id text PRIMARY KEY, what text)")
        admin.execute('DROP POLICY wb_user_rows ON "prompt"')  # must stay dropped on failure
        try:
            database = open_database(secured_url.render_as_string(hide_password=False))
            with (
                pytest.raises(ConfigError, match=r'"public"\."audit"'),
                database.engine.begin() as connection,
            ):
                secure(connection)
            assert not any(t == "prompt" for _, t, _ in policies(secured_url))
            rls = admin.execute("SELECT relrowsecurity FROM pg_class WHERE relname = 'audit'")
            assert rls.fetchone() == (False,)
        finally:
            admin.execute("DROP TABLE public.audit")
            with database.engine.begin() as connection:
                secure(connection)
            database.engine.dispose()


def test_policies_evaluate_the_id_once_and_use_the_user_id_index(hub: Hub) -> None:
    with hub.admin() as admin:  # a large table, or the planner rightly prefers a scan
        admin.execute(
            'INSERT INTO "Scenario" (id, user_id, name, "updatedAt") SELECT '
            "'bulk' || g, %s, 'bulk' || g, now() FROM generate_series(1, 20000) g",
            (hub.a.user_id,),
        )
        admin.execute('ANALYZE "Scenario"')
    try:
        with hub.b.connect() as b:
            plan = "\n".join(
                str(row[0])
                for row in b.execute(
                    'EXPLAIN SELECT id FROM "Scenario" ORDER BY "updatedAt" DESC LIMIT 50'
                ).fetchall()
            )
    finally:
        with hub.admin() as admin:
            admin.execute("DELETE FROM \"Scenario\" WHERE id LIKE 'bulk%%'")
    assert "InitPlan" in plan and "Index" in plan and "Seq Scan" not in plan, plan


def test_downgrade_still_works_on_a_secured_database(scratch_database: Callable[[], URL]) -> None:
    url = scratch_database()
    database = open_database(url.render_as_string(hide_password=False), check_schema=False)
    upgrade(database)
    with database.engine.begin() as connection:
        secure(connection)
    downgrade(database)
    with database.engine.connect() as connection:
        left = connection.execute(
            text("SELECT count(*) FROM pg_tables WHERE schemaname = 'public'")
        ).scalar()
    database.engine.dispose()
    assert left == 0
