"""Better Auth 1.7 added `account.issuer`; where a database has it, the workbench fills it."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from sqlalchemy import text
from sqlalchemy.engine import URL

from workbench.db.engine import Database, open_database
from workbench.db.migrate import upgrade
from workbench.services.accounts.credentials import register
from workbench.services.accounts.external import hub_user, local_user

from .conftest import PASSWORD


@pytest.fixture(scope="module")
def database_with_issuer(scratch_database: Callable[[], URL]) -> Database:
    database = open_database(
        scratch_database().render_as_string(hide_password=False), check_schema=False
    )
    upgrade(database)
    with database.engine.begin() as conn:
        conn.execute(text('ALTER TABLE "account" ADD COLUMN "issuer" text NOT NULL'))
    return database


def issuer_of(database: Database, user_id: str) -> str:
    with database.engine.connect() as conn:
        query = text('SELECT issuer FROM "account" WHERE "userId" = :id')
        return str(conn.execute(query, {"id": user_id}).scalar_one())


def test_sign_up_fills_the_issuer_as_better_auth_does(database_with_issuer: Database) -> None:
    signed_in = register(
        database_with_issuer, email="ada@example.com", password=PASSWORD, name="Ada"
    )
    assert issuer_of(database_with_issuer, signed_in.user.id) == "local:credential"


def test_local_and_hub_links_fill_the_issuer_too(database_with_issuer: Database) -> None:
    local = local_user(database_with_issuer, os_user="ada")
    hub = hub_user(database_with_issuer, hub_name="alice")
    assert issuer_of(database_with_issuer, local.id) == "local:os-user"
    assert issuer_of(database_with_issuer, hub.id) == "jupyterhub"
