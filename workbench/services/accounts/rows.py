"""Writing users and their `account` rows exactly as Better Auth does.

Better Auth 1.7 added an `issuer` column to `account`. Databases beside an older web app lack it,
so whether it exists is read from the catalog once per engine, and account rows are written with
a Core insert that names it only when it is there.
"""

from __future__ import annotations

from datetime import datetime
from typing import Final
from weakref import WeakKeyDictionary

from sqlalchemy import Engine, Text, column, insert, table, text
from sqlalchemy.orm import Session

from workbench.crypto.tokens import new_id
from workbench.db.models import Account, User
from workbench.services.identity import SignedInUser

CREDENTIAL: Final = "credential"
LOCAL: Final = "local"
JUPYTERHUB: Final = "jupyterhub"

# What fills `account.issuer` where it exists. Better Auth writes `local:credential` for
# passwords; the local and JupyterHub links follow the same `<who vouches>:<how>` reading.
ISSUERS: Final = {CREDENTIAL: "local:credential", LOCAL: "local:os-user", JUPYTERHUB: "jupyterhub"}

# `account` as the database may hold it: the contract's columns plus Better Auth 1.7's issuer.
_ACCOUNT_WITH_ISSUER = table(
    "account",
    *(column(col.name, col.type) for col in Account.__table__.c),
    column("issuer", Text()),
)

_HAS_ISSUER: WeakKeyDictionary[Engine, bool] = WeakKeyDictionary()

_ISSUER_QUERY = text(
    "SELECT EXISTS (SELECT 1 FROM pg_attribute WHERE attrelid = to_regclass('account') "
    "AND attname = 'issuer' AND attnum > 0 AND NOT attisdropped)"
)


def account_has_issuer(session: Session) -> bool:
    """Whether `account` has Better Auth 1.7's `issuer` column (asked once per engine)."""
    connection = session.connection()
    known = _HAS_ISSUER.get(connection.engine)
    if known is None:
        known = bool(connection.execute(_ISSUER_QUERY).scalar())
        _HAS_ISSUER[connection.engine] = known
    return known


def insert_user(
    session: Session, *, email: str, name: str, now: datetime, email_verified: bool = False
) -> SignedInUser:
    """Insert a `user` row now (not at flush), so account rows can refer to it at once."""
    user_id = new_id()
    session.execute(
        insert(User).values(
            id=user_id,
            name=name,
            email=email,
            email_verified=email_verified,
            created_at=now,
            updated_at=now,
        )
    )
    return SignedInUser(id=user_id, email=email, name=name)


def insert_account(
    session: Session,
    *,
    user_id: str,
    provider_id: str,
    account_id: str,
    now: datetime,
    password: str | None = None,
) -> None:
    """Insert an `account` row, filling `issuer` where the table has it."""
    values: dict[str, object] = {
        "id": new_id(),
        "accountId": account_id,
        "providerId": provider_id,
        "userId": user_id,
        "password": password,
        "createdAt": now,
        "updatedAt": now,
    }
    if account_has_issuer(session):
        values["issuer"] = ISSUERS[provider_id]
    session.execute(insert(_ACCOUNT_WITH_ISSUER).values(values))
