from __future__ import annotations

import threading
from collections.abc import Callable

import pytest
from sqlalchemy import func, select

from workbench.db.engine import Database
from workbench.db.models import Account, User
from workbench.errors import AuthError
from workbench.handle import SignedInUser
from workbench.services.accounts.credentials import SignedIn
from workbench.services.accounts.external import hub_user, local_user


def links(db: Database, user_id: str) -> list[tuple[str, str, str | None]]:
    with db.transaction() as session:
        query = select(Account.provider_id, Account.account_id, Account.password)
        return [tuple(row) for row in session.execute(query.where(Account.user_id == user_id))]


def test_the_local_user_is_named_after_the_os_user_and_has_no_password(db: Database) -> None:
    user = local_user(db, os_user="ada")
    assert (user.email, user.name) == ("ada@localhost", "ada")
    assert links(db, user.id) == [("local", "ada", None)]


def test_the_local_user_is_created_once(db: Database) -> None:
    assert local_user(db, os_user="ada") == local_user(db, os_user="ada")


def test_an_os_user_name_that_is_no_address_is_made_into_one(db: Database) -> None:
    assert local_user(db, os_user="Ada Lovelace").email == "ada-lovelace@localhost"


def test_a_hub_user_is_linked_through_a_jupyterhub_account(db: Database) -> None:
    user = hub_user(db, hub_name="alice")
    assert user.email == "alice@jupyterhub.invalid"
    assert links(db, user.id) == [("jupyterhub", "alice", None)]
    assert hub_user(db, hub_name="alice") == user


def test_a_hub_name_that_is_an_email_becomes_the_email(db: Database) -> None:
    assert hub_user(db, hub_name="Grace@Example.com").email == "grace@example.com"


def test_a_hub_name_never_takes_over_an_existing_password_account(
    db: Database, ada: SignedIn
) -> None:
    with pytest.raises(AuthError, match="already exists and is not linked"):
        hub_user(db, hub_name="ada@example.com")
    with db.transaction() as session:
        providers = session.scalars(select(Account.provider_id)).all()
    assert providers == ["credential"]


def test_two_kernels_signing_the_same_person_in_at_once_make_one_user(
    committed_db: Database,
) -> None:
    results: list[SignedInUser] = []
    start = threading.Barrier(4)

    def kernel(sign_in: Callable[[], SignedInUser]) -> None:
        start.wait()
        results.append(sign_in())

    threads = [
        threading.Thread(target=kernel, args=(lambda: hub_user(committed_db, hub_name="zoe"),))
        for _ in range(4)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(results) == 4 and len(set(results)) == 1
    with committed_db.transaction() as session:
        assert session.scalar(select(func.count()).select_from(User)) == 1
        assert session.scalar(select(func.count()).select_from(Account)) == 1
