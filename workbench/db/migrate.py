"""Alembic, driven from Python: `workbench db upgrade` and the tests call these.

Every migration runs in one transaction (PostgreSQL has transactional DDL), so a failing
migration leaves the database exactly as it was.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from alembic.script import ScriptDirectory
from sqlalchemy.exc import DBAPIError

from workbench.db.base import WORKBENCH_SCHEMA
from workbench.db.engine import Database
from workbench.errors import ConfigError, WorkbenchError

CONTRACT_SCHEMAS = {None, "public", WORKBENCH_SCHEMA}
MIGRATION_LOCK = 0x776F726B62656E63  # "workbenc": the advisory lock that serialises upgrades


def include_name(name: str | None, type_: str, parent_names: Mapping[str, str | None]) -> bool:
    """What Alembic compares: the contract's schemas only, never Alembic's own table nor the
    role mapping `workbench db secure` creates (kept out of migrations on purpose)."""
    if type_ == "schema":
        return name in CONTRACT_SCHEMAS
    return not (type_ == "table" and name in ("alembic_version", "db_role_user"))


def context_options() -> dict[str, Any]:
    """The options env.py and the autogenerate test both configure Alembic with."""
    return {
        "version_table_schema": WORKBENCH_SCHEMA,
        "include_schemas": True,
        "include_name": include_name,
        "compare_type": True,
    }


def migrations_dir() -> Path:
    """The Alembic environment: packaged inside the wheel, or at the repository root."""
    packaged = Path(__file__).resolve().parents[1] / "_migrations"
    if packaged.is_dir():
        return packaged
    return Path(__file__).resolve().parents[2] / "migrations"


def alembic_config(database: Database | None = None) -> Config:
    config = Config()
    config.set_main_option("script_location", str(migrations_dir()))
    if database is not None:
        config.attributes["database"] = database
    return config


def head_revision() -> str:
    """The newest revision in `migrations/versions` (tests compare it to HEAD_REVISION)."""
    head = ScriptDirectory.from_config(alembic_config()).get_current_head()
    if head is None:
        raise ConfigError(f"No migrations found in {migrations_dir()}.")
    return head


def upgrade(database: Database, revision: str = "head") -> None:
    """Bring the schema up to `revision`; all or nothing."""
    _run(database, lambda config: command.upgrade(config, revision))


def downgrade(database: Database, revision: str = "base") -> None:
    """Take the schema down to `revision`; drops only what the workbench created."""
    _run(database, lambda config: command.downgrade(config, revision))


def _run(database: Database, action: Callable[[Config], None]) -> None:
    try:
        action(alembic_config(database))
    except WorkbenchError:
        raise
    except DBAPIError as error:
        detail = str(error.orig).strip().splitlines()[0] if error.orig else str(error)
        raise ConfigError(
            f"The migration failed and was rolled back; the database is unchanged. ({detail})"
        ) from None
