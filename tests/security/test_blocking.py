"""Issue 18, items 7 and 8b: one user's role can block nobody, and sees only counts of others.

B, connected as their own role, tries to freeze the others: table locks, the locks the
administrative paths used to wait on, an open transaction. The administrative paths here
connect with a session `lock_timeout` (a URL option), so code that would hang for ever fails
the test instead; the workbench's own bound (WORKBENCH_LOCK_TIMEOUT) is shorter.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import psycopg
import pytest
from psycopg import sql
from sqlalchemy.engine import URL

from tests.security.hub import Hub
from tests.security.test_attacks import catalog_tables, ident
from workbench.cli import main
from workbench.db.engine import Database, current_revision, open_database
from workbench.db.migrate import MIGRATION_LOCK, upgrade
from workbench.db.revision import HEAD_REVISION
from workbench.db.security import provision_role, secure_database
from workbench.db.security.policies import SECURE_LOCK
from workbench.errors import ConfigError
from workbench.services.accounts.external import hub_user

Conn = psycopg.Connection[tuple[Any, ...]]
# Modes that would stop other users' reads or writes, or every DDL, while B holds them.
BLOCKING = (
    "SHARE UPDATE EXCLUSIVE",
    "SHARE",
    "SHARE ROW EXCLUSIVE",
    "EXCLUSIVE",
    "ACCESS EXCLUSIVE",
)


def admin_url(hub: Hub) -> str:
    """The owner's URL, with a lock_timeout a hang would run into (5 s)."""
    url = hub.admin_url.update_query_dict({"options": "-c lock_timeout=5000"})
    return url.render_as_string(hide_password=False)


@pytest.fixture
def admin(hub: Hub) -> Iterator[Database]:
    database = open_database(admin_url(hub))
    yield database
    database.engine.dispose()


def test_b_may_take_no_table_lock_that_blocks_others(hub: Hub) -> None:
    taken = []
    with hub.admin() as owner, hub.b.connect() as b:
        for schema, table in catalog_tables(owner):
            for mode in BLOCKING:
                statement = sql.SQL("LOCK TABLE {} IN {} MODE NOWAIT").format(
                    ident(schema, table), sql.SQL(mode)
                )
                b.execute("BEGIN")
                try:
                    b.execute(statement)
                    taken.append(f"{mode} on {schema}.{table}")
                except psycopg.errors.InsufficientPrivilege:
                    pass
                finally:
                    b.execute("ROLLBACK")
        # What remains: ROW EXCLUSIVE, which every INSERT takes anyway. It conflicts with
        # DDL and CREATE INDEX only, never with another user's reads and writes.
        b.execute("BEGIN")
        b.execute('LOCK TABLE "Scenario" IN ROW EXCLUSIVE MODE NOWAIT')
        b.execute("ROLLBACK")
    assert taken == []


def test_b_holding_every_advisory_lock_stops_no_administrative_path(
    hub: Hub, admin: Database
) -> None:
    """The keys `db upgrade`, `db secure` and a hub sign-in used to wait on, held by B."""
    keys = [MIGRATION_LOCK, SECURE_LOCK]
    with hub.b.connect() as b:
        for key in keys:
            b.execute("SELECT pg_advisory_lock(%s)", (key,))
        b.execute("SELECT pg_advisory_lock(hashtextextended('workbench:jupyterhub:carol', 0))")
        upgrade(admin)
        secure_database(admin)
        carol = hub_user(admin, hub_name="carol")  # what the pre-spawn hook does
        provision_role(admin, carol.id)
        # Nor can B take what they wait on now: a row of workbench.admin_lock.
        for statement in (
            "SELECT name FROM workbench.admin_lock FOR UPDATE",
            "LOCK TABLE workbench.admin_lock IN ACCESS SHARE MODE",
            "INSERT INTO workbench.admin_lock (name) VALUES ('schema') ON CONFLICT DO NOTHING",
        ):
            b.execute("BEGIN")
            with pytest.raises(psycopg.errors.InsufficientPrivilege):
                b.execute(statement)
            b.execute("ROLLBACK")


def test_a_users_open_transaction_makes_db_secure_fail_fast_naming_them(
    hub: Hub, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("DATABASE_URL", admin_url(hub))
    monkeypatch.setenv("WORKBENCH_LOCK_TIMEOUT", "1")
    b_email = f"{hub.b.marker}@example.com"
    with hub.b.connect() as b:
        b.execute("BEGIN")
        b.execute('SELECT name FROM "Scenario"')  # holds ACCESS SHARE until the transaction ends
        pid = b.info.backend_pid
        assert main(["db", "secure"]) == 1
        err = capsys.readouterr().err
        assert f"pid {pid} (role {hub.b.role.role}, user {b_email}, idle in transaction" in err
        assert 'AccessShareLock on "Scenario"' in err and "workbench users lock" in err
        assert err.count("pid ") == 1  # B alone: not the waiting command itself
        # The remedy the message names works: B's sessions end, and the command goes through.
        assert main(["users", "lock", b_email]) == 0
        with pytest.raises(psycopg.OperationalError):
            b.execute("SELECT 1")
    capsys.readouterr()
    assert main(["db", "secure"]) == 0, capsys.readouterr().err
    provision_role(hub.database, hub.b.user_id)  # B may log in again (trust: same URL)


def test_per_user_roles_start_with_bounded_waits_which_they_may_lift(hub: Hub) -> None:
    """Role defaults bound honest sessions only: PostgreSQL lets any session SET them."""
    with hub.b.connect() as b:
        shown = {
            name: b.execute(sql.SQL("SHOW {}").format(sql.Identifier(name))).fetchone()
            for name in ("lock_timeout", "idle_in_transaction_session_timeout", "statement_timeout")
        }
        b.execute("SET lock_timeout = 0")
        lifted = b.execute("SHOW lock_timeout").fetchone()
    assert shown == {
        "lock_timeout": ("30s",),
        "idle_in_transaction_session_timeout": ("10min",),
        "statement_timeout": ("15min",),
    }
    assert lifted == ("0",)


def test_b_cannot_delete_a_rows_through_the_definer_function(hub: Hub) -> None:
    with hub.admin() as owner:
        found = owner.execute(
            'SELECT ctid::text FROM "Scenario" WHERE name = %s', (hub.a.marker,)
        ).fetchone()
        assert found is not None
    guesses = [f"({page},{item})" for page in range(4) for item in range(1, 60)]
    attempts = [
        ('"public"."Scenario"', [found[0]]),
        ('"public"."Scenario"', guesses),
        ('"public"."user"', guesses),
        ('"public"."session"', guesses),
        ('"workbench"."admin_lock"', guesses),
    ]
    with hub.b.connect() as b:
        for table, rows in attempts:
            with pytest.raises(psycopg.errors.InsufficientPrivilege):
                b.execute(
                    "SELECT * FROM workbench.delete_rows(%s::regclass, %s::tid[])", (table, rows)
                )
    with hub.admin() as owner:
        left = owner.execute('SELECT count(*) FROM "Scenario" WHERE name = %s', (hub.a.marker,))
        assert left.fetchone() == (1,)


def test_what_b_still_sees_of_the_others_is_counts_never_rows(hub: Hub) -> None:
    """docs/isolation.md, "What it does not protect": activity statistics are revoked where
    the owner is a superuser; row estimates, sizes and sequence values stay visible."""
    with hub.admin() as owner:
        superuser = owner.execute("SELECT rolsuper FROM pg_roles WHERE rolname = current_user")
        revoked = bool((superuser.fetchone() or (False,))[0])
        owner.execute('ANALYZE "Scenario"')
    with hub.b.connect() as b:
        statistics = [
            "SELECT n_live_tup FROM pg_stat_user_tables WHERE relname = 'Scenario'",
            "SELECT pg_stat_get_live_tuples('\"Scenario\"'::regclass)",
            "SELECT xact_commit FROM pg_stat_database WHERE datname = current_database()",
        ]
        readable = [statement for statement in statistics if not refused(b, statement)]
        assert readable == ([] if revoked else statistics)
        estimate = b.execute("SELECT reltuples FROM pg_class WHERE relname = 'Scenario'")
        assert (estimate.fetchone() or (0,))[0] >= 2  # A's and B's rows, counted
        turn = b.execute("SELECT nextval(pg_get_serial_sequence('\"ScenarioTurn\"', 'id'))")
        assert (turn.fetchone() or (0,))[0] >= 2  # everyone's turns so far, plus one
        assert b.execute('SELECT count(*) FROM "Scenario"').fetchone() == (1,)  # B's own row


def refused(b: Conn, statement: str) -> bool:
    try:
        b.execute(statement).fetchall()
    except psycopg.errors.InsufficientPrivilege:
        return True
    return False


def test_upgrading_a_fresh_database_waits_at_most_the_timeout_naming_the_holder(
    hub: Hub, scratch_database: Callable[[], URL], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Until migration 0005 has made admin_lock, `db upgrade` still takes the old advisory lock,
    which any role that may connect (PUBLIC may, to a new database) can hold: bounded, named."""
    url = scratch_database().update_query_dict({"options": "-c lock_timeout=5000"})
    database = open_database(url.render_as_string(hide_password=False), check_schema=False)
    monkeypatch.setenv("WORKBENCH_LOCK_TIMEOUT", "1")
    there = hub.b.role.url.set(database=url.database).render_as_string(hide_password=False)
    try:
        with psycopg.connect(there.replace("+psycopg", ""), autocommit=True) as b:
            b.execute("SELECT pg_advisory_lock(%s)", (MIGRATION_LOCK,))
            with pytest.raises(ConfigError, match="it waited 1 s for a lock") as waited:
                upgrade(database)
            named = f"pid {b.info.backend_pid} (role {hub.b.role.role}"
            assert named in str(waited.value) and "advisory lock" in str(waited.value)
            assert current_revision(database) is None  # nothing was changed
        upgrade(database)
        assert current_revision(database) == HEAD_REVISION
    finally:
        database.engine.dispose()
