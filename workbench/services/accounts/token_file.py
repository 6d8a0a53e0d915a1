"""The saved-session file: lets a new kernel resume a session without the password.

`<config_dir>/sessions.json` (mode 0600) maps a fingerprint of each database's URL (password
masked) to the token of the session last remembered there, so two databases never clash. It is
rewritten atomically (write a private temporary file, then rename), so a kernel reading while
another writes sees the old map or the new one, never half of one.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import secrets
from pathlib import Path

from workbench.crypto.tokens import hash_token
from workbench.db.engine import Database
from workbench.db.url import display
from workbench.paths import config_dir, write_private_file

FILE_NAME = "sessions.json"


def token_file() -> Path:
    return config_dir() / FILE_NAME


def database_key(database: Database) -> str:
    """Which entry belongs to `database`: a digest of its URL, so the file names no hosts."""
    return hashlib.sha256(display(database.url).encode("utf-8")).hexdigest()


def _read() -> dict[str, str]:
    try:
        loaded = json.loads(token_file().read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}  # missing or unreadable: as if nothing were saved
    if not isinstance(loaded, dict):
        return {}
    return {key: value for key, value in loaded.items() if isinstance(value, str)}


def _write(entries: dict[str, str]) -> None:
    path = token_file()
    if not entries:
        with contextlib.suppress(FileNotFoundError):
            path.unlink()
        return
    temporary = path.with_name(f".{FILE_NAME}.{secrets.token_hex(4)}.tmp")
    write_private_file(temporary, json.dumps(entries, indent=1, sort_keys=True))
    os.replace(temporary, path)


def load_token(database: Database) -> str | None:
    """The token saved for `database`, if any."""
    return _read().get(database_key(database))


def save_token(database: Database, token: str) -> None:
    """Remember `token` as `database`'s session, replacing any earlier one."""
    entries = _read()
    entries[database_key(database)] = token
    _write(entries)


def forget_token(database: Database, *, token_hash: str) -> None:
    """Drop `database`'s saved token if it is the one hashing to `token_hash`.

    A token saved since by a later sign-in in another kernel stays.
    """
    entries = _read()
    key = database_key(database)
    saved = entries.get(key)
    if saved is not None and hash_token(saved) == token_hash:
        del entries[key]
        _write(entries)
