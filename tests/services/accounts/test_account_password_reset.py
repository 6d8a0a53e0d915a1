from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select, update

from workbench.db.engine import Database
from workbench.db.models import Account, Verification
from workbench.db.workbench_models import SignInFailure
from workbench.errors import AuthError, ConfigError, ValidationError
from workbench.services.accounts.credentials import (
    SignedIn,
    check_password,
    request_password_reset,
    reset_password,
    sign_in_with_password,
)
from workbench.services.accounts.external import hub_user
from workbench.services.accounts.sessions import find_session
from workbench.timeutil import utcnow

from .conftest import PASSWORD, Outbox

NEW_PASSWORD = "a brand new passphrase"


def verification_rows(db: Database) -> list[Verification]:
    with db.transaction() as session:
        return list(session.scalars(select(Verification)))


def test_a_reset_token_is_sent_and_only_its_hash_is_stored(
    db: Database, ada: SignedIn, outbox: Outbox
) -> None:
    request_password_reset(db, email="Ada@Example.com", sender=outbox)
    [message] = outbox.messages
    [row] = verification_rows(db)
    assert message.email == "ada@example.com" and message.purpose == "password-reset"
    assert message.token not in row.identifier and message.token not in row.value
    assert row.value == ada.user.id
    assert abs(row.expires_at - (utcnow() + timedelta(hours=1))) < timedelta(minutes=1)
    assert message.token not in repr(message)


def test_reset_sets_the_new_password_and_signs_out_every_session(
    db: Database, ada: SignedIn, outbox: Outbox
) -> None:
    other_kernel = sign_in_with_password(db, email="ada@example.com", password=PASSWORD)
    request_password_reset(db, email="ada@example.com", sender=outbox)
    reset_password(db, token=outbox.token, new_password=NEW_PASSWORD)
    assert check_password(db, email="ada@example.com", password=NEW_PASSWORD) == ada.user
    with pytest.raises(AuthError, match="Wrong email or password"):
        check_password(db, email="ada@example.com", password=PASSWORD)
    for token in (ada.issued.token, other_kernel.issued.token):
        with pytest.raises(AuthError, match="signed out"):
            find_session(db, token)


def test_reset_leaves_other_users_alone(
    db: Database, ada: SignedIn, bob: SignedIn, outbox: Outbox
) -> None:
    request_password_reset(db, email="ada@example.com", sender=outbox)
    reset_password(db, token=outbox.token, new_password=NEW_PASSWORD)
    assert find_session(db, bob.issued.token)[0] == bob.user
    assert check_password(db, email="bob@example.com", password=PASSWORD) == bob.user


def test_a_reset_token_works_once(db: Database, ada: SignedIn, outbox: Outbox) -> None:
    request_password_reset(db, email="ada@example.com", sender=outbox)
    reset_password(db, token=outbox.token, new_password=NEW_PASSWORD)
    with pytest.raises(AuthError, match="already used, or never issued"):
        reset_password(db, token=outbox.token, new_password="yet another password")
    assert check_password(db, email="ada@example.com", password=NEW_PASSWORD) == ada.user


def test_an_expired_reset_token_is_refused_and_nothing_changes(
    db: Database, ada: SignedIn, outbox: Outbox
) -> None:
    request_password_reset(db, email="ada@example.com", sender=outbox)
    with db.transaction() as session:
        session.execute(update(Verification).values(expires_at=utcnow() - timedelta(seconds=1)))
    with pytest.raises(AuthError, match="expired at"):
        reset_password(db, token=outbox.token, new_password=NEW_PASSWORD)
    assert len(verification_rows(db)) == 1
    assert find_session(db, ada.issued.token)[0] == ada.user
    assert check_password(db, email="ada@example.com", password=PASSWORD) == ada.user


def test_a_too_short_new_password_is_refused_and_the_token_stays_usable(
    db: Database, ada: SignedIn, outbox: Outbox
) -> None:
    request_password_reset(db, email="ada@example.com", sender=outbox)
    with pytest.raises(ValidationError, match="too short"):
        reset_password(db, token=outbox.token, new_password="short")
    reset_password(db, token=outbox.token, new_password=NEW_PASSWORD)


def test_an_unknown_email_gets_nothing_and_nothing_is_written(
    db: Database, ada: SignedIn, outbox: Outbox
) -> None:
    request_password_reset(db, email="nobody@example.com", sender=outbox)
    assert outbox.messages == [] and verification_rows(db) == []


def test_a_shared_database_needs_a_sender_and_writes_nothing_without_one(
    db: Database, ada: SignedIn
) -> None:
    with pytest.raises(ConfigError, match="pass sender="):
        request_password_reset(db, email="ada@example.com", sender=None)
    assert verification_rows(db) == []


def test_in_local_mode_the_token_is_printed(
    local_db: Database, capsys: pytest.CaptureFixture[str]
) -> None:
    from workbench.services.accounts.credentials import register

    register(local_db, email="ada@example.com", password=PASSWORD, name="Ada")
    request_password_reset(local_db, email="ada@example.com", sender=None)
    printed = capsys.readouterr().out
    token = printed.split("workbench.reset_password('")[1].split("'")[0]
    reset_password(local_db, token=token, new_password=NEW_PASSWORD)
    assert check_password(local_db, email="ada@example.com", password=NEW_PASSWORD)


def test_a_password_less_user_gets_a_credential_account_from_a_reset(
    db: Database, outbox: Outbox
) -> None:
    user = hub_user(db, hub_name="grace@example.com")
    request_password_reset(db, email="grace@example.com", sender=outbox)
    reset_password(db, token=outbox.token, new_password=NEW_PASSWORD)
    assert check_password(db, email="grace@example.com", password=NEW_PASSWORD) == user
    with db.transaction() as session:
        providers = set(
            session.scalars(select(Account.provider_id).where(Account.user_id == user.id))
        )
    assert providers == {"jupyterhub", "credential"}


def test_a_reset_clears_the_sign_in_throttle(db: Database, ada: SignedIn, outbox: Outbox) -> None:
    for _ in range(5):
        with pytest.raises(AuthError):
            check_password(db, email="ada@example.com", password="wrong password")
    request_password_reset(db, email="ada@example.com", sender=outbox)
    reset_password(db, token=outbox.token, new_password=NEW_PASSWORD)
    with db.transaction() as session:
        assert session.scalar(select(func.count()).select_from(SignInFailure)) == 0
    assert check_password(db, email="ada@example.com", password=NEW_PASSWORD) == ada.user
