from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select, update

from workbench.db.engine import Database
from workbench.db.models import Session
from workbench.errors import AuthError
from workbench.services.accounts.credentials import SignedIn
from workbench.services.accounts.sessions import end_all_sessions, end_session, find_session
from workbench.timeutil import utcnow


def test_a_token_resumes_its_session(db: Database, ada: SignedIn) -> None:
    user, session = find_session(db, ada.issued.token)
    assert user == ada.user
    assert session == ada.issued.session


def test_what_the_database_keeps_cannot_be_replayed_as_a_token(db: Database, ada: SignedIn) -> None:
    with db.transaction() as session:
        stored = session.scalars(select(Session.token).where(Session.user_id == ada.user.id)).one()
    with pytest.raises(AuthError, match=r"signed out .* or never existed"):
        find_session(db, stored)


def test_an_expired_session_is_refused_saying_it_expired(db: Database, ada: SignedIn) -> None:
    with db.transaction() as session:
        session.execute(
            update(Session)
            .where(Session.id == ada.issued.session.id)
            .values(expires_at=utcnow() - timedelta(seconds=1))
        )
    with pytest.raises(AuthError, match=r"expired on .* Sign in again"):
        find_session(db, ada.issued.token)


def test_an_ended_session_is_refused(db: Database, ada: SignedIn) -> None:
    end_session(db, ada.issued.session.id)
    with pytest.raises(AuthError, match="signed out"):
        find_session(db, ada.issued.token)


def test_ending_all_sessions_of_a_user_leaves_other_users_signed_in(
    db: Database, ada: SignedIn, bob: SignedIn
) -> None:
    with db.transaction() as session:
        end_all_sessions(session, user_id=ada.user.id)
    with pytest.raises(AuthError):
        find_session(db, ada.issued.token)
    assert find_session(db, bob.issued.token)[0] == bob.user
