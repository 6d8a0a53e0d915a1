"""Tests for workbench.crypto.vault: Node interop, tamper resistance, clean errors, key caching."""

from __future__ import annotations

import hashlib
import re
import secrets
import time
import traceback
from collections.abc import Iterator
from typing import Any

import pytest
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

from workbench.crypto import vault as vault_module
from workbench.crypto.vault import DECRYPTION_FAILED, KeyVault
from workbench.errors import ConfigError, DecryptionError, ValidationError

SECRET = "workbench-test-master-secret"
PLAINTEXT = "sk-test-1234567890abcdefghijklmnop"
# Made by the web app's Node code: crypto.scryptSync(secret, "salt", 32), AES-256-CBC.
LEGACY = (
    "2a2532107ec6bf8ef14aff727abe398f:9b42c205324faaa0ccdd6d5f411bc5501c283a1eaceefaf1dc6df4f6640312f1"
    "79c44210fb7023ca296554458481bc10"
)
# Made by the Node v2 writer documented in the vault module (user "user123", provider "anthropic").
NODE_V2 = (
    "v2:2de52f66ea813e85718ddbbe2148b00b:b439d546f1b0aa6828b16a3eeab68154:"
    "191e12bfe681bbaaea012ccc816bd440250cbfaca681a3df824f75fa713407f0"
)
ROW = {"user_id": "user123", "provider": "openai"}
V2_SHAPE = re.compile(r"v2:[0-9a-f]{32}:(?:[0-9a-f]{32})+:[0-9a-f]{64}")


@pytest.fixture(scope="module")
def vault() -> KeyVault:
    return KeyVault(SECRET)


@pytest.fixture(scope="module")
def stored(vault: KeyVault) -> str:
    return vault.encrypt(PLAINTEXT, **ROW)


def assert_clean_failure(excinfo: pytest.ExceptionInfo[DecryptionError]) -> None:
    """The one fixed message, and nothing chained that could carry a cause or plaintext bytes."""
    assert str(excinfo.value) == DECRYPTION_FAILED
    assert excinfo.value.__cause__ is None
    assert excinfo.value.__context__ is None


def flipped(text: str) -> Iterator[str]:
    """Each variant of ``text`` with exactly one character changed (hex stays hex)."""
    for i, ch in enumerate(text):
        yield text[:i] + ("1" if ch == "0" else "0") + text[i + 1 :]


def seal(vault: KeyVault, padded: bytes, user_id: str, provider: str) -> str:
    """A correctly MACed v2 value around arbitrary already-padded bytes (needs the keys)."""
    iv = secrets.token_bytes(16)
    encryptor = Cipher(algorithms.AES(vault._enc_key), modes.CBC(iv)).encryptor()
    ciphertext = encryptor.update(padded) + encryptor.finalize()
    context = b"v2\x00" + user_id.encode() + b"\x00" + provider.encode() + b"\x00"
    mac = vault._mac(context, iv, ciphertext)
    return f"v2:{iv.hex()}:{ciphertext.hex()}:{mac.hex()}"


# --- interoperability ---------------------------------------------------------------------------


def test_legacy_node_vector_decrypts(vault: KeyVault) -> None:
    assert vault.decrypt(LEGACY, **ROW) == PLAINTEXT
    assert vault.is_legacy(LEGACY)


def test_node_v2_vector_decrypts(vault: KeyVault) -> None:
    assert vault.decrypt(NODE_V2, user_id="user123", provider="anthropic") == "sk-from-node-ü"
    assert not vault.is_legacy(NODE_V2)


def test_encryption_key_is_the_legacy_key() -> None:
    # The first half of the 64-byte derivation must equal Node's scryptSync(secret, "salt", 32).
    legacy_key = hashlib.scrypt(SECRET.encode(), salt=b"salt", n=16384, r=8, p=1, dklen=32)
    assert KeyVault(SECRET)._enc_key == legacy_key
    assert KeyVault(SECRET)._mac_key != legacy_key


# --- round trip ---------------------------------------------------------------------------------


@pytest.mark.parametrize("plaintext", [PLAINTEXT, "", "x" * 15, "x" * 16, "ключ-🔑", "a:b\x00c"])
def test_round_trip(vault: KeyVault, plaintext: str) -> None:
    stored = vault.encrypt(plaintext, **ROW)
    assert V2_SHAPE.fullmatch(stored)
    assert not vault.is_legacy(stored)
    assert vault.decrypt(stored, **ROW) == plaintext
    assert KeyVault(SECRET).decrypt(stored, **ROW) == plaintext


def test_iv_is_random(vault: KeyVault) -> None:
    assert vault.encrypt(PLAINTEXT, **ROW) != vault.encrypt(PLAINTEXT, **ROW)


# --- tampering ----------------------------------------------------------------------------------


def test_every_single_character_change_is_refused(vault: KeyVault, stored: str) -> None:
    variants = list(flipped(stored))
    assert len(variants) == len(stored)
    for variant in variants:
        with pytest.raises(DecryptionError) as excinfo:
            vault.decrypt(variant, **ROW)
        assert_clean_failure(excinfo)


def test_uppercase_hex_is_refused(vault: KeyVault, stored: str) -> None:
    with pytest.raises(DecryptionError):
        vault.decrypt(stored.upper().replace("V2", "v2"), **ROW)


def test_every_truncation_is_refused(vault: KeyVault, stored: str) -> None:
    for end in range(len(stored)):
        with pytest.raises(DecryptionError) as excinfo:
            vault.decrypt(stored[:end], **ROW)
        assert_clean_failure(excinfo)


def test_extensions_are_refused(vault: KeyVault, stored: str) -> None:
    version, iv, ciphertext, mac = stored.split(":")
    extra_block = "00" * 16
    variants = [
        stored + "0",
        stored + "00",
        stored + "\n",
        " " + stored,
        stored + ":",
        stored + ":" + mac,
        f"{version}:{iv}:{ciphertext + extra_block}:{mac}",
        f"{version}:{iv}:{extra_block + ciphertext}:{mac}",
        f"{version}:{iv}:{ciphertext[32:]}:{mac}",  # a whole block dropped
        f"{version}:{iv}:{ciphertext}:{mac}:{mac}",
        f"{version}:{ciphertext}:{mac}",
        f"{iv}:{ciphertext}:{mac}",
        f"v3:{iv}:{ciphertext}:{mac}",
    ]
    for variant in variants:
        with pytest.raises(DecryptionError) as excinfo:
            vault.decrypt(variant, **ROW)
        assert_clean_failure(excinfo)


@pytest.mark.parametrize("garbage", ["", "v2", "v2:::", "not an api key", "sk-live-plaintext"])
def test_garbage_is_refused(vault: KeyVault, garbage: str) -> None:
    with pytest.raises(DecryptionError) as excinfo:
        vault.decrypt(garbage, **ROW)
    assert_clean_failure(excinfo)


def test_wrong_secret_is_refused(stored: str) -> None:
    with pytest.raises(DecryptionError) as excinfo:
        KeyVault(SECRET + "!").decrypt(stored, **ROW)
    assert_clean_failure(excinfo)


def test_wrong_secret_never_yields_the_legacy_plaintext() -> None:
    # Without a MAC a wrong key cannot always be detected; it must still not produce the key.
    try:
        result = KeyVault("another-secret").decrypt(LEGACY, **ROW)
    except DecryptionError as error:
        assert str(error) == DECRYPTION_FAILED
    else:
        assert result != PLAINTEXT


@pytest.mark.parametrize(
    "row",
    [
        {"user_id": "user124", "provider": "openai"},
        {"user_id": "user123", "provider": "anthropic"},
        {"user_id": "openai", "provider": "user123"},
        # Moving characters across the separator must not give the same MAC input.
        {"user_id": "user123o", "provider": "penai"},
        {"user_id": "user12", "provider": "3openai"},
    ],
)
def test_value_copied_to_another_row_is_refused(
    vault: KeyVault, stored: str, row: dict[str, str]
) -> None:
    with pytest.raises(DecryptionError) as excinfo:
        vault.decrypt(stored, **row)
    assert_clean_failure(excinfo)


@pytest.mark.parametrize(
    "row", [{"user_id": "", "provider": "openai"}, {"user_id": "u", "provider": "open\x00ai"}]
)
def test_ambiguous_row_context_is_rejected(vault: KeyVault, row: dict[str, str]) -> None:
    with pytest.raises(ValidationError):
        vault.encrypt(PLAINTEXT, **row)
    with pytest.raises(ValidationError):
        vault.decrypt(NODE_V2, **row)


def test_tampered_legacy_never_yields_the_plaintext_or_another_error(vault: KeyVault) -> None:
    # CBC without a MAC cannot detect every change: some variants decrypt to garbage. The promises
    # are only: DecryptionError with the fixed message, or text that is not the original key.
    refused = 0
    for variant in [*flipped(LEGACY), *(LEGACY[:end] for end in range(len(LEGACY)))]:
        try:
            result = vault.decrypt(variant, **ROW)
        except DecryptionError as error:
            assert str(error) == DECRYPTION_FAILED
            assert error.__context__ is None
            refused += 1
        else:
            assert result != PLAINTEXT
    assert refused > 0


# --- authentic but malformed plaintext (only possible with the keys) ---------------------------


def test_bad_padding_under_a_valid_mac_is_the_same_error(vault: KeyVault) -> None:
    stored = seal(vault, b"sk-secret-abcdef" + b"x" * 15 + b"\x00", **ROW)
    with pytest.raises(DecryptionError) as excinfo:
        vault.decrypt(stored, **ROW)
    assert_clean_failure(excinfo)


def test_invalid_utf8_does_not_leak_plaintext_through_the_traceback(vault: KeyVault) -> None:
    stored = seal(vault, b"sk-secret-abc\xff" + b"\x02\x02", **ROW)
    with pytest.raises(DecryptionError) as excinfo:
        vault.decrypt(stored, **ROW)
    assert_clean_failure(excinfo)
    assert "sk-secret" not in "".join(traceback.format_exception(excinfo.value))


# --- secrecy and caching ------------------------------------------------------------------------


def test_repr_and_str_hide_the_secret(vault: KeyVault) -> None:
    assert repr(vault) == str(vault) == "KeyVault(<redacted>)"
    assert SECRET not in repr(vault)
    assert not hasattr(vault, "__dict__")


def test_cache_is_keyed_by_digest_not_secret() -> None:
    KeyVault(SECRET)
    assert hashlib.sha256(SECRET.encode()).digest() in vault_module._KEY_CACHE
    assert all(SECRET.encode() not in key for key in vault_module._KEY_CACHE)


def test_empty_secret_is_a_config_error() -> None:
    with pytest.raises(ConfigError, match="ENCRYPTION_KEY"):
        KeyVault("")


def test_keys_are_derived_once_and_decryption_is_fast(monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[dict[str, Any]] = []
    real_scrypt = hashlib.scrypt

    def counting_scrypt(password: bytes, **kwargs: Any) -> bytes:
        calls.append(kwargs)
        return real_scrypt(password, **kwargs)

    monkeypatch.setattr(hashlib, "scrypt", counting_scrypt)
    secret = "fresh-" + secrets.token_hex(16)  # not yet in the process-wide cache
    first = KeyVault(secret)
    assert len(calls) == 1
    second = KeyVault(secret)
    assert len(calls) == 1

    rows = [(f"user{i}", "openai") for i in range(1000)]
    stored = [first.encrypt(f"sk-{i:04d}", user_id=u, provider=p) for i, (u, p) in enumerate(rows)]
    started = time.perf_counter()
    decrypted = [
        second.decrypt(s, user_id=u, provider=p) for s, (u, p) in zip(stored, rows, strict=True)
    ]
    elapsed = time.perf_counter() - started

    assert decrypted == [f"sk-{i:04d}" for i in range(1000)]
    assert len(calls) == 1
    assert elapsed < 0.5, f"1000 decryptions took {elapsed:.3f}s"
