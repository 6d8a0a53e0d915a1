"""Issue 18, item 6: everything administrative works for an owner that is `LOGIN CREATEROLE` and
no superuser (as on Neon), and still for `postgres`; ending a user's access leaves a connection
they had open unable to read or write anything.

Each test runs for both owners, on a database of its own (roles made here have random names and
are dropped with it).
"""

from __future__ import annotations

import asyncio
import secrets
from collections.abc import Callable, Iterator
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import psycopg
import pytest
from sqlalchemy.engine import URL

import workbench
from tests.conftest import libpq
from tests.security.owners import (
    create_database,
    createrole_owner,
    createrole_owner_mode,
    drop_database,
)
from workbench.cli import main
from workbench.db.engine import Database, open_database
from workbench.db.migrate import upgrade
from workbench.db.security import lock_role, provision_role, revoke_role, secure_database
from workbench.errors import ConfigError
from workbench.jupyterhub import (
    ADMIN_URL_VARIABLE,
    lock_for_spawner,
    post_stop_hook,
    pre_spawn_hook,
)
from workbench.services.accounts.external import hub_user
from workbench.services.scenarios.types import ScenarioCreate, ScenarioUpdate
from workbench.services.scenarios.types import user as user_turn
from workbench.testing.roles import drop_mapped_roles

Conn = psycopg.Connection[tuple[Any, ...]]
SUPERUSER, CREATEROLE = "superuser", "createrole"


@dataclass(frozen=True)
class Owned:
    kind: str
    url: URL
    database: Database

    @property
    def libpq(self) -> str:
        return libpq(self.url)


@pytest.fixture(scope="module", params=[SUPERUSER, CREATEROLE])
def owned(request: pytest.FixtureRequest, server_url: URL) -> Iterator[Owned]:
    """A database upgraded and secured by its owner: `postgres`, or a CREATEROLE role."""
    admin = libpq(server_url)
    with ExitStack() as stack:
        owner = (
            stack.enter_context(createrole_owner(admin)) if request.param == CREATEROLE else None
        )
        name = f"wbtest_{request.param}_{secrets.token_hex(5)}"
        create_database(admin, name, owner)
        stack.callback(drop_database, admin, name)
        url = server_url.set(database=name)
        if owner is not None:
            url = url.set(username=owner, password=None)
        database = open_database(url.render_as_string(hide_password=False), check_schema=False)
        stack.callback(database.engine.dispose)
        upgrade(database)
        secure_database(database)
        stack.callback(drop_mapped_roles, database)
        yield Owned(request.param, url, database)


def test_the_owner_is_what_the_test_says(owned: Owned) -> None:
    with psycopg.connect(owned.libpq) as conn:
        row = conn.execute(
            "SELECT rolsuper, rolcreaterole FROM pg_roles WHERE rolname = current_user"
        ).fetchone()
    assert row == ((True, True) if owned.kind == SUPERUSER else (False, True))


def test_this_runs_scratch_databases_are_owned_as_it_says(secured_url: URL) -> None:
    """WORKBENCH_TEST_OWNER=createrole (.ci/run) really puts every other security test of the
    run in the hands of a CREATEROLE owner that is no superuser."""
    with psycopg.connect(libpq(secured_url)) as conn:
        row = conn.execute(
            "SELECT r.rolsuper, r.rolcreaterole, d.datdba = r.oid FROM pg_roles r, pg_database d "
            "WHERE r.rolname = current_user AND d.datname = current_database()"
        ).fetchone()
    assert row == ((False, True, True) if createrole_owner_mode() else (True, True, True))


def test_the_commands_and_the_hub_hooks_work_for_the_owner(
    owned: Owned, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    url = owned.url.render_as_string(hide_password=False)
    monkeypatch.setenv("DATABASE_URL", url)
    assert main(["db", "secure"]) == 0, capsys.readouterr().err
    assert "secured:" in capsys.readouterr().out
    user = hub_user(owned.database, hub_name="neon-ada@example.com")
    assert main(["users", "provision", user.email, "--print-url"]) == 0, capsys.readouterr().err
    role_url = capsys.readouterr().out.strip()
    assert signed_in_as(role_url) == user.id
    assert main(["users", "lock", user.email]) == 0, capsys.readouterr().err
    assert signed_in_as(role_url) is None
    assert main(["users", "provision", user.email]) == 0  # unlocks, with a new password
    assert main(["users", "revoke", user.email]) == 0, capsys.readouterr().err
    assert "is dropped" in capsys.readouterr().out
    monkeypatch.setenv(ADMIN_URL_VARIABLE, url)
    server = spawner("neon-bob")
    asyncio.run(pre_spawn_hook(server))
    spawned = server.environment["DATABASE_URL"]
    assert signed_in_as(spawned) is not None
    asyncio.run(post_stop_hook(server))
    assert signed_in_as(spawned) is None and "DATABASE_URL" not in server.environment


def spawner(name: str) -> SimpleNamespace:
    user = SimpleNamespace(name=name, spawners={})
    spawned = SimpleNamespace(user=user, environment={}, active=False)
    user.spawners[""] = spawned
    return spawned


def signed_in_as(url: str) -> str | None:
    """The user id a new connection with `url` gets, or None if the login is refused."""
    try:
        with psycopg.connect(url, connect_timeout=5) as conn:
            row = conn.execute("SELECT workbench.current_user_id()").fetchone()
    except psycopg.OperationalError as error:
        assert "not permitted to log in" in str(error) or "does not exist" in str(error)
        return None
    return None if row is None else str(row[0])


def end_by_lock(database: Database, user_id: str) -> None:
    lock_role(database, user_id)


def end_by_revoke(database: Database, user_id: str) -> None:
    revoke_role(database, user_id)


def end_by_post_stop_hook(database: Database, user_id: str) -> None:
    lock_for_spawner(spawner("open-post-stop hook"))  # the hub name the test signed in with


ENDINGS: dict[str, Callable[[Database, str], None]] = {
    "lock": end_by_lock,
    "revoke": end_by_revoke,
    "post-stop hook": end_by_post_stop_hook,
}


@pytest.mark.parametrize("ending", list(ENDINGS))
def test_a_connection_opened_before_the_end_reads_and_writes_nothing(
    owned: Owned, ending: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(ADMIN_URL_VARIABLE, owned.url.render_as_string(hide_password=False))
    user = hub_user(owned.database, hub_name=f"open-{ending}")  # the hook's name for them
    provisioned = provision_role(owned.database, user.id)
    url = provisioned.database_url()
    with (
        psycopg.connect(url, autocommit=True) as idle,
        psycopg.connect(url, autocommit=True) as reading,
        psycopg.connect(url, autocommit=True) as writing,
    ):
        idle.execute(NEW_SCENARIO, {"user": user.id, "name": "before"})
        for conn in (reading, writing):  # transactions open across the end of their access
            conn.execute("BEGIN")
            assert conn.execute('SELECT name FROM "Scenario"').fetchall() == [("before",)]
        ENDINGS[ending](owned.database, user.id)
        refused = [
            attempt(reading, 'SELECT name FROM "Scenario"'),
            attempt(writing, NEW_SCENARIO, {"user": user.id, "name": "after"}),
            *(attempt(idle, f"SELECT count(*) FROM {table}") for table in tables(owned)),
            attempt(idle, NEW_SCENARIO, {"user": user.id, "name": "after"}),
            attempt(idle, "SELECT workbench.current_user_id()"),
        ]
    assert all(refused), "a connection opened before the end still reached the database"
    assert signed_in_as(url) is None
    with psycopg.connect(owned.libpq) as admin:
        names = admin.execute('SELECT name FROM "Scenario" WHERE user_id = %s', (user.id,))
        assert names.fetchall() == [("before",)]


NEW_SCENARIO = (
    'INSERT INTO "Scenario" (id, user_id, name, "updatedAt") VALUES (gen_random_uuid()::text, '
    "%(user)s, %(name)s, now())"
)


def attempt(conn: Conn, statement: str, params: dict[str, object] | None = None) -> bool:
    """True if the server refused `statement` or the session was ended; False if it ran.

    The statement is the first after the end in its transaction (an aborted transaction's
    refusals would prove nothing)."""
    try:
        conn.execute(statement, params)
    except (psycopg.errors.InsufficientPrivilege, psycopg.OperationalError):
        return True
    except psycopg.errors.InFailedSqlTransaction:
        raise AssertionError("test bug: the transaction had already failed") from None
    return False


def tables(owned: Owned) -> list[str]:
    with psycopg.connect(owned.libpq) as admin:
        rows = admin.execute(
            "SELECT format('%I.%I', schemaname, tablename) FROM pg_tables "
            "WHERE schemaname IN ('public', 'workbench') ORDER BY 1"
        ).fetchall()
    return [str(row[0]) for row in rows]


def test_a_session_the_owner_may_not_end_is_cut_off_all_the_same(
    owned: Owned, server_url: URL
) -> None:
    """Where the owner has not the privileges of the user's role (here: a NOINHERIT owner, on
    15 and older), it cannot end the session; it is still left with no privilege at all."""
    if owned.kind == SUPERUSER:
        pytest.skip("a superuser ends every session")
    user = hub_user(owned.database, hub_name="cut-off")
    url = provision_role(owned.database, user.id).database_url()
    owner = owned.url.username
    with psycopg.connect(libpq(server_url), autocommit=True) as superuser:
        superuser.execute(f'ALTER ROLE "{owner}" NOINHERIT')
        try:
            with psycopg.connect(url, autocommit=True) as open_:
                lock_role(owned.database, user.id)
                assert attempt(open_, 'SELECT name FROM "Scenario"')
                assert attempt(open_, NEW_SCENARIO, {"user": user.id, "name": "after"})
        finally:
            superuser.execute(f'ALTER ROLE "{owner}" INHERIT')


def test_a_role_that_may_not_administer_gets_errors_that_say_what_to_do(
    owned: Owned, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    user = hub_user(owned.database, hub_name="not-an-admin")
    role_url = provision_role(owned.database, user.id).database_url()
    as_user = open_database(role_url)
    try:
        with pytest.raises(ConfigError, match="owner's URL") as refused:
            provision_role(as_user, user.id)
        assert "Traceback" not in str(refused.value)
    finally:
        as_user.engine.dispose()
    monkeypatch.setenv("DATABASE_URL", role_url)
    assert main(["db", "secure"]) == 1
    err = capsys.readouterr().err
    assert "changed nothing" in err and "owner's URL" in err and "Traceback" not in err


def test_a_role_with_an_attribute_that_lifts_rls_is_fixed_or_refused_with_the_fix(
    owned: Owned, server_url: URL
) -> None:
    """A superuser owner clears it; a CREATEROLE owner may not even name it, so it says what a
    superuser must run (and rotates nothing: the role is not handed out again)."""
    user = hub_user(owned.database, hub_name="bypassing")
    role = provision_role(owned.database, user.id).role
    with psycopg.connect(libpq(server_url), autocommit=True) as superuser:
        superuser.execute(f'ALTER ROLE "{role}" BYPASSRLS')
        if owned.kind == SUPERUSER:
            provision_role(owned.database, user.id)
        else:
            with pytest.raises(ConfigError, match=f'ALTER ROLE "{role}" NOBYPASSRLS'):
                provision_role(owned.database, user.id)
            superuser.execute(f'ALTER ROLE "{role}" NOBYPASSRLS')
        found = superuser.execute("SELECT rolbypassrls FROM pg_roles WHERE rolname = %s", (role,))
        assert found.fetchone() == (False,)


def test_a_role_without_delete_privilege_deletes_its_rows_through_every_service(
    owned: Owned, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """Per-user roles hold no DELETE (it would let them lock whole tables): every service that
    deletes does it through workbench.delete_rows once signed in from the role."""
    monkeypatch.setenv("WORKBENCH_HOME", str(tmp_path))
    user = hub_user(owned.database, hub_name="deleter")
    wb = workbench.connect(provision_role(owned.database, user.id).database_url(), quiet=True)
    try:
        assert wb.database.definer_deletes
        with psycopg.connect(
            wb.database.url.render_as_string(hide_password=False).replace("+psycopg", "")
        ) as conn:
            privileges = conn.execute(
                "SELECT bool_or(has_table_privilege(c.oid, 'DELETE')), "
                "bool_or(has_table_privilege(c.oid, 'TRUNCATE')) FROM pg_class c "
                "WHERE c.relnamespace IN ('public'::regnamespace, 'workbench'::regnamespace) "
                "AND c.relkind = 'r'"
            ).fetchone()
        assert privileges == (False, False)
        kept, gone = (
            wb.scenarios.create(ScenarioCreate(name=name, turns=(user_turn("hi"),)))
            for name in ("kept", "gone")
        )
        again = ScenarioUpdate(turns=(user_turn("again"),))
        wb.scenarios.update(kept.id, again, expected_version=kept.version)  # turns replaced
        suite = wb.suites.create(name="suite", scenario_ids=[kept.id, gone.id])
        wb.suites.remove(suite.id, gone.id)
        wb.scenarios.delete(gone.id)
        wb.suites.delete(suite.id)
        wb.prompts.delete(wb.prompts.create(name="p", content="hello").id)
        wb.variables.create(key="k", value="v")
        wb.variables.delete("k")
        with psycopg.connect(owned.libpq, autocommit=True) as admin:
            admin.execute(
                "INSERT INTO user_api_key (id, user_id, provider, key_name, encrypted_key, "
                "updated_at) VALUES (gen_random_uuid()::text, %s, 'openai', 'k', 'v2:x', now())",
                (user.id,),
            )
            admin.execute(
                "INSERT INTO workbench.response_cache (user_id, key, provider, model, reply, "
                "reply_model, created_at) VALUES (%s, 'key', 'openai', 'm', 'r', 'm', now())",
                (user.id,),
            )
        wb.api_keys.delete(provider="openai")
        assert wb.runs.clear_cache() == 1
        assert [s.name for s in wb.scenarios.list()] == ["kept"]
        left = [wb.suites.list(), wb.prompts.list(), wb.variables.list(), wb.api_keys.list()]
        assert [len(listed) for listed in left] == [0, 0, 0, 0]
    finally:
        wb.database.engine.dispose()
