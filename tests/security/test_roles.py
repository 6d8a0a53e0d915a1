"""Provisioning, rotating, locking and revoking a role, on a server that checks passwords.

Both servers the suite normally uses trust local connections, so only the private scram server
(tests/db/test_connection_errors.py) can show that an old password is refused.
"""

from __future__ import annotations

import asyncio
import logging
import re
from collections.abc import Iterator
from types import SimpleNamespace
from urllib.parse import urlsplit

import psycopg
import pytest
from sqlalchemy import text

import workbench
from tests.db.test_connection_errors import PASSWORD, password_server  # noqa: F401 - a fixture
from tests.security.owners import create_database, createrole_owner_mode
from tests.services.scenarios.test_scenario_io import GREETING_YAML
from workbench.cli import main
from workbench.db.engine import Database, open_database
from workbench.db.migrate import upgrade
from workbench.db.security import (
    lock_role,
    provision_role,
    revoke_role,
    role_name_for,
    secure,
    secure_database,
)
from workbench.errors import ConfigError, NotFound
from workbench.jupyterhub import post_stop_hook, pre_spawn_hook
from workbench.services.accounts.external import hub_user
from workbench.services.scenarios.types import ScenarioCreate
from workbench.services.scenarios.types import user as user_turn


def secured_database_on(port: int, name: str) -> str:
    """A new database `name` on the private password-checking server, upgraded and secured;
    its administrative URL: `postgres`, or with WORKBENCH_TEST_OWNER=createrole a
    `LOGIN CREATEROLE` owner as on Neon. (The server is private and dropped with its directory:
    the roles made on it go with it.)"""
    server = f"postgresql://postgres:{PASSWORD}@127.0.0.1:{port}/postgres"
    owner = None
    if createrole_owner_mode():
        owner = f"wbowner_{name}"
        with psycopg.connect(server, autocommit=True) as conn:
            conn.execute(f"CREATE ROLE {owner} LOGIN CREATEROLE PASSWORD '{PASSWORD}'")
    create_database(server, name, owner)
    url = f"postgresql://{owner or 'postgres'}:{PASSWORD}@127.0.0.1:{port}/{name}"
    database = open_database(url, check_schema=False)
    upgrade(database)
    with database.engine.begin() as connection:
        secure(connection)
    database.engine.dispose()
    return url


def superuser_url(url: str) -> str:
    """The same database as `postgres` (to read what only a superuser may, like pg_authid)."""
    parts = urlsplit(url)
    return parts._replace(netloc=f"postgres:{PASSWORD}@{parts.hostname}:{parts.port}").geturl()


@pytest.fixture(scope="module")
def admin_url(password_server: int) -> Iterator[str]:  # noqa: F811 - the imported fixture
    yield secured_database_on(password_server, "hub")


@pytest.fixture
def admin(admin_url: str) -> Iterator[Database]:
    database = open_database(admin_url)
    yield database
    database.engine.dispose()


def refused(url: str) -> bool:
    try:
        psycopg.connect(url, connect_timeout=5).close()
    except psycopg.OperationalError as error:
        return "authentication failed" in str(error) or "not permitted to log in" in str(error)
    return False


def test_provision_rotates_lock_refuses_and_revoke_drops(admin: Database) -> None:
    user = hub_user(admin, hub_name="rotating")
    first = provision_role(admin, user.id)
    with psycopg.connect(first.database_url()) as conn:
        assert conn.execute("SELECT workbench.current_user_id()").fetchone() == (user.id,)
    second = provision_role(admin, user.id)
    assert second.role == first.role and second.password != first.password
    assert refused(first.database_url()) and not refused(second.database_url())
    assert lock_role(admin, user.id) == first.role
    assert refused(second.database_url())
    third = provision_role(admin, user.id)
    assert not refused(third.database_url())
    assert revoke_role(admin, user.id) == first.role
    assert refused(third.database_url())
    with admin.engine.connect() as conn:
        left = conn.execute(
            text("SELECT count(*) FROM pg_roles WHERE rolname = :r"), {"r": first.role}
        )
        assert left.scalar() == 0
    with pytest.raises(NotFound):
        revoke_role(admin, user.id)


def test_the_password_is_in_no_repr_log_or_error(
    admin: Database, admin_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    logging.getLogger("sqlalchemy.engine").setLevel(logging.INFO)  # echo every statement
    try:
        provisioned = provision_role(admin, hub_user(admin, hub_name="quiet").id)
    finally:
        logging.getLogger("sqlalchemy.engine").setLevel(logging.WARNING)
    assert len(provisioned.password) >= 40
    assert provisioned.password not in repr(provisioned) + str(provisioned)
    assert provisioned.password not in caplog.text and "ALTER ROLE" in caplog.text
    superuser = open_database(superuser_url(admin_url))
    with superuser.engine.connect() as conn:  # the server saw a SCRAM verifier, never the password
        stored = conn.execute(
            text("SELECT rolpassword FROM pg_authid WHERE rolname = :r"), {"r": provisioned.role}
        ).scalar()
    superuser.engine.dispose()
    assert str(stored).startswith("SCRAM-SHA-256$") and provisioned.password not in str(stored)


def test_connect_with_a_role_url_signs_in_as_its_user_and_services_work(
    admin: Database, monkeypatch: pytest.MonkeyPatch, tmp_path: object
) -> None:
    monkeypatch.setenv("WORKBENCH_HOME", str(tmp_path))
    monkeypatch.setenv("JUPYTERHUB_API_URL", "http://127.0.0.1:9/hub/api")  # never consulted
    monkeypatch.setenv("JUPYTERHUB_API_TOKEN", "not-used")
    ada, bob = hub_user(admin, hub_name="ada"), hub_user(admin, hub_name="bob")
    handles = [workbench.connect(provision_role(admin, u.id).database_url()) for u in (ada, bob)]
    try:
        assert [h.user.id for h in handles] == [ada.id, bob.id]
        handles[0].scenarios.create(ScenarioCreate(name="ada's", turns=(user_turn("hi"),)))
        handles[0].import_scenarios(GREETING_YAML)  # COPY is refused under RLS: INSERTs instead
        assert {s.name for s in handles[0].scenarios.list()} == {"ada's", "Greeting"}
        assert len(handles[1].scenarios.list()) == 0
        handles[1].variables.create(key="k", value="v")
        assert handles[1].variables.get("k").value == "v"
        assert len(handles[0].variables.list()) == 0
    finally:
        for handle in handles:
            handle.database.engine.dispose()


def test_cli_provision_prints_the_url_only_when_asked(
    admin: Database,
    admin_url: str,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setenv("DATABASE_URL", admin_url)
    user = hub_user(admin, hub_name="cli@example.com")
    assert main(["users", "provision", "CLI@example.com"]) == 0
    quiet = capsys.readouterr().out
    assert "wbu_" in quiet and "postgresql://" not in quiet
    assert main(["users", "provision", user.id, "--print-url"]) == 0
    url = capsys.readouterr().out.strip()
    assert url.startswith("postgresql://wbu_") and not refused(url)
    assert main(["users", "revoke", "cli@example.com"]) == 0
    assert refused(url)
    assert main(["users", "revoke", "nobody@example.com"]) == 1
    assert "No user with email" in capsys.readouterr().err


def spawner(name: str, environment: dict[str, str]) -> SimpleNamespace:
    """What the hooks use of a JupyterHub Spawner: its user's name, servers and environment."""
    user = SimpleNamespace(name=name, spawners={})
    spawned = SimpleNamespace(user=user, environment=environment, active=False)
    user.spawners[""] = spawned
    return spawned


def test_the_hub_hooks_give_each_spawn_a_fresh_role_and_lock_it_on_stop(
    admin: Database, admin_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("WORKBENCH_ADMIN_DATABASE_URL", admin_url)
    asyncio.run(spawn_and_stop())


async def spawn_and_stop() -> None:
    shared = {"ENCRYPTION_KEY": "configured"}  # c.Spawner.environment, shared by every spawner
    carol, dave = spawner("carol", shared), spawner("dave", shared)
    await pre_spawn_hook(carol)
    await pre_spawn_hook(dave)
    assert shared == {"ENCRYPTION_KEY": "configured"}  # each spawner got its own dict
    urls = [s.environment["DATABASE_URL"] for s in (carol, dave)]
    assert len(set(urls)) == 2 and carol.environment["ENCRYPTION_KEY"] == "configured"
    with psycopg.connect(urls[0]) as conn:
        row = conn.execute('SELECT u.name FROM "user" u').fetchall()
    assert row == [("carol",)]
    carol.user.spawners["other"] = SimpleNamespace(active=True)  # a named server still runs
    await post_stop_hook(carol)
    assert not refused(urls[0])
    del carol.user.spawners["other"]
    await post_stop_hook(carol)
    assert refused(urls[0]) and "DATABASE_URL" not in carol.environment
    await pre_spawn_hook(carol)
    assert carol.environment["DATABASE_URL"] != urls[0] and not refused(
        carol.environment["DATABASE_URL"]
    )


def test_on_16_and_later_roles_made_by_another_role_are_refused_with_the_fix(
    admin_url: str,
    password_server: int,  # noqa: F811 - the imported fixture
) -> None:
    """PostgreSQL 16+ lets a CREATEROLE owner manage only the roles it made itself or holds
    ADMIN OPTION on. (admin_url's database made wb_user already, as another role.)"""
    server = f"postgresql://postgres:{PASSWORD}@127.0.0.1:{password_server}/postgres"
    with psycopg.connect(server, autocommit=True) as superuser:
        version = superuser.execute("SHOW server_version_num").fetchone()
        if version is None or int(version[0]) < 160000:
            pytest.skip("PostgreSQL 15 and older let CREATEROLE manage any role")
        superuser.execute(f"CREATE ROLE wbowner_sixteen LOGIN CREATEROLE PASSWORD '{PASSWORD}'")
        create_database(server, "sixteen", "wbowner_sixteen")
        url = f"postgresql://wbowner_sixteen:{PASSWORD}@127.0.0.1:{password_server}/sixteen"
        database = open_database(url, check_schema=False)
        try:
            upgrade(database)
            fix = 'GRANT "wb_user" TO "wbowner_sixteen" WITH ADMIN OPTION, INHERIT FALSE, SET FALSE'
            with pytest.raises(ConfigError, match=re.escape(fix)):
                secure_database(database)
            superuser.execute(fix)
            secure_database(database)
            user = hub_user(database, hub_name="sixteen")
            role = role_name_for(user.id)
            superuser.execute(f'CREATE ROLE "{role}" NOLOGIN')  # made by someone else
            fix = f'GRANT "{role}" TO "wbowner_sixteen" WITH ADMIN OPTION, INHERIT FALSE, SET FALSE'
            with pytest.raises(ConfigError, match=re.escape(fix)):
                provision_role(database, user.id)
            superuser.execute(fix)
            url = provision_role(database, user.id).database_url()
            assert not refused(url)
            assert revoke_role(database, user.id) == role and refused(url)
        finally:
            database.engine.dispose()
