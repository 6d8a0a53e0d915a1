"""A scratch database for a benchmark: created, migrated, and dropped when the run ends.

The server is `WORKBENCH_BENCH_DATABASE_URL` when set (e.g. the machine's PostgreSQL), else the
embedded one.
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Iterator
from contextlib import contextmanager

import psycopg
from psycopg import sql
from sqlalchemy.engine import URL

from workbench.db.engine import Database, open_database
from workbench.db.migrate import upgrade
from workbench.db.url import DRIVER, parse_database_url


def libpq(url: URL) -> str:
    return url.render_as_string(hide_password=False).replace(DRIVER, "postgresql", 1)


def server_url() -> URL:
    raw = os.environ.get("WORKBENCH_BENCH_DATABASE_URL")
    if raw:
        return parse_database_url(raw, source="WORKBENCH_BENCH_DATABASE_URL")
    from workbench.db.embedded import ensure_server

    return ensure_server().set(database="postgres")


@contextmanager
def scratch_database(prefix: str) -> Iterator[tuple[Database, str]]:
    """A migrated scratch database: the workbench's Database and a libpq string for psycopg."""
    admin = server_url()
    name = f"{prefix}_{secrets.token_hex(4)}"
    with psycopg.connect(libpq(admin), autocommit=True) as conn:
        conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    url = admin.set(database=name)
    database = open_database(url.render_as_string(hide_password=False), check_schema=False)
    try:
        upgrade(database)
        print(f"scratch database {name} on {admin.host or admin.query.get('host')}")
        yield database, libpq(url)
    finally:
        database.engine.dispose()
        with psycopg.connect(libpq(admin), autocommit=True) as conn:
            conn.execute(
                sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
            )
