"""`DATABASE_URL` as the web app writes it, turned into what SQLAlchemy and psycopg need.

Both `postgres://` and `postgresql://` are accepted; query parameters (`sslmode=require`,
`channel_binding`, ...) pass through untouched, as Neon needs.
"""

from __future__ import annotations

from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import ArgumentError

from workbench.errors import ConfigError

DRIVER = "postgresql+psycopg"


def parse_database_url(raw: str, *, source: str = "DATABASE_URL") -> URL:
    """Parse a PostgreSQL URL, or raise `ConfigError` naming `source`, with the password masked."""
    text = raw.strip()
    scheme, sep, _ = text.partition("://")
    if not sep or scheme.split("+")[0] not in ("postgres", "postgresql"):
        raise ConfigError(
            f"{source} must be a PostgreSQL URL like postgresql://user:password@host:5432/dbname "
            f"(got {mask_raw(text)!r})."
        )
    try:
        url = make_url("postgresql" + text[len(scheme) :] if scheme == "postgres" else text)
    except (ArgumentError, ValueError) as error:
        raise ConfigError(f"{source} could not be parsed ({mask_raw(text)!r}): {error}") from None
    return url.set(drivername=DRIVER)


def display(url: URL) -> str:
    """The URL with its password replaced by ***: safe for messages and logs."""
    return url.render_as_string(hide_password=True)


def host_of(url: URL) -> str:
    """The host a message should name; a socket directory for local servers."""
    host = url.host or url.query.get("host") or "localhost"
    return host if isinstance(host, str) else host[0]


def mask_raw(text: str) -> str:
    """Mask the password in a URL that may not even parse."""
    scheme, sep, rest = text.partition("://")
    credentials, at, location = rest.rpartition("@")
    if not sep or not at or ":" not in credentials:
        return text
    user = credentials.split(":", 1)[0]
    return f"{scheme}://{user}:***@{location}"
