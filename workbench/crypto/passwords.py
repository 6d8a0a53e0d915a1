"""Password hashing compatible with Better Auth's default scrypt hasher.

Stored form: ``<salt>:<key>``, where ``salt`` is 16 random bytes written as 32 lowercase hex
characters, and ``key`` is the lowercase hex of::

    scrypt(NFKC(password) as UTF-8, salt=<the 32-character hex string as ASCII bytes>,
           N=16384, r=16, p=1, dkLen=64)

Better Auth feeds the hex *string* (not the 16 decoded bytes) to scrypt as the salt; we must do the
same or hashes written by either side would not verify on the other.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
import unicodedata
from collections.abc import Callable

from workbench.crypto.secret import Secret, reveal
from workbench.errors import ValidationError

Password = str | Secret
"""A password as given (`str`) or already wrapped; every function here takes either."""

MIN_LENGTH = 8
MAX_LENGTH = 128

_N = 16384
_R = 16
_P = 1
_DKLEN = 64
# scrypt needs 128 * N * r bytes (32 MiB here), which is exactly OpenSSL's default ceiling, and
# OpenSSL counts a little overhead on top; allow twice that, as Better Auth does.
_MAXMEM = 128 * _N * _R * 2

_KEY_HEX = re.compile(rf"[0-9a-fA-F]{{{_DKLEN * 2}}}")

# A well-formed hash of a random password nobody knows; only used to spend the same time.
_DUMMY_HASH = (
    "3f1c8b1e0a6d4e5f9a2b7c3d4e5f6a7b:"
    "5b1d0c6f2e9a8b7c4d3e2f1a0b9c8d7e6f5a4b3c2d1e0f9a8b7c6d5e4f3a2b1c"
    "0d9e8f7a6b5c4d3e2f1a0b9c8d7e6f5a4b3c2d1e0f9a8b7c6d5e4f3a2b1c0d9e"
)


def _utf16_length(text: str) -> int:
    # Better Auth checks JavaScript's string.length, which counts UTF-16 code units: an emoji is 2.
    return len(text.encode("utf-16-le", "surrogatepass")) // 2


def _password_bytes(password: Password) -> bytes:
    # JavaScript's TextEncoder turns lone surrogates into U+FFFD instead of failing; a UTF-16 round
    # trip does the same here (and joins surrogate pairs), so odd input hashes as it would in Node.
    # The text is only ever an expression (never a named local), so a verbose traceback of this
    # frame shows Secret('***') (see crypto.secret).
    if any("\ud800" <= ch <= "\udfff" for ch in reveal(password)):
        return unicodedata.normalize(
            "NFKC",
            reveal(password).encode("utf-16-le", "surrogatepass").decode("utf-16-le", "replace"),
        ).encode("utf-8")
    return unicodedata.normalize("NFKC", reveal(password)).encode("utf-8")


ScryptObserver = Callable[[dict[str, int]], None]
SCRYPT_OBSERVERS: list[ScryptObserver] = []
"""Called with the cost parameters of every scrypt run (n, r, p, dklen, maxmem, salt_length).

An instrumentation hook: tests prove that refusing an unknown email and a wrong password each
cost exactly one scrypt of the same cost, without timing anything.
"""


def _derive(password: Password, salt: str) -> bytes:
    for observe in SCRYPT_OBSERVERS:
        observe(
            {
                "n": _N,
                "r": _R,
                "p": _P,
                "dklen": _DKLEN,
                "maxmem": _MAXMEM,
                "salt_length": len(salt),
            }
        )
    return hashlib.scrypt(
        _password_bytes(password),
        salt=salt.encode("utf-8"),
        n=_N,
        r=_R,
        p=_P,
        dklen=_DKLEN,
        maxmem=_MAXMEM,
    )


def validate_password(password: Password) -> None:
    """Raise :class:`ValidationError` unless ``password`` is 8 to 128 characters long.

    Length is counted as the web app counts it (UTF-16 code units), so both accept the same
    passwords.
    """
    length = _utf16_length(reveal(password))
    if length < MIN_LENGTH:
        raise ValidationError(
            f"Password is too short: it must be at least {MIN_LENGTH} characters."
        )
    if length > MAX_LENGTH:
        raise ValidationError(f"Password is too long: it must be at most {MAX_LENGTH} characters.")


def hash_password(password: Password) -> str:
    """Return ``<salt>:<key>`` for ``password``, in Better Auth's format (see module docstring)."""
    salt = secrets.token_hex(16)
    return f"{salt}:{_derive(password, salt).hex()}"


def verify_password(password: Password, stored: str) -> bool:
    """Return whether ``password`` matches ``stored``; ``False`` (never an error) if malformed."""
    salt, sep, key_hex = stored.partition(":")
    if not sep or not salt or ":" in key_hex or not _KEY_HEX.fullmatch(key_hex):
        return False
    return hmac.compare_digest(_derive(password, salt), bytes.fromhex(key_hex))


def dummy_verify(password: Password) -> None:
    """Spend as long as one :func:`verify_password`, and discard the result.

    Call it when no account matches the email, so an unknown email takes about as long to refuse as
    a wrong password and sign-in timing does not reveal which emails are registered.
    """
    verify_password(password, _DUMMY_HASH)
