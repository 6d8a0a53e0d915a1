"""Encryption of provider API keys at rest, readable by the web app.

Key derivation (once per process per secret)::

    k       = scrypt(secret as UTF-8, salt=b"salt", N=16384, r=8, p=1, dkLen=64)
    enc_key = k[0:32]    # AES-256 key; identical to the web app's scryptSync(secret, "salt", 32)
    mac_key = k[32:64]   # HMAC-SHA256 key

scrypt ends in PBKDF2-HMAC-SHA256, which computes each 32-byte block of output independently, so
the first 32 bytes of a 64-byte derivation equal the 32-byte derivation the legacy format uses, and
the last 32 are an independent key. One scrypt call yields both keys.

Written format (``v2``), all hex lowercase::

    v2:<iv: 16 bytes>:<ciphertext: AES-256-CBC, PKCS#7 padded>:<mac: 32 bytes>
    mac = HMAC-SHA256(mac_key,
                      b"v2\\x00" + user_id + b"\\x00" + provider + b"\\x00" + iv + ciphertext)

user id and provider are UTF-8 and may not be empty or contain NUL (so the encoding is
unambiguous). Binding them into the MAC means a ciphertext copied to another user's or provider's
row does not decrypt. The MAC is checked in constant time before any decryption, so there is no
padding oracle.

Legacy format (the web app's own; always read, written only with ``format="legacy"``, which an
installation beside an unchanged web app chooses so that app can still read the keys)::

    <iv: 16 bytes hex>:<ciphertext hex>     AES-256-CBC/PKCS#7 under enc_key, no MAC

Every failure to decrypt -- wrong secret, tampering, a row from elsewhere, bad structure -- raises
the same :class:`DecryptionError` with the same message and no chained exception, so neither the
cause nor any plaintext leaks through the traceback.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
import threading

from cryptography.hazmat.primitives import padding
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

from workbench.errors import ConfigError, DecryptionError, ValidationError

DECRYPTION_FAILED = (
    "Could not decrypt the stored API key: it was written under another ENCRYPTION_KEY, "
    "or changed. Set the key again."
)

_VERSION = b"v2"
_BLOCK = 16
_V2 = re.compile(r"v2:([0-9a-f]{32}):((?:[0-9a-f]{32})+):([0-9a-f]{64})")
_LEGACY = re.compile(r"([0-9a-f]{32}):((?:[0-9a-f]{32})+)")

# Derived (enc_key, mac_key) by sha256(secret): scrypt costs tens of milliseconds and 16 MiB, too
# much to repeat per vault or per row. Keyed by a digest so the secret itself is not kept around.
_KEY_CACHE: dict[bytes, tuple[bytes, bytes]] = {}
_KEY_CACHE_LOCK = threading.Lock()


def _derive_keys(secret: str) -> tuple[bytes, bytes]:
    fingerprint = hashlib.sha256(secret.encode("utf-8")).digest()
    with _KEY_CACHE_LOCK:
        keys = _KEY_CACHE.get(fingerprint)
        if keys is None:
            material = hashlib.scrypt(
                secret.encode("utf-8"), salt=b"salt", n=16384, r=8, p=1, dklen=64, maxmem=64 << 20
            )
            keys = (material[:32], material[32:])
            _KEY_CACHE[fingerprint] = keys
    return keys


def _context(user_id: str, provider: str) -> bytes:
    for name, value in (("user_id", user_id), ("provider", provider)):
        if not value or "\x00" in value:
            raise ValidationError(f"{name} must be a non-empty string without NUL characters.")
    return b"\x00".join((_VERSION, user_id.encode("utf-8"), provider.encode("utf-8"), b""))


def _cbc_decrypt(key: bytes, iv: bytes, ciphertext: bytes) -> str | None:
    decryptor = Cipher(algorithms.AES(key), modes.CBC(iv)).decryptor()
    unpadder = padding.PKCS7(_BLOCK * 8).unpadder()
    try:
        padded = decryptor.update(ciphertext) + decryptor.finalize()
        return (unpadder.update(padded) + unpadder.finalize()).decode("utf-8")
    except ValueError:  # bad padding, or UnicodeDecodeError (a ValueError carrying the bytes)
        return None


class KeyVault:
    """Encrypts and decrypts API keys under the master secret (``ENCRYPTION_KEY``)."""

    __slots__ = ("_enc_key", "_mac_key")

    def __init__(self, secret: str) -> None:
        if not secret:
            raise ConfigError("ENCRYPTION_KEY is empty: set it to the same value the web app uses.")
        self._enc_key, self._mac_key = _derive_keys(secret)

    def __repr__(self) -> str:
        return "KeyVault(<redacted>)"

    def _mac(self, context: bytes, iv: bytes, ciphertext: bytes) -> bytes:
        return hmac.new(self._mac_key, context + iv + ciphertext, hashlib.sha256).digest()

    def encrypt(self, plaintext: str, *, user_id: str, provider: str, format: str = "v2") -> str:
        """Return ``plaintext`` encrypted in the ``v2`` format, bound to this user and provider,
        or with ``format="legacy"`` in the web app's unauthenticated ``<iv>:<ciphertext>``."""
        context = _context(user_id, provider)
        if format not in ("v2", "legacy"):
            raise ValidationError(f"format must be 'v2' or 'legacy', not {format!r}.")
        iv = secrets.token_bytes(_BLOCK)
        padder = padding.PKCS7(_BLOCK * 8).padder()
        padded = padder.update(plaintext.encode("utf-8")) + padder.finalize()
        encryptor = Cipher(algorithms.AES(self._enc_key), modes.CBC(iv)).encryptor()
        ciphertext = encryptor.update(padded) + encryptor.finalize()
        if format == "legacy":
            return f"{iv.hex()}:{ciphertext.hex()}"
        mac = self._mac(context, iv, ciphertext)
        return f"v2:{iv.hex()}:{ciphertext.hex()}:{mac.hex()}"

    def decrypt(self, stored: str, *, user_id: str, provider: str) -> str:
        """Return the plaintext of a ``v2`` or legacy value, or raise :class:`DecryptionError`.

        Legacy values carry no MAC, so ``user_id`` and ``provider`` cannot be checked for them.
        """
        context = _context(user_id, provider)
        plaintext = self._open(stored, context)
        if plaintext is None:
            # Raised outside any except block: no __context__ holding the cause or plaintext bytes.
            raise DecryptionError(DECRYPTION_FAILED) from None
        return plaintext

    def _open(self, stored: str, context: bytes) -> str | None:
        v2 = _V2.fullmatch(stored)
        if v2 is not None:
            iv, ciphertext, mac = (bytes.fromhex(group) for group in v2.groups())
            if not hmac.compare_digest(mac, self._mac(context, iv, ciphertext)):
                return None
            return _cbc_decrypt(self._enc_key, iv, ciphertext)
        legacy = _LEGACY.fullmatch(stored)
        if legacy is not None:
            iv, ciphertext = (bytes.fromhex(group) for group in legacy.groups())
            return _cbc_decrypt(self._enc_key, iv, ciphertext)
        return None

    @staticmethod
    def is_legacy(stored: str) -> bool:
        """Return whether ``stored`` is in the legacy (unauthenticated) format and should be
        re-encrypted with :meth:`encrypt`."""
        return _LEGACY.fullmatch(stored) is not None
