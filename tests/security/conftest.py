"""A secured scratch database with two users, A and B, each with rows in every table and a role.

Roles are cluster-wide: every role the module provisions is dropped at the end, even when a test
fails (the teardown runs before the scratch database itself is dropped).
"""

from __future__ import annotations

import secrets
from collections.abc import Callable, Iterator

import psycopg
import pytest
from sqlalchemy import text
from sqlalchemy.engine import URL

from tests.conftest import libpq
from tests.security.hub import Hub, Person, seed
from workbench.db.engine import Database, open_database
from workbench.db.migrate import upgrade
from workbench.db.security import provision_role, secure
from workbench.testing.roles import drop_mapped_roles


@pytest.fixture(scope="module")
def secured_url(scratch_database: Callable[[], URL]) -> URL:
    url = scratch_database()
    database = open_database(url.render_as_string(hide_password=False), check_schema=False)
    upgrade(database)
    with database.engine.begin() as connection:
        secure(connection)
    database.engine.dispose()
    return url


@pytest.fixture(scope="module")
def hub(secured_url: URL) -> Iterator[Hub]:
    database = open_database(secured_url.render_as_string(hide_password=False))
    people = []
    try:
        with psycopg.connect(libpq(secured_url), autocommit=True) as admin:
            for label in ("a", "b"):
                tag = f"{label}secret{secrets.token_hex(5)}"
                seed(admin, f"User{tag}", tag)
            admin.execute("ANALYZE")  # so pg_stats has histograms to try to read
        for user_id in (f"User{row}" for row in _markers(database)):
            people.append(Person(user_id, user_id[4:], provision_role(database, user_id)))
        yield Hub(database, secured_url, people[0], people[1])
    finally:
        drop_mapped_roles(database)
        database.engine.dispose()


def _markers(database: Database) -> list[str]:
    with database.engine.connect() as connection:
        ids = connection.execute(text('SELECT id FROM "user" ORDER BY email')).scalars().all()
    return [str(user_id)[4:] for user_id in ids]
