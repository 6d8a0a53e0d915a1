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
    original, original_stream = psycopg.Cursor.execute, psycopg.Cursor.stream

    def note(query: Any) -> None:
        sql = str(query)
        if not sql.lstrip().upper().startswith(("SAVEPOINT", "RELEASE", "ROLLBACK")):
            seen.append(sql)

    def execute(cursor: Any, query: Any, *args: Any, **kwargs: Any) -> Any:
        note(query)
        return original(cursor, query, *args, **kwargs)

    def stream(cursor: Any, query: Any, *args: Any, **kwargs: Any) -> Any:
        note(query)  # a long list is read in chunks (services/scenarios/listing.py)
        return original_stream(cursor, query, *args, **kwargs)

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(psycopg.Cursor, "execute", execute)
        patch.setattr(psycopg.Cursor, "stream", stream)
        yield seen
