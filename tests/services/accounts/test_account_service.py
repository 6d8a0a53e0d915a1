from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select, update

from workbench.db.engine import Database
from workbench.db.models import User, Verification
from workbench.errors import AuthError, ConfigError, ValidationError
from workbench.services.accounts import AccountService
from workbench.services.accounts.credentials import SignedIn, check_password
from workbench.services.accounts.external import local_user
from workbench.timeutil import utcnow

from .conftest import PASSWORD, Outbox

NEW_PASSWORD = "a brand new passphrase"


def account_of(db: Database, signed_in: SignedIn) -> AccountService:
    return AccountService(db, signed_in.user.id)


def is_verified(db: Database, user_id: str) -> bool:
    with db.transaction() as session:
        return bool(session.scalar(select(User.email_verified).where(User.id == user_id)))


def test_view_shows_the_account_and_how_it_signs_in(db: Database, ada: SignedIn) -> None:
    view = account_of(db, ada).view()
    assert (view.email, view.name, view.email_verified) == ("ada@example.com", "Ada", False)
    assert view.has_password and view.providers == ("credential",)


def test_change_password_needs_and_checks_the_current_one(db: Database, ada: SignedIn) -> None:
    account = account_of(db, ada)
    with pytest.raises(ValidationError, match="current_password is required"):
        account.change_password(new_password=NEW_PASSWORD)
    with pytest.raises(AuthError, match="Wrong email or password"):
        account.change_password(current_password="not it at all", new_password=NEW_PASSWORD)
    assert check_password(db, email="ada@example.com", password=PASSWORD) == ada.user
    account.change_password(current_password=PASSWORD, new_password=NEW_PASSWORD)
    assert check_password(db, email="ada@example.com", password=NEW_PASSWORD) == ada.user


def test_change_password_refuses_a_too_long_new_password(db: Database, ada: SignedIn) -> None:
    with pytest.raises(ValidationError, match="too long"):
        account_of(db, ada).change_password(current_password=PASSWORD, new_password="p" * 129)


def test_a_password_less_user_can_set_a_password_for_the_web_app(db: Database) -> None:
    user = local_user(db, os_user="ada")
    account = AccountService(db, user.id)
    with pytest.raises(ValidationError, match="no password yet"):
        account.change_password(current_password="anything at all", new_password=NEW_PASSWORD)
    account.change_password(new_password=NEW_PASSWORD)
    assert account.view().has_password
    account.change_password(current_password=NEW_PASSWORD, new_password=PASSWORD)
    with pytest.raises(AuthError, match="Wrong email or password"):
        account.change_password(current_password=NEW_PASSWORD, new_password=PASSWORD)


def test_verifying_the_email_with_the_sent_token(
    db: Database, ada: SignedIn, outbox: Outbox
) -> None:
    account = account_of(db, ada)
    assert account.request_email_verification(sender=outbox) is True
    assert outbox.messages[0].purpose == "email-verification"
    account.verify_email(token=outbox.token)
    assert is_verified(db, ada.user.id)


def test_a_verification_token_works_once(db: Database, ada: SignedIn, outbox: Outbox) -> None:
    account = account_of(db, ada)
    account.request_email_verification(sender=outbox)
    account.verify_email(token=outbox.token)
    with pytest.raises(AuthError, match="already used, or never issued"):
        account.verify_email(token=outbox.token)


def test_another_users_verification_token_is_refused_and_stays_theirs(
    db: Database, ada: SignedIn, bob: SignedIn, outbox: Outbox
) -> None:
    account_of(db, bob).request_email_verification(sender=outbox)
    with pytest.raises(AuthError) as refused:
        account_of(db, ada).verify_email(token=outbox.token)
    with pytest.raises(AuthError) as unknown:
        account_of(db, ada).verify_email(token="X" * 32)
    assert str(refused.value) == str(unknown.value)
    assert not is_verified(db, ada.user.id)
    account_of(db, bob).verify_email(token=outbox.token)
    assert is_verified(db, bob.user.id)


def test_a_verification_token_expires_after_a_day(
    db: Database, ada: SignedIn, outbox: Outbox
) -> None:
    account = account_of(db, ada)
    account.request_email_verification(sender=outbox)
    assert abs(outbox.messages[0].expires_at - (utcnow() + timedelta(hours=24))) < timedelta(
        minutes=1
    )
    with db.transaction() as session:
        session.execute(update(Verification).values(expires_at=utcnow() - timedelta(seconds=1)))
    with pytest.raises(AuthError, match="expired at"):
        account.verify_email(token=outbox.token)
    assert not is_verified(db, ada.user.id)


def test_a_verified_email_is_not_sent_another_token(
    db: Database, ada: SignedIn, outbox: Outbox
) -> None:
    account = account_of(db, ada)
    account.request_email_verification(sender=outbox)
    account.verify_email(token=outbox.token)
    assert account.request_email_verification(sender=outbox) is False
    assert len(outbox.messages) == 1


def test_email_verification_on_a_shared_database_needs_a_sender(
    db: Database, ada: SignedIn
) -> None:
    with pytest.raises(ConfigError, match="pass sender="):
        account_of(db, ada).request_email_verification()
