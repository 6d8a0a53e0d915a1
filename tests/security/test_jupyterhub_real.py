"""The hub path end to end: a real JupyterHub, its proxy, two users' servers and kernels.

The hub runs docs/isolation.md's `jupyterhub_config.py` (dummy authenticator, the simple local
process spawner, the workbench's spawn hooks) with the administrative URL of a private server
that checks passwords, so a refused password can be shown. Alice and Bob each get a server
through the hub's REST API and run cells in a kernel there: through the workbench and through
raw SQL on their `DATABASE_URL`, each sees only their own rows; after Bob's server stops, the
URL copied out of his kernel is refused.
"""

from __future__ import annotations

import os
import secrets
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import psycopg
import pytest
from sqlalchemy.engine import URL

from tests.db.test_connection_errors import PASSWORD, free_port, password_server  # noqa: F401
from tests.security.real_hub import (
    REPO_ROOT,
    HubSettings,
    Kernel,
    RealHub,
    configurable_http_proxy,
    start_hub,
    stop_hub,
)
from tests.security.test_roles import refused, secured_database_on

USERS = ("alice", "bob")
ENCRYPTION_KEY = "real-hub-test-encryption-key-not-a-secret"
# The tables a leak would matter most in; the cell reads every table it may read.
SHARED = ('public."Scenario"', 'public."user"', "public.session", "public.account")
KEYS = "public.user_api_key"

CREATE_CELL = """
import json, workbench
wb = workbench.connect()
wb.scenarios.create(workbench.ScenarioCreate(name={marker!r}, turns=(workbench.user("hi"),)))
wb.api_keys.set(provider="openai", api_key="sk-test-" + {marker!r}, key_name={marker!r})
print(json.dumps({{"user_id": wb.user.id}}))
"""

LOOK_CELL = """
import json, os, psycopg
seen = {"names": sorted(s.name for s in wb.scenarios.list()),
        "keys": sorted(k.key_name for k in wb.api_keys.list()), "rows": {}}
with psycopg.connect(os.environ["DATABASE_URL"], autocommit=True) as conn:
    seen["session_user"], seen["user_id"] = conn.execute(
        "SELECT session_user::text, workbench.current_user_id()").fetchone()
    tables = conn.execute("SELECT format('%I.%I', schemaname, tablename) FROM pg_tables "
                          "WHERE schemaname IN ('public', 'workbench') ORDER BY 1").fetchall()
    for (table,) in tables:
        try:
            seen["rows"][table] = [r[0] for r in conn.execute(f"SELECT t::text FROM {table} t")]
        except psycopg.errors.InsufficientPrivilege:
            seen["rows"][table] = None  # refused outright
seen["env"] = dict(os.environ)
print(json.dumps(seen))
"""

SEED_SESSION_AND_ACCOUNT = [  # what the web app would hold for them: none of it is the kernel's
    """INSERT INTO session (id, "expiresAt", token, "createdAt", "updatedAt", "userId")
       VALUES (%(m)s || '-ses', now() + interval '1 day', %(m)s || '-tok', now(), now(), %(u)s)""",
    """INSERT INTO account (id, "accountId", "providerId", "userId", password, "createdAt",
       "updatedAt") VALUES (%(m)s || '-acc', %(m)s, 'credential', %(u)s, 'hash', now(), now())""",
]


@dataclass(frozen=True)
class Spawned:
    """One user's server as the test saw it from inside their kernel."""

    marker: str
    user_id: str
    seen: dict[str, Any] = field(repr=False)  # holds the role's URL: out of failure reports

    @property
    def url(self) -> str:
        url: str = self.seen["env"]["DATABASE_URL"]
        return url


@pytest.fixture(scope="module")
def admin_url(password_server: int) -> str:  # noqa: F811 - the imported fixture
    """The workbench's database on the password-checking server: upgraded and secured."""
    return secured_database_on(password_server, "hubreal")


@pytest.fixture(scope="module")
def proxy_command() -> str:
    """configurable-http-proxy: on PATH, or npm-installed into a cache (skip without npm)."""
    return configurable_http_proxy()


@pytest.fixture(scope="module")
def hub(
    proxy_command: str,
    admin_url: str,
    scratch_database: Callable[[], URL],
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[RealHub]:
    settings = HubSettings(
        port=free_port(),
        hub_port=free_port(),
        proxy_api_port=free_port(),
        proxy_command=proxy_command,
        state_db_url=scratch_database().render_as_string(hide_password=False),
        scratch=tmp_path_factory.mktemp("hub"),
        admin_token=secrets.token_hex(32),
    )
    hub = start_hub(settings, hub_environment(admin_url))
    try:
        yield hub
    finally:
        stop_hub(hub, list(USERS))


def hub_environment(admin_url: str) -> dict[str, str]:
    """The hub's environment: the administrative URL under both names, and the test's venv."""
    env = dict(os.environ)
    venv_bin = str(Path(sys.executable).parent)  # jupyterhub, jupyterhub-singleuser
    env.update(
        WORKBENCH_ADMIN_DATABASE_URL=admin_url,
        # A hub whose DATABASE_URL is the admin URL too: the servers must still get the role's.
        DATABASE_URL=admin_url,
        ENCRYPTION_KEY=ENCRYPTION_KEY,
        PATH=os.pathsep.join([venv_bin, env.get("PATH", "")]),
        # The hub and its kernels import this checkout even where the venv points elsewhere.
        PYTHONPATH=os.pathsep.join(filter(None, [str(REPO_ROOT), env.get("PYTHONPATH")])),
    )
    return env


@pytest.fixture(scope="module")
def spawned(hub: RealHub, admin_url: str) -> dict[str, Spawned]:
    """Both servers started through the REST API; in each kernel, rows made, then looked at."""
    hub.api("POST", "/users", {"usernames": list(USERS)})
    kernels: dict[str, Kernel] = {}
    try:
        for name in USERS:
            hub.start_server(name)
            kernels[name] = Kernel(hub, name, hub.user_token(name))
        markers = {name: f"{name}-{secrets.token_hex(4)}" for name in USERS}
        ids = {
            name: kernels[name].run(CREATE_CELL.format(marker=markers[name]))["user_id"]
            for name in USERS
        }
        with psycopg.connect(admin_url, autocommit=True) as admin:
            for name in USERS:
                for statement in SEED_SESSION_AND_ACCOUNT:
                    admin.execute(statement, {"m": markers[name], "u": ids[name]})
        hub.remember_processes()  # the kernels, for teardown
        return {
            name: Spawned(markers[name], ids[name], kernels[name].run(LOOK_CELL)) for name in USERS
        }
    finally:
        for kernel in kernels.values():
            kernel.close()


def pairs(spawned: dict[str, Spawned]) -> list[tuple[Spawned, Spawned]]:
    return [(spawned["alice"], spawned["bob"]), (spawned["bob"], spawned["alice"])]


def test_through_the_workbench_each_user_sees_only_their_own_scenarios_and_keys(
    spawned: dict[str, Spawned],
) -> None:
    assert spawned["alice"].user_id != spawned["bob"].user_id
    for me, _other in pairs(spawned):
        assert me.seen["names"] == [me.marker]
        assert me.seen["keys"] == [me.marker]


def test_raw_sql_in_a_kernel_shows_no_row_of_the_other_user(
    spawned: dict[str, Spawned], admin_url: str
) -> None:
    with psycopg.connect(admin_url) as admin:  # the other's rows are there to be leaked
        for table in (*SHARED, KEYS):
            for who in spawned.values():
                found = admin.execute(
                    f"SELECT count(*) FROM {table} t WHERE t::text LIKE %s",
                    (f"%{who.user_id}%",),
                ).fetchone()
                assert found and found[0] >= 1, f"{table} should hold rows of {who.marker}'s"
    for me, other in pairs(spawned):
        rows = me.seen["rows"]
        assert set(SHARED) | {KEYS, "workbench.run"} <= set(rows)
        leaked = {
            table: n
            for table, table_rows in rows.items()
            if (n := sum(other.user_id in r or other.marker in r for r in table_rows or []))
        }
        assert leaked == {}, f"{me.marker} read {other.marker}'s rows"
        assert [r for r in rows['public."Scenario"'] if me.marker in r] == rows['public."Scenario"']
        assert len(rows['public."Scenario"']) == len(rows[KEYS]) == 1
        assert len(rows['public."user"']) == 1 and me.user_id in rows['public."user"'][0]
        assert not rows["public.session"] and not rows["public.account"]  # nothing, by design


def test_a_kernel_holds_its_own_role_url_and_never_the_admin_url(
    spawned: dict[str, Spawned], admin_url: str
) -> None:
    assert spawned["alice"].url != spawned["bob"].url
    for me, _other in pairs(spawned):
        env = me.seen["env"]
        role = urlsplit(me.url).username or ""
        assert me.url.startswith("postgresql://wbu_") and me.url != admin_url
        assert me.seen["session_user"] == role and me.seen["user_id"] == me.user_id
        assert "WORKBENCH_ADMIN_DATABASE_URL" not in env
        assert [name for name, value in env.items() if PASSWORD in value] == []
        assert env["ENCRYPTION_KEY"] == ENCRYPTION_KEY  # the docs' c.Spawner.environment


def test_a_password_copied_out_of_a_stopped_server_is_refused(
    hub: RealHub, spawned: dict[str, Spawned]
) -> None:
    copied = spawned["bob"].url
    assert not refused(copied)
    hub.stop_server("bob")  # returns once the hub has run the post-stop hook
    assert refused(copied), f"bob's role still logs in after his server stopped:\n{hub.log_tail()}"
    assert not refused(spawned["alice"].url)  # only bob's role was locked


def test_the_hub_log_holds_no_password(hub: RealHub, spawned: dict[str, Spawned]) -> None:
    log = hub.log_path.read_text(encoding="utf-8", errors="replace")
    passwords = [PASSWORD] + [urlsplit(s.url).password or "" for s in spawned.values()]
    assert all(len(p) >= 16 for p in passwords)
    assert [p for p in passwords if p in log] == []
