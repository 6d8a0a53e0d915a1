"""Single-use tokens for password reset and email verification, kept as `verification` rows.

A row's `identifier` is `workbench:<purpose>:<sha256 of the token>` and its `value` is the user's
id, so reading the table gives nothing to replay. Consuming a token deletes its row in the same
statement that reads it, so two kernels cannot both use one token.

Tokens reach the user through a `Sender`: any callable taking a `Message`. The default prints the
token, which only makes sense where the database is the user's own (local mode); on a shared
database a printed reset token would let whoever typed an address take that account over, so
there a sender must be given.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Final, Literal, Protocol

from sqlalchemy import Delete, delete, insert
from sqlalchemy.orm import Session

from workbench.crypto.tokens import hash_token, new_id, new_token
from workbench.db.engine import Database
from workbench.db.models import Verification
from workbench.errors import AuthError, ConfigError

Purpose = Literal["password-reset", "email-verification"]

LIFETIMES: Final[dict[Purpose, timedelta]] = {
    "password-reset": timedelta(hours=1),
    "email-verification": timedelta(hours=24),
}
_LABELS: Final[dict[Purpose, str]] = {
    "password-reset": "password reset",
    "email-verification": "email verification",
}
_HOW_TO_USE: Final[dict[Purpose, str]] = {
    "password-reset": "workbench.reset_password({token!r}, new_password)",
    "email-verification": "wb.account.verify_email(token={token!r})",
}
_HOW_TO_REQUEST: Final[dict[Purpose, str]] = {
    "password-reset": "workbench.request_password_reset(email)",
    "email-verification": "wb.account.request_email_verification()",
}


@dataclass(frozen=True)
class Message:
    """A token on its way to the owner of `email`. The token stays out of the repr."""

    purpose: Purpose
    email: str
    token: str = field(repr=False)
    expires_at: datetime

    @property
    def text(self) -> str:
        """What to tell the user: the token, how to use it, and until when."""
        call = _HOW_TO_USE[self.purpose].format(token=self.token)
        return (
            f"{_LABELS[self.purpose].capitalize()} for {self.email}: run {call} "
            f"before {self.expires_at:%Y-%m-%d %H:%M} UTC. The token works once."
        )


class Sender(Protocol):
    """Delivers a `Message` to the owner of its address (an email, a chat message...)."""

    def __call__(self, message: Message, /) -> None: ...


def print_sender(message: Message) -> None:
    """Show the message in the notebook: the default where the database is the user's own."""
    print(message.text)


def resolve_sender(database: Database, sender: Sender | None) -> Sender:
    """`sender`, else printing in local mode; a shared database must be given a sender."""
    if sender is not None:
        return sender
    if database.local:
        return print_sender
    raise ConfigError(
        f"{database.describe()} is shared, so the token must reach the address's owner, not "
        "whoever asked: pass sender=<a function taking a workbench.auth.Message> that delivers it "
        "(e.g. by email)."
    )


_PREFIX = "workbench:"


def _identifier(purpose: Purpose, token: str) -> str:
    return f"{_PREFIX}{purpose}:{hash_token(token)}"


def issue_token(
    session: Session, *, purpose: Purpose, user_id: str, email: str, now: datetime
) -> Message:
    """Store a new single-use token for `user_id` and return the message carrying it."""
    token = new_token()
    expires_at = now + LIFETIMES[purpose]
    session.execute(
        insert(Verification).values(
            id=new_id(),
            identifier=_identifier(purpose, token),
            value=user_id,
            expires_at=expires_at,
            created_at=now,
            updated_at=now,
        )
    )
    return Message(purpose, email, token, expires_at)


def consume_token(
    session: Session, *, purpose: Purpose, token: str, now: datetime, user_id: str | None = None
) -> str:
    """Delete the token's row and return its user id; `AuthError` if unknown, used or expired.

    With `user_id`, a token of anyone else's is "not valid", exactly as an unknown one, before
    its expiry is looked at. Raise inside the caller's transaction: the rollback then keeps an
    expired row as it was.
    """
    owner = [] if user_id is None else [Verification.value == user_id]
    row = session.execute(
        delete(Verification)
        .where(Verification.identifier == _identifier(purpose, token), *owner)
        .returning(Verification.value, Verification.expires_at)
        .execution_options(synchronize_session=False)
    ).first()
    if row is None:
        raise invalid_token(purpose)
    owner_id, expires_at = row
    if expires_at <= now:
        raise AuthError(
            f"This {_LABELS[purpose]} token expired at {expires_at:%Y-%m-%d %H:%M} UTC. "
            f"Ask for a new one with {_HOW_TO_REQUEST[purpose]}."
        )
    return str(owner_id)


def invalid_token(purpose: Purpose) -> AuthError:
    """The one answer for a token that is unknown, used, or someone else's."""
    return AuthError(
        f"This {_LABELS[purpose]} token is not valid: it was already used, or never issued. "
        f"Ask for a new one with {_HOW_TO_REQUEST[purpose]}."
    )


def delete_pending_tokens(user_id: str) -> Delete:
    """The statement deleting every workbench token issued to `user_id` (the web app's stay)."""
    return delete(Verification).where(
        Verification.value == user_id, Verification.identifier.startswith(_PREFIX)
    )
