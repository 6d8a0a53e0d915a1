"""UTC time as the shared schema stores it: `timestamp(3)`, naive in the database, UTC always."""

from __future__ import annotations

from datetime import UTC, datetime


def utcnow() -> datetime:
    """The current UTC time, truncated to the millisecond the database keeps.

    Truncating here means the value a service returns equals the value it stored, to the
    microsecond, so comparisons after a round trip never drift.
    """
    now = datetime.now(UTC)
    return now.replace(microsecond=now.microsecond // 1000 * 1000)
