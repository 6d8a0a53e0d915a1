"""JupyterHub hooks: every user's server gets its own PostgreSQL role, not the hub's URL.

In `jupyterhub_config.py` (docs/isolation.md has a complete one)::

    from workbench.jupyterhub import post_stop_hook, pre_spawn_hook
    c.Spawner.pre_spawn_hook = pre_spawn_hook
    c.Spawner.post_stop_hook = post_stop_hook

The hub process holds the administrative URL (`WORKBENCH_ADMIN_DATABASE_URL`, else
`DATABASE_URL`); a spawned server only ever gets its user's role, with a password made for this
spawn, in `DATABASE_URL`. When the server stops the role is locked, so a password copied out of
a stopped server's environment no longer works, and any connection still open with it is ended
(or, where the hub's role may not end it, left without a privilege: db/security/access.py).
"""

from __future__ import annotations

import asyncio
import os
from typing import Any

from workbench.db.engine import Database, open_database
from workbench.db.security import lock_role, provision_role
from workbench.errors import ConfigError
from workbench.services.accounts.external import hub_user

ADMIN_URL_VARIABLE = "WORKBENCH_ADMIN_DATABASE_URL"


async def pre_spawn_hook(spawner: Any) -> None:
    """Provision the hub user's role (and workbench user), fresh password, into the env."""
    await asyncio.to_thread(provision_for_spawner, spawner)


async def post_stop_hook(spawner: Any) -> None:
    """Lock the hub user's role once none of their servers is running."""
    await asyncio.to_thread(lock_for_spawner, spawner)


def provision_for_spawner(spawner: Any) -> None:
    """The synchronous body of `pre_spawn_hook` (it runs in a worker thread)."""
    database = _admin_database()
    try:
        user = hub_user(database, hub_name=str(spawner.user.name))
        provisioned = provision_role(database, user.id)
    finally:
        database.engine.dispose()
    # A new dict for this spawner: the configured one may be shared by every spawner.
    spawner.environment = {
        **dict(spawner.environment or {}),
        "DATABASE_URL": provisioned.database_url(),
    }


def lock_for_spawner(spawner: Any) -> None:
    """The synchronous body of `post_stop_hook`."""
    if _other_server_running(spawner):
        return  # a named server of the same user still uses the role
    database = _admin_database()
    try:
        user = hub_user(database, hub_name=str(spawner.user.name))
        lock_role(database, user.id)
    finally:
        database.engine.dispose()
    environment = dict(spawner.environment or {})
    environment.pop("DATABASE_URL", None)
    spawner.environment = environment


def _other_server_running(spawner: Any) -> bool:
    spawners = getattr(spawner.user, "spawners", None) or {}
    return any(
        other is not spawner and getattr(other, "active", False) for other in spawners.values()
    )


def _admin_database() -> Database:
    url = os.environ.get(ADMIN_URL_VARIABLE, "").strip() or os.environ.get("DATABASE_URL", "")
    if not url.strip():
        raise ConfigError(
            f"The JupyterHub hooks need the administrative database URL in {ADMIN_URL_VARIABLE} "
            "(or DATABASE_URL) in the hub's environment."
        )
    return open_database(url)
