"""Counting the SQL a service sends, to prove "one round trip per page" rather than assume it."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import psycopg
import pytest


@contextmanager
def counting_statements() -> Iterator[list[str]]:
    """The SQL statements sent to PostgreSQL inside the block.

    Counted at the driver (psycopg), so statements that SQLAlchemy runs and those a service
    runs on the raw connection both show. Savepoint bookkeeping, which the rolled-back test
    fixtures add, is left out.
    """
    seen: list[str] = []
    original = psycopg.Cursor.execute

    def execute(cursor: Any, query: Any, *args: Any, **kwargs: Any) -> Any:
        sql = str(query)
        if not sql.lstrip().upper().startswith(("SAVEPOINT", "RELEASE", "ROLLBACK")):
            seen.append(sql)
        return original(cursor, query, *args, **kwargs)

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(psycopg.Cursor, "execute", execute)
        yield seen
