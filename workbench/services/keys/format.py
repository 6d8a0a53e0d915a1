"""Which format new API-key rows are written in: an installation setting, for every user.

- `v2` (authenticated, bound to its row) where the workbench created `public` itself: no web app
  that reads only the old format shares these rows.
- `legacy` (the web app's own `<iv>:<ciphertext>`) where a Prisma app created `public` (the
  upgrade recorded `public_owner = external`): the unchanged web app beside it can still read
  every key a notebook user saves.

The choice is the row `api_key_format` of `workbench.installation_setting` once an administrator
has made it (`workbench keys format v2|legacy`); until then it follows `public_owner`. Both
formats are always read; only writing depends on it.
"""

from __future__ import annotations

from typing import Literal, get_args

from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.orm import Session

from workbench.db.engine import Database
from workbench.db.models import InstallationSetting
from workbench.errors import ValidationError, quoted
from workbench.services._base import translated_errors

KeyFormat = Literal["v2", "legacy"]
FORMATS: tuple[KeyFormat, ...] = get_args(KeyFormat)
SETTING = "api_key_format"
OWNER_SETTING = "public_owner"


def key_format(session: Session) -> KeyFormat:
    """The format new rows are written in (one query: the setting and the owner together)."""
    query = select(InstallationSetting.key, InstallationSetting.value).where(
        InstallationSetting.key.in_((SETTING, OWNER_SETTING))
    )
    rows = {key: value for key, value in session.execute(query)}
    chosen = rows.get(SETTING)
    if chosen in FORMATS:
        return chosen
    return "legacy" if rows.get(OWNER_SETTING) == "external" else "v2"


def current_key_format(database: Database) -> tuple[KeyFormat, bool]:
    """The format in effect and whether an administrator chose it (else it is the default)."""
    with translated_errors(database), database.transaction() as session:
        chosen = session.scalar(
            select(InstallationSetting.value).where(InstallationSetting.key == SETTING)
        )
        return key_format(session), chosen in FORMATS


def set_key_format(database: Database, chosen: str) -> KeyFormat:
    """Record `chosen` as the format to write; existing rows change only with `keys rotate`."""
    if chosen not in FORMATS:
        raise ValidationError(
            f"{quoted(chosen)} is not an API key format; use one of {', '.join(FORMATS)}."
        )
    statement = insert(InstallationSetting).values(key=SETTING, value=chosen)
    statement = statement.on_conflict_do_update(index_elements=["key"], set_={"value": chosen})
    with translated_errors(database), database.transaction() as session:
        session.execute(statement)
    return chosen
