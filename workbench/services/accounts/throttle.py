"""Sign-in throttling kept in the database, so every kernel on it shares one count.

After `MAX_FAILURES` failed password checks for one email within `WINDOW`, password sign-in
for that email is refused until the oldest of those failures leaves the window. Unknown emails
are throttled exactly like known ones, so the throttle reveals nothing about who is registered.
"""

from __future__ import annotations

import math
from datetime import datetime, timedelta

from sqlalchemy import delete, insert, select
from sqlalchemy.orm import Session

from workbench.db.workbench_models import SignInFailure
from workbench.errors import AuthError

MAX_FAILURES = 5
WINDOW = timedelta(minutes=15)


def throttled_until(session: Session, *, email: str, now: datetime) -> datetime | None:
    """When sign-in for `email` opens again, or None when it is open now."""
    # The MAX_FAILURES-th newest failure in the window is the one whose expiry reopens sign-in.
    oldest_counted = session.scalar(
        select(SignInFailure.failed_at)
        .where(SignInFailure.email == email, SignInFailure.failed_at > now - WINDOW)
        .order_by(SignInFailure.failed_at.desc())
        .offset(MAX_FAILURES - 1)
        .limit(1)
    )
    return None if oldest_counted is None else oldest_counted + WINDOW


def throttled_error(until: datetime, now: datetime) -> AuthError:
    minutes = max(1, math.ceil((until - now).total_seconds() / 60))
    return AuthError(
        f"Too many failed sign-ins for this email ({MAX_FAILURES} within "
        f"{WINDOW.seconds // 60} minutes): try again after {until:%H:%M:%S} UTC (in about "
        f"{minutes} min), or reset the password with workbench.request_password_reset(email)."
    )


def record_failure(session: Session, *, email: str, now: datetime) -> None:
    """Count one failure for `email`, and prune failures too old to count for anyone."""
    session.execute(delete(SignInFailure).where(SignInFailure.failed_at <= now - WINDOW))
    session.execute(insert(SignInFailure).values(email=email, failed_at=now))


def clear_failures(session: Session, *, email: str) -> None:
    """Forget `email`'s failures: a correct password starts the count again."""
    session.execute(delete(SignInFailure).where(SignInFailure.email == email))
