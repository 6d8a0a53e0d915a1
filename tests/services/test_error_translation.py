"""Driver errors are translated once, at the service boundary."""

from __future__ import annotations

import pytest
from sqlalchemy import text

from workbench.errors import ValidationError
from workbench.handle import Workbench
from workbench.services._base import UserScopedService


class RawService(UserScopedService):
    """A service that skips every up-front check, to reach the database's own refusal."""

    def write_text(self, value: str) -> None:
        with self._transaction() as session:
            session.execute(text("SELECT CAST(:value AS text)"), {"value": value})


def test_a_nul_character_the_driver_refuses_is_a_validation_error(wb: Workbench) -> None:
    service = RawService(wb.database, wb.user.id)
    with pytest.raises(ValidationError, match="NUL character") as caught:
        service.write_text("before\x00after")
    assert caught.value.__cause__ is None
