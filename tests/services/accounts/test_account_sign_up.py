from __future__ import annotations

import re
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from workbench.crypto.passwords import verify_password
from workbench.crypto.tokens import hash_token
from workbench.db.engine import Database
from workbench.db.models import Account, Session, User
from workbench.errors import Duplicate, ValidationError
from workbench.services.accounts.credentials import SignedIn, register
from workbench.timeutil import utcnow

from .conftest import PASSWORD

BETTER_AUTH_ID = re.compile(r"[A-Za-z0-9]{32}")


def row_counts(db: Database) -> tuple[int, int, int]:
    with db.transaction() as session:
        return (
            session.scalar(select(func.count()).select_from(User)) or 0,
            session.scalar(select(func.count()).select_from(Account)) or 0,
            session.scalar(select(func.count()).select_from(Session)) or 0,
        )


def test_sign_up_stores_the_password_as_better_auth_does(db: Database, ada: SignedIn) -> None:
    with db.transaction() as session:
        user = session.get(User, ada.user.id)
        account = session.scalars(select(Account).where(Account.user_id == ada.user.id)).one()
    assert user is not None and BETTER_AUTH_ID.fullmatch(user.id)
    assert BETTER_AUTH_ID.fullmatch(account.id)
    assert (account.provider_id, account.account_id) == ("credential", user.id)
    assert account.password is not None
    assert re.fullmatch(r"[0-9a-f]{32}:[0-9a-f]{128}", account.password)
    assert verify_password(PASSWORD, account.password)
    assert user.email_verified is False


def test_sign_up_opens_a_seven_day_session_keeping_only_the_token_hash(
    db: Database, ada: SignedIn
) -> None:
    with db.transaction() as session:
        row = session.scalars(select(Session).where(Session.user_id == ada.user.id)).one()
    assert row.token == hash_token(ada.issued.token) != ada.issued.token
    assert row.id == ada.issued.session.id
    assert abs(row.expires_at - (utcnow() + timedelta(days=7))) < timedelta(minutes=1)


def test_sign_up_trims_and_lower_cases_the_email(db: Database) -> None:
    signed_in = register(db, email="  Grace@Example.COM ", password=PASSWORD, name=" Grace ")
    assert (signed_in.user.email, signed_in.user.name) == ("grace@example.com", "Grace")


def test_a_second_sign_up_with_the_same_email_is_a_duplicate_and_writes_nothing(
    db: Database, ada: SignedIn
) -> None:
    before = row_counts(db)
    with pytest.raises(Duplicate, match="already exists") as raised:
        register(db, email="ADA@example.com", password="another password", name="Imposter")
    assert raised.value.field == "email"
    assert row_counts(db) == before


@pytest.mark.parametrize(
    ("email", "password", "name", "problem"),
    [
        ("not-an-email", PASSWORD, "Ada", "email"),
        ("ada@example.com", "short", "Ada", "too short"),
        ("ada@example.com", "x" * 129, "Ada", "too long"),
        ("ada@example.com", PASSWORD, "  ", "name is empty"),
    ],
)
def test_bad_sign_up_input_is_refused_naming_the_problem_and_writes_nothing(
    db: Database, email: str, password: str, name: str, problem: str
) -> None:
    before = row_counts(db)
    with pytest.raises(ValidationError, match=problem):
        register(db, email=email, password=password, name=name)
    assert row_counts(db) == before


def test_the_issued_session_does_not_show_its_token(ada: SignedIn) -> None:
    assert ada.issued.token not in repr(ada)
