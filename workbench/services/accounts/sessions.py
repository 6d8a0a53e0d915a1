"""Session rows: one per password sign-in, valid for seven days.

The token is handed to the caller once. The `session` row keeps only `hash_token(token)`, so
someone who can read the table cannot replay it. (Better Auth keeps its web sessions' tokens in
plain text; those rows and these never match each other, so web and notebook sessions stay
separate.)
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import delete, insert, select
from sqlalchemy.orm import Session

from workbench.crypto.tokens import hash_token, new_id, new_token
from workbench.db.engine import Database
from workbench.db.models import Session as SessionRow
from workbench.db.models import User
from workbench.errors import AuthError
from workbench.services._base import translated_errors
from workbench.services.identity import SignedInUser
from workbench.timeutil import utcnow

SESSION_LIFETIME = timedelta(days=7)
USER_AGENT = "workbench (Python)"

SIGN_IN_AGAIN = "Sign in again with workbench.sign_in(email, password)."
SESSION_GONE = (
    "This session was signed out (sign_out, a password reset or a deleted account ends it) "
    f"or never existed. {SIGN_IN_AGAIN}"
)


@dataclass(frozen=True)
class ActiveSession:
    """What a handle remembers of its session: never the token itself."""

    id: str
    expires_at: datetime
    token_hash: str = field(repr=False)


@dataclass(frozen=True)
class IssuedSession:
    """A session just opened, with its token: the only time the token exists in the clear."""

    session: ActiveSession
    token: str = field(repr=False)


def expired_error(expires_at: datetime) -> AuthError:
    return AuthError(
        f"This session expired on {expires_at:%Y-%m-%d %H:%M} UTC (sessions last "
        f"{SESSION_LIFETIME.days} days). {SIGN_IN_AGAIN}"
    )


def open_session(session: Session, *, user_id: str, now: datetime) -> IssuedSession:
    """Insert a session row for `user_id` and return its token (kept as a hash only)."""
    token = new_token()
    active = ActiveSession(new_id(), now + SESSION_LIFETIME, hash_token(token))
    session.execute(
        insert(SessionRow).values(
            id=active.id,
            expires_at=active.expires_at,
            token=active.token_hash,
            created_at=now,
            updated_at=now,
            user_agent=USER_AGENT,
            user_id=user_id,
        )
    )
    return IssuedSession(active, token)


def find_session(database: Database, token: str) -> tuple[SignedInUser, ActiveSession]:
    """The user and session `token` opens; `AuthError` if it was ended or has expired."""
    token_hash = hash_token(token)
    query = (
        select(SessionRow.id, SessionRow.expires_at, User.id, User.email, User.name)
        .join(User, User.id == SessionRow.user_id)
        .where(SessionRow.token == token_hash)
    )
    with translated_errors(database), database.single_statement_read() as session:
        row = session.execute(query).first()
    if row is None:
        raise AuthError(SESSION_GONE)
    session_id, expires_at, user_id, email, name = row
    if expires_at <= utcnow():
        raise expired_error(expires_at)
    return SignedInUser(user_id, email, name), ActiveSession(session_id, expires_at, token_hash)


def session_is_live(database: Database, session_id: str) -> bool:
    """Whether the session row still exists and has not expired (one indexed lookup)."""
    query = select(SessionRow.id).where(
        SessionRow.id == session_id, SessionRow.expires_at > utcnow()
    )
    with translated_errors(database), database.single_statement_read() as session:
        return session.execute(query).first() is not None


def end_session(database: Database, session_id: str) -> None:
    """Delete one session row; a row already gone is not an error."""
    with translated_errors(database), database.transaction() as session:
        session.execute(delete(SessionRow).where(SessionRow.id == session_id))


def end_all_sessions(session: Session, *, user_id: str) -> None:
    """Delete every session of `user_id`, the web app's included (a password reset does this)."""
    session.execute(delete(SessionRow).where(SessionRow.user_id == user_id))
