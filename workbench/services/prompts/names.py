"""Prompt names may repeat (the shared schema has no unique index for them, and adding one to
`public` would drift from the web app), so a lookup by name can be ambiguous and a create warns.
"""

from __future__ import annotations

import warnings

from sqlalchemy import select
from sqlalchemy.orm import Session

from workbench.db.models import Prompt
from workbench.errors import NotFound, ValidationError, quoted

# More ids than this are summarised: the message stays short however many prompts share a name.
SHOWN_IDS = 10


class DuplicatePromptName(UserWarning):
    """A prompt was created with a name another of your prompts already has."""


def ids_named(session: Session, user_id: str, name: str) -> list[str]:
    """The ids of the user's prompts called `name`, oldest first."""
    statement = (
        select(Prompt.id)
        .where(Prompt.user_id == user_id, Prompt.name == name)
        .order_by(Prompt.created_at, Prompt.id)
    )
    return list(session.scalars(statement))


def the_one_named(name: str, ids: list[str], *, use_id: str = "wb.prompts.get(<id>)") -> str:
    """The single id in `ids`, else `NotFound` (none) or `ValidationError` (several, listed).

    The one rule for a prompt named where an id could be given (`wb.prompts.get_by_name`, a
    run's `prompt=`); `use_id` says how the caller takes an id instead."""
    if not ids:
        raise NotFound(f"No prompt named {quoted(name)}; check the name (wb.prompts.list()).")
    if len(ids) > 1:
        raise ValidationError(
            f"The name {quoted(name)} is ambiguous: {len(ids)} of your prompts have it "
            f"(ids {_listed(ids)}). Use {use_id} with one of them, or rename the "
            "others with wb.prompts.update(<id>, name=...)."
        )
    return ids[0]


def warn_if_taken(name: str, taken: list[str]) -> None:
    """Warn when a new prompt's name is already used by the prompts `taken`."""
    if taken:
        warnings.warn(
            f"You already have a prompt named {quoted(name)} (ids {_listed(taken)}); the new one "
            "was saved too, but wb.prompts.get_by_name will now call this name ambiguous. "
            "Rename one of them (wb.prompts.update(<id>, name=...)) to keep names unique.",
            DuplicatePromptName,
            stacklevel=3,
        )


def _listed(ids: list[str]) -> str:
    shown = ", ".join(ids[:SHOWN_IDS])
    return shown if len(ids) <= SHOWN_IDS else f"{shown} and {len(ids) - SHOWN_IDS} more"
