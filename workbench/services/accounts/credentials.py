"""Email-and-password accounts: sign-up, the password check behind sign-in, password reset.

Passwords are stored exactly as Better Auth stores them (a `credential` account row whose
`accountId` is the user's id), so one password works in the notebook and in the web app.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import and_, select, update
from sqlalchemy.orm import Session

from workbench.crypto.passwords import (
    Password,
    dummy_verify,
    hash_password,
    validate_password,
    verify_password,
)
from workbench.db.engine import Database
from workbench.db.models import Account, User
from workbench.errors import AuthError, Duplicate
from workbench.services._base import translated_errors
from workbench.services.accounts.emails import normalize_email, normalize_name
from workbench.services.accounts.rows import CREDENTIAL, insert_account, insert_user
from workbench.services.accounts.sessions import IssuedSession, end_all_sessions, open_session
from workbench.services.accounts.throttle import (
    clear_failures,
    record_failure,
    throttled_error,
    throttled_until,
)
from workbench.services.accounts.verification import (
    Sender,
    consume_token,
    invalid_token,
    issue_token,
    resolve_sender,
)
from workbench.services.identity import SignedInUser
from workbench.timeutil import utcnow

# One message for an unknown email and a wrong password, so neither reveals who is registered.
WRONG_CREDENTIALS = (
    "Wrong email or password. Check both and try again; forgotten passwords can be reset with "
    "workbench.request_password_reset(email)."
)


@dataclass(frozen=True)
class SignedIn:
    """A user just signed in with a password, and the session opened for them."""

    user: SignedInUser
    issued: IssuedSession


def register(database: Database, *, email: str, password: Password, name: str) -> SignedIn:
    """Create a user with a password and open their first session; all or nothing."""
    email, name = normalize_email(email), normalize_name(name)
    validate_password(password)
    password_hash = hash_password(password)  # before the transaction: it takes ~100 ms
    now = utcnow()
    try:
        with translated_errors(database), database.transaction() as session:
            user = insert_user(session, email=email, name=name, now=now)
            insert_account(
                session,
                user_id=user.id,
                provider_id=CREDENTIAL,
                account_id=user.id,
                password=password_hash,
                now=now,
            )
            issued = open_session(session, user_id=user.id, now=now)
    except Duplicate:
        raise Duplicate(
            f"An account with email {email} already exists: sign in with "
            "workbench.sign_in(email, password), or reset its password with "
            "workbench.request_password_reset(email).",
            field="email",
        ) from None
    return SignedIn(user, issued)


def check_password(database: Database, *, email: str, password: Password) -> SignedInUser:
    """The user whose email and password these are, or `AuthError` (the failure is counted).

    An unknown email costs one scrypt too, so its refusal takes as long as a wrong password's.
    """
    return check_stored_email_password(database, email=normalize_email(email), password=password)


def check_stored_email_password(
    database: Database, *, email: str, password: Password
) -> SignedInUser:
    """`check_password` for an email exactly as stored (a signed-in user confirming it is them).

    Local users' `@localhost` addresses are not ones sign-up accepts, yet they may set a password.
    """
    validate_password(password)
    query = (
        select(User.id, User.email, User.name, Account.password)
        .join(Account, and_(Account.user_id == User.id, Account.provider_id == CREDENTIAL))
        .where(User.email == email)
        .limit(1)
    )
    with translated_errors(database), database.transaction() as session:
        until = throttled_until(session, email=email, now=utcnow())
        row = None if until is not None else session.execute(query).first()
    if until is not None:
        raise throttled_error(until, utcnow())
    if row is None or row.password is None:
        dummy_verify(password)
        matches = False
    else:
        matches = verify_password(password, row.password)
    with translated_errors(database), database.transaction() as session:
        if matches:
            clear_failures(session, email=email)
        else:
            record_failure(session, email=email, now=utcnow())
    if row is None or not matches:
        raise AuthError(WRONG_CREDENTIALS)
    return SignedInUser(row.id, row.email, row.name)


def sign_in_with_password(database: Database, *, email: str, password: Password) -> SignedIn:
    """Check the password, then open a session: what `workbench.sign_in` does after connecting."""
    user = check_password(database, email=email, password=password)
    with translated_errors(database), database.transaction() as session:
        issued = open_session(session, user_id=user.id, now=utcnow())
    return SignedIn(user, issued)


def set_password(session: Session, *, user_id: str, password_hash: str, now: datetime) -> None:
    """Replace the user's password, or give a password-less (local, JupyterHub) user one."""
    changed = session.execute(
        update(Account)
        .where(Account.user_id == user_id, Account.provider_id == CREDENTIAL)
        .values(password=password_hash, updated_at=now)
        .returning(Account.id)
        .execution_options(synchronize_session=False)
    ).first()
    if changed is None:
        insert_account(
            session,
            user_id=user_id,
            provider_id=CREDENTIAL,
            account_id=user_id,
            password=password_hash,
            now=now,
        )


def request_password_reset(database: Database, *, email: str, sender: Sender | None) -> None:
    """Send a one-hour reset token to `email`'s owner; an unknown email is silently ignored."""
    email = normalize_email(email)
    deliver = resolve_sender(database, sender)
    with translated_errors(database), database.transaction() as session:
        user_id = session.scalar(select(User.id).where(User.email == email))
        message = None
        if user_id is not None:
            message = issue_token(
                session, purpose="password-reset", user_id=user_id, email=email, now=utcnow()
            )
    if message is not None:
        deliver(message)


def reset_password(database: Database, *, token: str, new_password: Password) -> None:
    """Use a reset token once: set the new password and end every session of its user."""
    validate_password(new_password)
    password_hash = hash_password(new_password)
    now = utcnow()
    with translated_errors(database), database.transaction() as session:
        user_id = consume_token(session, purpose="password-reset", token=token, now=now)
        email = session.scalar(select(User.email).where(User.id == user_id))
        if email is None:  # the user was deleted after asking
            raise invalid_token("password-reset")
        set_password(session, user_id=user_id, password_hash=password_hash, now=now)
        end_all_sessions(session, user_id=user_id)
        clear_failures(session, email=email)
