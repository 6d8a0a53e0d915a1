"""Re-encrypting every stored API key under a new master secret (an administrator's operation).

Not user-scoped: it reads and rewrites the rows of every user. It runs in one transaction with
the rows locked, so a failure part-way -- a row that does not decrypt under the old secret, a
lost connection, Ctrl-C -- leaves every row exactly as it was. Rows come out in the
installation's write format (`workbench.services.keys.format`): `v2`, or `legacy` beside an
unchanged web app; rotating to the same secret therefore converts rows to that format.
`updatedAt` is left alone: the keys did not change, only how they are stored.

    workbench keys rotate          # ENCRYPTION_KEY_OLD = current secret, ENCRYPTION_KEY = new one
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select, update

from workbench.crypto.vault import KeyVault
from workbench.db.engine import Database
from workbench.db.models import UserApiKey
from workbench.errors import DecryptionError, ValidationError
from workbench.services._base import translated_errors
from workbench.services.keys.format import key_format


@dataclass(frozen=True)
class RotationReport:
    """What a rotation did (or, with `dry_run`, would do): counts only."""

    rotated: int
    """Rows re-encrypted under the new secret."""
    from_legacy: int
    """Of those, rows that were in the legacy (unauthenticated) format."""
    dry_run: bool
    format: str = "v2"
    """The format every row is in afterwards."""


def rotate_keys(
    database: Database, *, old_secret: str, new_secret: str, dry_run: bool = False
) -> RotationReport:
    """Re-encrypt every row of `"user_api_key"` from `old_secret` to `new_secret`, all or none.

    Raises `DecryptionError` listing the ids of the rows that do not decrypt under
    `old_secret` (never their contents) and changes nothing. With `old_secret == new_secret`
    this only converts rows to the installation's format (`v2` unless `legacy` was chosen).
    `dry_run` checks every row and writes nothing.

    >>> rotate_keys(open_database(), old_secret=old, new_secret=new)  # doctest: +SKIP
    RotationReport(rotated=12, from_legacy=3, dry_run=False)
    """
    old_vault, new_vault = KeyVault(old_secret), KeyVault(new_secret)
    rows = select(
        UserApiKey.id,
        UserApiKey.user_id,
        UserApiKey.provider,
        UserApiKey.encrypted_key,
        UserApiKey.updated_at,
    ).order_by(UserApiKey.id)
    with translated_errors(database), database.transaction() as session:
        # FOR UPDATE: a key set while this runs waits, instead of being overwritten or missed.
        locked = session.execute(rows.with_for_update()).all()
        target = key_format(session)
        changes: list[dict[str, object]] = []
        failed: list[str] = []
        legacy = 0
        for row_id, user_id, provider, stored, updated_at in locked:
            try:
                plaintext = old_vault.decrypt(stored, user_id=user_id, provider=provider)
            except (DecryptionError, ValidationError):
                failed.append(row_id)
                continue
            legacy += KeyVault.is_legacy(stored)
            encrypted = new_vault.encrypt(
                plaintext, user_id=user_id, provider=provider, format=target
            )
            # updated_at given as it was: otherwise its onupdate default would stamp every row.
            changes.append({"id": row_id, "encrypted_key": encrypted, "updated_at": updated_at})
        if failed:
            raise DecryptionError(_failure_message(failed, len(locked)))
        if changes and not dry_run:
            # ORM bulk UPDATE by primary key: one executemany, not a statement per row.
            session.execute(update(UserApiKey), changes)
    return RotationReport(rotated=len(changes), from_legacy=legacy, dry_run=dry_run, format=target)


def _failure_message(failed: list[str], total: int) -> str:
    return (
        f"{len(failed)} of {total} API keys do not decrypt under the old secret "
        f'(ENCRYPTION_KEY_OLD), so nothing was changed. Row ids in "user_api_key": '
        f"{', '.join(failed)}. Check ENCRYPTION_KEY_OLD is the secret they were written with; "
        "rows that cannot be recovered can be deleted, and their owners set the keys again."
    )
