"""Users vouched for by something other than a password: the OS user, a JupyterHub.

Each is found through an `account` row (`providerId` `local` or `jupyterhub`, `accountId` the
OS or hub user name) and created on first sign-in. A row lock on the link (in
`workbench.admin_lock`) serialises two kernels signing the same person in at once, so they find
one user rather than make two. Not an advisory lock: any role may take one of those, so a
user's role could hold another user's and stop their JupyterHub server from ever starting; no
per-user role may touch admin_lock.
"""

from __future__ import annotations

import re

from sqlalchemy import select

from workbench.db.engine import Database
from workbench.db.models import Account, User
from workbench.db.security.locks import bound_lock_waits, lock_row
from workbench.errors import AuthError
from workbench.services._base import translated_errors
from workbench.services.accounts.emails import is_email
from workbench.services.accounts.rows import JUPYTERHUB, LOCAL, insert_account, insert_user
from workbench.services.identity import SignedInUser
from workbench.timeutil import utcnow

# `.invalid` is reserved (RFC 2606): an address there can never belong to anyone real.
HUB_EMAIL_DOMAIN = "jupyterhub.invalid"
LOCAL_EMAIL_DOMAIN = "localhost"

_NOT_ADDRESS_CHARACTERS = re.compile(r"[^a-z0-9._+-]+")


def _local_part(name: str) -> str:
    return _NOT_ADDRESS_CHARACTERS.sub("-", name.lower()).strip(".-") or "user"


def local_user(database: Database, *, os_user: str) -> SignedInUser:
    """The local-mode user for `os_user` (email `<os_user>@localhost`), created on first use."""
    email = local_email(os_user)
    return linked_user(database, provider_id=LOCAL, account_id=os_user, email=email, name=os_user)


def local_email(os_user: str) -> str:
    """The local-mode user's email for `os_user`."""
    return f"{_local_part(os_user)}@{LOCAL_EMAIL_DOMAIN}"


def hub_user(database: Database, *, hub_name: str) -> SignedInUser:
    """The user linked to JupyterHub user `hub_name`, created on first use.

    A hub name that is an email address becomes the email; any other name gets an address under
    `jupyterhub.invalid`, which no real mailbox can have.
    """
    name = hub_name.strip()
    lowered = name.lower()
    email = lowered if is_email(lowered) else f"{_local_part(name)}@{HUB_EMAIL_DOMAIN}"
    return linked_user(database, provider_id=JUPYTERHUB, account_id=name, email=email, name=name)


def linked_user(
    database: Database, *, provider_id: str, account_id: str, email: str, name: str
) -> SignedInUser:
    """The user an `account` row links to `(provider_id, account_id)`; created if none does."""
    query = (
        select(User.id, User.email, User.name)
        .join(Account, Account.user_id == User.id)
        .where(Account.provider_id == provider_id, Account.account_id == account_id)
        .limit(1)
    )
    with translated_errors(database), database.transaction() as session:
        bound_lock_waits(session.connection())  # a sign-in (and the hub hook) never hangs
        lock_row(session.connection(), f"link:{provider_id}:{account_id}")
        row = session.execute(query).first()
        if row is not None:
            return SignedInUser(row.id, row.email, row.name)
        if session.scalar(select(User.id).where(User.email == email)) is not None:
            # Linking by email would hand an existing account to whoever controls this name.
            raise AuthError(
                f"An account with email {email} already exists and is not linked to this "
                f"{provider_id} user; sign in to it with workbench.sign_in(email, password)."
            )
        now = utcnow()
        user = insert_user(session, email=email, name=name, now=now)
        insert_account(
            session, user_id=user.id, provider_id=provider_id, account_id=account_id, now=now
        )
        return user
