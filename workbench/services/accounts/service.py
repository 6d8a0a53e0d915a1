"""`wb.account`: what a signed-in user can do to their own account."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import delete, select, update

from workbench.crypto.passwords import hash_password, validate_password
from workbench.crypto.secret import Secret
from workbench.db.engine import Database
from workbench.db.models import Account, User
from workbench.errors import NotFound, ValidationError, quoted
from workbench.services._base import UserScopedService
from workbench.services.accounts.credentials import check_stored_email_password, set_password
from workbench.services.accounts.rows import CREDENTIAL
from workbench.services.accounts.verification import (
    Sender,
    consume_token,
    delete_pending_tokens,
    issue_token,
    resolve_sender,
)
from workbench.timeutil import utcnow

ACCOUNT_GONE = "This account no longer exists; it was deleted."


@dataclass(frozen=True)
class AccountView:
    """The signed-in user's account, as they may see it: no password hash, no tokens."""

    id: str
    email: str
    name: str
    email_verified: bool
    has_password: bool
    providers: tuple[str, ...]
    """How the user signs in: `credential` (a password), `local`, `jupyterhub`, OAuth ids..."""
    created_at: datetime


class AccountService(UserScopedService):
    """The signed-in user's own account: password, email verification, deletion.

    >>> wb.account.change_password(current_password="old secret", new_password="new secret")
    ... # doctest: +SKIP
    """

    def __init__(
        self,
        database: Database,
        user_id: str,
        *,
        on_deleted: Callable[[], None] | None = None,
        guard: Callable[[], None] | None = None,
    ) -> None:
        super().__init__(database, user_id, guard=guard)
        self._on_deleted = on_deleted

    def view(self) -> AccountView:
        """Who you are signed in as, and how you can sign in."""
        with self._transaction() as session:
            user = session.get(User, self._user_id)
            if user is None:
                raise NotFound(ACCOUNT_GONE)
            # Whether a password is set, never the hash itself.
            providers = session.execute(
                select(Account.provider_id, Account.password.is_not(None)).where(
                    Account.user_id == self._user_id
                )
            ).all()
        return AccountView(
            id=user.id,
            email=user.email,
            name=user.name,
            email_verified=user.email_verified,
            has_password=any(p == CREDENTIAL and has for p, has in providers),
            providers=tuple(sorted({provider for provider, _ in providers})),
            created_at=user.created_at,
        )

    def change_password(
        self, *, new_password: str | Secret, current_password: str | Secret | None = None
    ) -> None:
        """Change your password; `current_password` is required when you have one.

        Local and JupyterHub users have none: calling this without `current_password` gives
        them one, for the web app.
        """
        # First, so a verbose traceback from below shows Secret('***') (crypto.secret).
        new_password = Secret.wrap(new_password)
        current_password = None if current_password is None else Secret.wrap(current_password)
        validate_password(new_password)
        account = self.view()
        if account.has_password:
            self._confirm(account, "current_password", current_password)
        elif current_password is not None:
            raise ValidationError(
                "This account has no password yet: call change_password(new_password=...) "
                "without current_password to set one."
            )
        password_hash = hash_password(new_password)
        with self._transaction() as session:
            set_password(session, user_id=self._user_id, password_hash=password_hash, now=utcnow())

    def request_email_verification(self, *, sender: Sender | None = None) -> bool:
        """Send a 24-hour verification token to your email; False if it is verified already."""
        deliver = resolve_sender(self._database, sender)
        with self._transaction() as session:
            user = session.get(User, self._user_id)
            if user is None:
                raise NotFound(ACCOUNT_GONE)
            if user.email_verified:
                return False
            message = issue_token(
                session,
                purpose="email-verification",
                user_id=self._user_id,
                email=user.email,
                now=utcnow(),
            )
        deliver(message)
        return True

    def verify_email(self, *, token: str) -> None:
        """Use a token from `request_email_verification` once: marks your email verified."""
        now = utcnow()
        with self._transaction() as session:
            consume_token(
                session, purpose="email-verification", token=token, now=now, user_id=self._user_id
            )
            session.execute(
                update(User)
                .where(User.id == self._user_id)
                .values(email_verified=True, updated_at=now)
                .execution_options(synchronize_session=False)
            )

    def delete_account(
        self, *, password: str | Secret | None = None, email: str | None = None
    ) -> None:
        """Delete your account and every row of yours (scenarios, prompts, keys, sessions...).

        Confirm with your `password`; accounts without one (local, JupyterHub) confirm with
        their `email`. The handle is signed out afterwards.
        """
        password = None if password is None else Secret.wrap(password)
        account = self.view()
        if account.has_password:
            self._confirm(account, "password", password)
        elif email is None or email.strip().lower() != account.email:
            raise ValidationError(
                f"Confirm with email={quoted(account.email)}: this account has no password."
            )
        with self._transaction() as session:
            # Every table referring to "user" cascades, the web app's included; pending tokens
            # name the user without a foreign key, so they go explicitly.
            session.execute(delete(User).where(User.id == self._user_id))
            session.execute(delete_pending_tokens(self._user_id))
        if self._on_deleted is not None:
            self._on_deleted()

    def _confirm(self, account: AccountView, field: str, password: Secret | None) -> None:
        """Re-check the password before a change only its owner may make (throttled as sign-in)."""
        if password is None:
            raise ValidationError(f"{field} is required: confirm it is you with your password.")
        check_stored_email_password(self._database, email=account.email, password=password)
