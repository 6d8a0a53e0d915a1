"""The shared contract: every table, enum and index of schema.prisma, plus the workbench schema.

Revision ID: 0001_contract
Revises:
Create Date: 2026-11-26

The `public` objects are created by running Prisma's own generated SQL (`0001_contract.sql`,
frozen here), so a database the workbench builds is object for object what Prisma would build.
When `public` already holds the contract (a Prisma app migrated it), the migration verifies it
instead, records that `public` belongs to that app, and creates only the workbench's own objects.
"""

from __future__ import annotations

from pathlib import Path

import sqlalchemy as sa
from alembic import op

from workbench.db.contract import check_contract
from workbench.errors import ConfigError

revision = "0001_contract"
down_revision = None
branch_labels = None
depends_on = None

CONTRACT_SQL = Path(__file__).with_name("0001_contract.sql")
CONTRACT_TABLES = [
    "ScenarioExpectation",
    "ScenarioTurn",
    "ScenarioVersion",
    "ScenarioSuiteItem",
    "ScenarioSuite",
    "Scenario",
    "prompt",
    "variable",
    "user_api_key",
    "session",
    "account",
    "verification",
    "user",
]
CONTRACT_ENUMS = ["ScenarioStatus", "ScenarioTurnType", "ExpectationType", "PromptStatus"]


def upgrade() -> None:
    bind = op.get_bind()
    settings = op.create_table(
        "installation_setting",
        sa.Column("key", sa.Text(), nullable=False),
        sa.Column("value", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("key", name="installation_setting_pkey"),
        schema="workbench",
    )
    if bind.execute(sa.text("""SELECT to_regclass('public."user"')""")).scalar() is None:
        bind.exec_driver_sql(CONTRACT_SQL.read_text(encoding="utf-8"))
        owner = "workbench"
    else:
        report = check_contract(bind)
        if not report.matches:
            lines = "\n".join(f"  {difference}" for difference in report.differences)
            raise ConfigError(
                "The public schema already exists but does not match the contract; nothing was "
                f"changed. Differences:\n{lines}\nMigrate it with the web app (prisma migrate), "
                "then run `workbench db upgrade` again."
            )
        owner = "external"
    op.bulk_insert(settings, [{"key": "public_owner", "value": owner}])


def downgrade() -> None:
    bind = op.get_bind()
    owner = bind.execute(
        sa.text("SELECT value FROM workbench.installation_setting WHERE key = 'public_owner'")
    ).scalar()
    if owner == "workbench":
        for table in CONTRACT_TABLES:
            op.execute(sa.text(f'DROP TABLE "{table}"'))
        for enum in CONTRACT_ENUMS:
            op.execute(sa.text(f'DROP TYPE "{enum}"'))
    op.drop_table("installation_setting", schema="workbench")
