from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

import pytest
from sqlalchemy import func, insert, select

from workbench.crypto.passwords import SCRYPT_OBSERVERS
from workbench.db.engine import Database
from workbench.db.models import Session
from workbench.db.workbench_models import SignInFailure
from workbench.errors import AuthError, ValidationError
from workbench.services.accounts.credentials import (
    WRONG_CREDENTIALS,
    SignedIn,
    check_password,
    check_stored_email_password,
    sign_in_with_password,
)
from workbench.services.accounts.external import local_user
from workbench.timeutil import utcnow

from .conftest import PASSWORD


def failures(db: Database, email: str) -> int:
    with db.transaction() as session:
        count = select(func.count()).where(SignInFailure.email == email)
        return session.scalar(count) or 0


def fail(db: Database, email: str, times: int) -> None:
    for _ in range(times):
        with pytest.raises(AuthError):
            check_password(db, email=email, password="wrong password")


def test_the_right_password_signs_in_whatever_the_email_case(db: Database, ada: SignedIn) -> None:
    assert check_password(db, email=" ADA@example.com", password=PASSWORD) == ada.user


def test_wrong_password_and_unknown_email_get_the_same_message(db: Database, ada: SignedIn) -> None:
    with pytest.raises(AuthError) as wrong:
        check_password(db, email="ada@example.com", password="not the password")
    with pytest.raises(AuthError) as unknown:
        check_password(db, email="nobody@example.com", password=PASSWORD)
    assert str(wrong.value) == str(unknown.value) == WRONG_CREDENTIALS


def test_a_user_without_a_password_cannot_sign_in_with_one(db: Database) -> None:
    user = local_user(db, os_user="ada")
    with pytest.raises(AuthError, match="Wrong email or password"):
        check_password(db, email=user.email.replace("localhost", "example.com"), password=PASSWORD)


def scrypts_of_a_refusal(refuse: Callable[[], object]) -> list[dict[str, int]]:
    """The cost parameters of every scrypt `refuse` ran before raising `AuthError`."""
    calls: list[dict[str, int]] = []
    SCRYPT_OBSERVERS.append(calls.append)
    try:
        with pytest.raises(AuthError):
            refuse()
    finally:
        SCRYPT_OBSERVERS.remove(calls.append)
    return calls


def test_unknown_email_and_wrong_password_each_run_exactly_one_scrypt_of_the_same_cost(
    db: Database, ada: SignedIn
) -> None:
    """The timing property without a clock: both refusals do the same expensive work.

    (The wall-clock comparison is in bench/bench_accounts.py; as a test it failed under load.)
    """
    nobody_has_a_password = local_user(db, os_user="nopass")
    wrong = "not the password"
    wrong_password = scrypts_of_a_refusal(
        lambda: check_password(db, email="ada@example.com", password=wrong)
    )
    assert len(wrong_password) == 1 and wrong_password[0]["n"] == 16384
    assert wrong_password == scrypts_of_a_refusal(
        lambda: check_password(db, email="nobody@example.com", password=wrong)
    )
    assert wrong_password == scrypts_of_a_refusal(
        lambda: check_stored_email_password(db, email=nobody_has_a_password.email, password=wrong)
    )


def test_each_failure_is_counted_for_known_and_unknown_emails(db: Database, ada: SignedIn) -> None:
    fail(db, "ada@example.com", 2)
    fail(db, "nobody@example.com", 1)
    assert (failures(db, "ada@example.com"), failures(db, "nobody@example.com")) == (2, 1)


def test_after_five_failures_even_the_right_password_is_refused_saying_when_to_retry(
    db: Database, ada: SignedIn
) -> None:
    fail(db, "ada@example.com", 5)
    with pytest.raises(AuthError, match=r"Too many failed sign-ins.*try again after \d\d:\d\d"):
        check_password(db, email="ada@example.com", password=PASSWORD)
    assert failures(db, "ada@example.com") == 5  # a refused attempt is not another failure


def test_unknown_emails_are_throttled_like_known_ones(db: Database) -> None:
    fail(db, "nobody@example.com", 5)
    with pytest.raises(AuthError, match="Too many failed sign-ins"):
        check_password(db, email="nobody@example.com", password=PASSWORD)


def test_the_throttle_is_per_email(db: Database, ada: SignedIn, bob: SignedIn) -> None:
    fail(db, "ada@example.com", 5)
    assert check_password(db, email="bob@example.com", password=PASSWORD) == bob.user


def test_failures_older_than_fifteen_minutes_do_not_count(db: Database, ada: SignedIn) -> None:
    long_ago = utcnow() - timedelta(minutes=15, seconds=1)
    with db.transaction() as session:
        rows = [{"email": "ada@example.com", "failed_at": long_ago}] * 5
        session.execute(insert(SignInFailure), rows)
    assert check_password(db, email="ada@example.com", password=PASSWORD) == ada.user


def test_sign_in_reopens_when_the_fifth_newest_failure_leaves_the_window(
    db: Database, ada: SignedIn
) -> None:
    now = utcnow()
    ages = [14, 13, 12, 11, 1]  # minutes ago; the 14-minute one leaves the window first
    with db.transaction() as session:
        session.execute(
            insert(SignInFailure),
            [{"email": "ada@example.com", "failed_at": now - timedelta(minutes=m)} for m in ages],
        )
    reopens = (now - timedelta(minutes=14) + timedelta(minutes=15)).strftime("%H:%M:%S")
    with pytest.raises(AuthError, match=f"try again after {reopens} UTC"):
        check_password(db, email="ada@example.com", password=PASSWORD)


def test_a_successful_sign_in_starts_the_count_again(db: Database, ada: SignedIn) -> None:
    fail(db, "ada@example.com", 4)
    check_password(db, email="ada@example.com", password=PASSWORD)
    fail(db, "ada@example.com", 4)
    assert check_password(db, email="ada@example.com", password=PASSWORD) == ada.user


def test_recording_a_failure_prunes_failures_too_old_to_count(db: Database) -> None:
    with db.transaction() as session:
        old = utcnow() - timedelta(hours=1)
        session.execute(insert(SignInFailure), [{"email": "old@example.com", "failed_at": old}])
    fail(db, "new@example.com", 1)
    assert failures(db, "old@example.com") == 0


@pytest.mark.parametrize(
    ("email", "password"),
    [("ada@", PASSWORD), ("ada@example.com", "short"), ("ada@example.com", "y" * 129)],
)
def test_malformed_input_is_refused_before_anything_is_counted(
    db: Database, ada: SignedIn, email: str, password: str
) -> None:
    with pytest.raises(ValidationError):
        check_password(db, email=email, password=password)
    assert failures(db, "ada@example.com") == 0


def test_every_sign_in_opens_its_own_session(db: Database, ada: SignedIn) -> None:
    first = sign_in_with_password(db, email="ada@example.com", password=PASSWORD)
    second = sign_in_with_password(db, email="ada@example.com", password=PASSWORD)
    assert first.issued.token != second.issued.token
    with db.transaction() as session:
        ids = set(session.scalars(select(Session.id).where(Session.user_id == ada.user.id)))
    assert ids == {ada.issued.session.id, first.issued.session.id, second.issued.session.id}
