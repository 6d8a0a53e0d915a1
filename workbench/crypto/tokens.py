"""Random ids and session tokens in Better Auth's style, and the hash the database keeps of tokens.

Ids and tokens are 32 characters from ``[A-Za-z0-9]`` (about 190 bits), like Better Auth's
``generateId``. Tokens are handed to the client once; the database keeps only :func:`hash_token` of
them, so someone who can read the table cannot replay a session or verification token.
"""

from __future__ import annotations

import hashlib
import secrets
import string

ALPHABET = string.ascii_letters + string.digits
LENGTH = 32


def _random_string(length: int = LENGTH) -> str:
    # secrets.choice draws without modulo bias, so every character is uniform over the alphabet.
    return "".join(secrets.choice(ALPHABET) for _ in range(length))


def new_id() -> str:
    """Return a new row id: 32 random characters from ``[A-Za-z0-9]``."""
    return _random_string()


def new_token() -> str:
    """Return a new session or verification token: 32 random characters from ``[A-Za-z0-9]``."""
    return _random_string()


def hash_token(token: str) -> str:
    """Return the lowercase SHA-256 hex digest of ``token``: the only form the database stores.

    A fast unsalted hash is enough here (unlike passwords) because tokens are long and random.
    """
    return hashlib.sha256(token.encode("utf-8")).hexdigest()
