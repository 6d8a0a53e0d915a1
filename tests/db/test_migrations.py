"""Alembic builds the whole contract, undoes it, and agrees with the models."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import text
from sqlalchemy.engine import URL

from workbench.db.base import WORKBENCH_SCHEMA
from workbench.db.contract import CONTRACT_SQL, check_contract
from workbench.db.engine import Database, current_revision, open_database
from workbench.db.migrate import (
    context_options,
    downgrade,
    head_revision,
    migrations_dir,
    upgrade,
)
from workbench.db.models import Base
from workbench.db.revision import HEAD_REVISION
from workbench.errors import ConfigError

SHARED_SCHEMA = Path(__file__).resolve().parents[3] / "shared" / "schema.sql"


def fresh(scratch_database: Callable[[], URL]) -> Database:
    return open_database(
        scratch_database().render_as_string(hide_password=False), check_schema=False
    )


def tables_in(database: Database, schema: str) -> set[str]:
    with database.engine.connect() as conn:
        rows = conn.execute(
            text("SELECT tablename FROM pg_tables WHERE schemaname = :s"), {"s": schema}
        )
        return {row[0] for row in rows}


def test_upgrade_builds_exactly_the_contract(migrated_database: Database) -> None:
    with migrated_database.engine.connect() as conn:
        report = check_contract(conn)
    assert report.differences == []
    assert report.allowed == []


def test_alembic_and_workbench_tables_live_in_the_workbench_schema(
    migrated_database: Database,
) -> None:
    assert "alembic_version" not in tables_in(migrated_database, "public")
    assert {"alembic_version", "installation_setting"} <= tables_in(
        migrated_database, WORKBENCH_SCHEMA
    )
    assert current_revision(migrated_database) == HEAD_REVISION


def test_head_revision_constant_matches_the_migrations() -> None:
    assert head_revision() == HEAD_REVISION


def test_autogenerate_finds_nothing_to_do(migrated_database: Database) -> None:
    with migrated_database.engine.connect() as conn:
        context = MigrationContext.configure(conn, opts=context_options())
        assert compare_metadata(context, Base.metadata) == []


def test_downgrade_to_base_and_upgrade_again(scratch_database: Callable[[], URL]) -> None:
    database = fresh(scratch_database)
    upgrade(database)
    downgrade(database)
    assert tables_in(database, "public") == set()
    assert tables_in(database, WORKBENCH_SCHEMA) == {"alembic_version"}
    with database.engine.connect() as conn:
        enums = conn.execute(text("SELECT count(*) FROM pg_type WHERE typtype = 'e'")).scalar()
    assert enums == 0
    upgrade(database)
    with database.engine.connect() as conn:
        assert check_contract(conn).matches


def test_a_failing_migration_leaves_the_database_as_it_was(
    scratch_database: Callable[[], URL],
) -> None:
    database = fresh(scratch_database)
    with database.engine.begin() as conn:  # a stray table makes the contract SQL fail midway
        conn.execute(text('CREATE TABLE "ScenarioTurn" (id int)'))
    with pytest.raises(ConfigError, match="rolled back; the database is unchanged"):
        upgrade(database)
    assert tables_in(database, "public") == {"ScenarioTurn"}
    assert current_revision(database) is None
    assert tables_in(database, WORKBENCH_SCHEMA) == set()


def test_upgrade_beside_a_prisma_app_only_touches_the_workbench_schema(
    scratch_database: Callable[[], URL],
) -> None:
    database = fresh(scratch_database)
    with database.engine.begin() as conn:
        conn.exec_driver_sql(CONTRACT_SQL.read_text())
        conn.execute(text('ALTER TABLE "account" ADD COLUMN "issuer" TEXT'))
    upgrade(database)
    with database.engine.connect() as conn:
        owner = conn.execute(
            text("SELECT value FROM workbench.installation_setting WHERE key = 'public_owner'")
        ).scalar()
    assert owner == "external"
    downgrade(database)
    assert "Scenario" in tables_in(database, "public")  # the app's tables are not ours to drop


def test_upgrade_refuses_a_public_schema_that_differs_and_changes_nothing(
    scratch_database: Callable[[], URL],
) -> None:
    database = fresh(scratch_database)
    with database.engine.begin() as conn:
        conn.exec_driver_sql(CONTRACT_SQL.read_text())
        conn.execute(text('DROP INDEX "Scenario_user_id_status_idx"'))
    with pytest.raises(ConfigError, match="missing index Scenario_user_id_status_idx"):
        upgrade(database)
    assert current_revision(database) is None


def test_the_bundled_contract_is_the_shared_one() -> None:
    frozen = migrations_dir() / "versions" / "0001_contract.sql"
    assert frozen.read_text() == CONTRACT_SQL.read_text()
    if SHARED_SCHEMA.exists():  # absent in a plain clone, where the bundled copy stands alone
        assert SHARED_SCHEMA.read_text() == CONTRACT_SQL.read_text()
