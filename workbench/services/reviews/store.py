"""Writing a label: the current row and its history entry, in the caller's transaction."""

from __future__ import annotations

from typing import Any

import psycopg

from workbench.services.reviews import sql
from workbench.timeutil import utcnow


def write_label(
    connection: psycopg.Connection[Any],
    user_id: str,
    result_id: int,
    run_id: str,
    label: str,
    comment: str | None,
) -> tuple[Any, ...]:
    """Upsert the label (`comment` None keeps the one there was, "" removes it) and append
    the change; the stored (label, comment, created_at, updated_at)."""
    now = utcnow().replace(tzinfo=None)
    params = {"u": user_id, "id": result_id, "r": run_id, "label": label,
              "comment": comment or None, "keep": comment is None, "now": now}  # fmt: skip
    stored = connection.execute(sql.UPSERT_LABEL, params).fetchone()
    assert stored is not None  # an upsert always returns its row
    connection.execute(sql.RECORD_CHANGE, params | {"comment": stored[1]})
    return tuple(stored)
