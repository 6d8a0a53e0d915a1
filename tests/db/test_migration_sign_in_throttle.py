"""Migration 0002 adds the sign-in throttle table to the workbench schema, and takes it away."""

from __future__ import annotations

from collections.abc import Callable

from sqlalchemy import text
from sqlalchemy.engine import URL

from workbench.db.engine import Database, current_revision, open_database
from workbench.db.migrate import downgrade, upgrade

THROTTLE_INDEX = "sign_in_failure_email_failed_at_idx"


def throttle_objects(database: Database) -> set[str]:
    with database.engine.connect() as conn:
        rows = conn.execute(
            text(
                "SELECT schemaname || '.' || tablename FROM pg_tables WHERE tablename = :t "
                "UNION SELECT schemaname || '.' || indexname FROM pg_indexes WHERE indexname = :i"
            ),
            {"t": "sign_in_failure", "i": THROTTLE_INDEX},
        )
        return {row[0] for row in rows}


def test_the_throttle_table_lives_in_the_workbench_schema_and_goes_on_downgrade(
    scratch_database: Callable[[], URL],
) -> None:
    database = open_database(
        scratch_database().render_as_string(hide_password=False), check_schema=False
    )
    expected = {"workbench.sign_in_failure", f"workbench.{THROTTLE_INDEX}"}
    upgrade(database, "0002_sign_in_throttle")
    assert throttle_objects(database) == expected
    downgrade(database, "0001_contract")
    assert throttle_objects(database) == set()
    assert current_revision(database) == "0001_contract"
    upgrade(database, "0002_sign_in_throttle")
    assert throttle_objects(database) == expected
