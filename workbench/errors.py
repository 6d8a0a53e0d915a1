"""One tree of errors under :class:`WorkbenchError`, each with a message a notebook user can act on.

Lower-layer exceptions (psycopg, SQLAlchemy, cryptography) are translated into these once, at the
service boundary; nothing outside the package should ever need to catch a driver exception.
"""

from __future__ import annotations


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
    """Input that cannot be stored as given; the message names the field and position."""

    def __init__(self, message: str, *, problems: list[str] | None = None) -> None:
        super().__init__(message)
        self.problems = problems if problems is not None else [message]


class AuthError(WorkbenchError):
    """Sign-in, session or token refused."""


class DecryptionError(WorkbenchError):
    """A stored secret could not be decrypted (wrong secret, tampered or foreign row)."""


class ConfigError(WorkbenchError):
    """The environment or database is not set up as the workbench needs; the message says how."""
