"""One tree of errors under :class:`WorkbenchError`, each with a message a notebook user can act on.

Lower-layer exceptions (psycopg, SQLAlchemy, cryptography) are translated into these once, at the
service boundary; nothing outside the package should ever need to catch a driver exception.
"""

from __future__ import annotations

import reprlib
from typing import Literal

QUOTE_LIMIT = 60
"""How many characters of a user's value a message quotes (the rest is counted, not shown)."""

MESSAGE_LIMIT = 8_000
"""The longest message any `ValidationError` carries; the full detail stays on `.problems`."""

LISTED_PROBLEMS = 20
"""How many problems a message lists before "and N more"."""

_bounded_repr = reprlib.Repr()
_bounded_repr.maxlevel = 3
_bounded_repr.maxstring = _bounded_repr.maxother = QUOTE_LIMIT + 10


def quoted(value: object, limit: int = QUOTE_LIMIT) -> str:
    """A bounded repr of `value` for a message: at most `limit` characters of it, and a count.

    Work and size are bounded whatever `value` is (a 10 MB string, a structure whose repr
    would be exponential), because only a prefix is ever converted.

    >>> quoted("x" * 100, limit=5)
    "'xxxxx'…(95 more characters)"
    """
    if isinstance(value, str):
        if len(value) <= limit:
            return repr(value)
        return f"{value[:limit]!r}…({len(value) - limit:,} more characters)"
    shown = _bounded_repr.repr(value)
    return shown if len(shown) <= limit + 10 else shown[: limit + 10] + "…"


def bounded_message(message: str, limit: int = MESSAGE_LIMIT) -> str:
    """`message` cut to `limit` characters and `LISTED_PROBLEMS` list lines, saying what was cut."""
    lines = message.split("\n", LISTED_PROBLEMS + 2)
    listed = [index for index, line in enumerate(lines) if line.startswith("- ")]
    if len(listed) > LISTED_PROBLEMS:
        total = message.count("\n- ")
        kept = lines[: listed[LISTED_PROBLEMS]]
        message = "\n".join(kept) + f"\n- and {total - LISTED_PROBLEMS:,} more (see .problems)"
    if len(message) > limit:
        message = message[:limit] + f"…({len(message) - limit:,} more characters)"
    return message


class WorkbenchError(Exception):
    """Base of every error the workbench raises on purpose."""


class NotFound(WorkbenchError):
    """The row does not exist, or belongs to another user (the two are indistinguishable)."""


class Duplicate(WorkbenchError):
    """A unique field already holds this value (the equivalent of Prisma's P2002)."""

    def __init__(self, message: str, *, field: str) -> None:
        super().__init__(message)
        self.field = field


class Conflict(WorkbenchError):
    """The row changed since it was read; nothing was overwritten."""


class ValidationError(WorkbenchError):
    """Input that cannot be stored as given; the message names the field and position.

    Whatever a caller passes, the message is bounded (`bounded_message`): at most
    `LISTED_PROBLEMS` "- " lines then "and N more", at most `MESSAGE_LIMIT` characters. The
    full list stays on `.problems`.
    """

    def __init__(self, message: str, *, problems: list[str] | None = None) -> None:
        super().__init__(bounded_message(message))
        self.problems = problems if problems is not None else [message]


class AuthError(WorkbenchError):
    """Sign-in, session or token refused."""


class DecryptionError(WorkbenchError):
    """A stored secret could not be decrypted (wrong secret, tampered or foreign row)."""


class DatabaseError(WorkbenchError):
    """The database could not run a statement although the connection is fine (say, a limit)."""


class ConfigError(WorkbenchError):
    """The environment or database is not set up as the workbench needs; the message says how."""


ErrorKind = Literal[
    "auth", "rate_limit", "server", "timeout", "connection", "bad_request", "bad_response"
]


class ProviderError(WorkbenchError):
    """A call to a model API failed; the message never contains a key.

    `kind` says what went wrong, `retryable` whether waiting and trying again could help (the
    generate layer has already retried when this reaches the caller), `status` the HTTP status.
    """

    def __init__(
        self,
        message: str,
        *,
        kind: ErrorKind,
        retryable: bool,
        status: int | None = None,
        retry_after: float | None = None,
    ) -> None:
        super().__init__(message)
        self.kind: ErrorKind = kind
        self.retryable = retryable
        self.status = status
        self.retry_after = retry_after  # seconds the server asked us to wait, if it said

    def __repr__(self) -> str:
        return f"ProviderError({str(self)!r}, kind={self.kind!r}, status={self.status!r})"


class ResultsNotStored(ConfigError):
    """Finished attempts whose results could not be written (the database went away): the run
    stopped, and `wb.runs.resume(run_id)` plays those attempts again. A `ConfigError`, as every
    call that finds the database gone raises."""

    def __init__(self, message: str, *, run_id: str, count: int) -> None:
        super().__init__(message)
        self.run_id = run_id
        self.count = count
