"""`Workbench`: what a signed-in user holds. Every service is reached through it.

Each service is built on first use and bound to this handle's user, so no public function
anywhere takes a user id from its caller.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property
from typing import TYPE_CHECKING

from workbench.db.engine import Database

if TYPE_CHECKING:
    from workbench.services.api_keys import ApiKeyService


@dataclass(frozen=True)
class SignedInUser:
    """Who the handle belongs to: public profile fields only, never credentials."""

    id: str
    email: str
    name: str


class Workbench:
    """A signed-in user's handle on the workbench.

    >>> wb = workbench.connect()          # doctest: +SKIP
    >>> wb.scenarios.list()               # doctest: +SKIP
    """

    def __init__(self, database: Database, user: SignedInUser) -> None:
        self._database = database
        self._user = user

    @property
    def user(self) -> SignedInUser:
        return self._user

    @property
    def database(self) -> Database:
        return self._database

    @cached_property
    def api_keys(self) -> ApiKeyService:
        """Your provider API keys: set, list, deactivate, delete (never shown again)."""
        from workbench.services.api_keys import ApiKeyService

        return ApiKeyService(self._database, self._user.id)

    def __repr__(self) -> str:
        return f"Workbench(user={self._user.email!r}, database={self._database.describe()!r})"
