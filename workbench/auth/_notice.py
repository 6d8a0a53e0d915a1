"""The one line `connect()` prints about who it signed in as.

Silent for the plain local-mode default (the OS account's own local user on the embedded
database): that is what a first-time user expects. Every other outcome is said, because it may
surprise: a session saved by an earlier `sign_in` (or `sign_up(..., remember=True)`) makes every
new kernel come back as that account, and the local user's scenarios then seem gone.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from workbench.handle import Workbench


def sign_in_notice(handle: Workbench, *, local_email: str | None, resumed: bool) -> str | None:
    """The notice for `handle`, or None when it is the local default user."""
    user, database = handle.user, handle.database
    if database.local and user.email == local_email:
        return None
    who = f"{user.name} <{user.email}>" if user.name else user.email
    line = f"workbench: signed in as {who} on {database.describe()}"
    if resumed and database.local:
        return line + (
            ", resuming a saved session (wb.sign_out() forgets it; connect() then gives you "
            "the local user again)."
        )
    if resumed:
        return line + ", resuming a saved session (wb.sign_out() forgets it)."
    return line + "."
