"""Tests for workbench.crypto.passwords, including vectors produced by Better Auth itself."""

from __future__ import annotations

import hashlib
import re
import unicodedata
from typing import Any

import pytest

from workbench.crypto.passwords import (
    dummy_verify,
    hash_password,
    validate_password,
    verify_password,
)
from workbench.errors import ValidationError

# Both made by Better Auth's hashPassword; they pin the exact scrypt parameters and salt handling.
ASCII_PASSWORD = "correct horse battery staple"
ASCII_HASH = (
    "7ab59f8f1326a5ae545f7a71e8b40b0e:316f164aa5e3d93aa42b3f1570d080fb8628a0c2f9633aaced8d5d30d26dcdc7"
    "29724a2c0d0d9f19bc9a9fca3a9545f4bcae206a78c1841816cc6677b87adb86"
)
UNICODE_PASSWORD = "Ünïcødé pässwörd ﬁ"
UNICODE_HASH = (
    "76272ebd1c7654795784c74058f8e74c:63464d0c51139b792f8a7d072d3cd04b2fc8719897587c473ceceea1d5dbce4b"
    "acbf3a82e9f024557996ab54a42d0fe474679741ccef6ab41095dcc639e19161"
)
VALID_KEY = "ab" * 64


@pytest.mark.parametrize(
    ("password", "stored"), [(ASCII_PASSWORD, ASCII_HASH), (UNICODE_PASSWORD, UNICODE_HASH)]
)
def test_better_auth_vectors_verify(password: str, stored: str) -> None:
    assert verify_password(password, stored)


@pytest.mark.parametrize("stored", [ASCII_HASH, UNICODE_HASH])
def test_wrong_password_is_refused(stored: str) -> None:
    assert not verify_password("correct horse battery stapler", stored)
    assert not verify_password("", stored)


def test_round_trip_and_format() -> None:
    stored = hash_password("hunter2hunter2")
    assert re.fullmatch(r"[0-9a-f]{32}:[0-9a-f]{128}", stored)
    assert verify_password("hunter2hunter2", stored)
    assert not verify_password("hunter2hunter3", stored)


def test_salt_is_random() -> None:
    assert hash_password("same password") != hash_password("same password")


def test_nfkc_equivalent_spellings_verify() -> None:
    # Decomposed accents and a plain "fi" instead of the ligature are the same password after NFKC,
    # which is what Better Auth hashed.
    variant = unicodedata.normalize("NFD", UNICODE_PASSWORD).replace("ﬁ", "fi")
    assert variant != UNICODE_PASSWORD
    assert verify_password(variant, UNICODE_HASH)
    # ANGSTROM SIGN and OHM SIGN normalize to A-ring and capital omega.
    assert verify_password("\u00c5-\u03a9", hash_password("\u212b-\u2126"))


def test_lone_surrogates_hash_like_textencoder() -> None:
    # Node's TextEncoder writes U+FFFD for a lone surrogate; a Python str may carry one.
    stored = hash_password("pass\ud800word")
    assert verify_password("pass\ufffdword", stored)
    assert not verify_password("pass\ud800word", ASCII_HASH)


@pytest.mark.parametrize(
    "stored",
    [
        "",
        ":",
        "nocolon",
        "7ab59f8f1326a5ae545f7a71e8b40b0e:",
        ":" + VALID_KEY,
        "salt:" + VALID_KEY[:-1],
        "salt:" + VALID_KEY + "0",
        "salt:" + VALID_KEY[:-1] + "g",
        "salt:" + VALID_KEY[:-2] + " a",
        "salt:" + VALID_KEY + ":extra",
        "salt:" + VALID_KEY + "\n",
        ASCII_HASH[:-1],
        ASCII_HASH + "ff",
    ],
)
def test_malformed_stored_value_is_false_not_an_error(stored: str) -> None:
    assert verify_password(ASCII_PASSWORD, stored) is False


@pytest.mark.parametrize("length", [8, 9, 64, 127, 128])
def test_validate_password_accepts_8_to_128(length: int) -> None:
    validate_password("x" * length)


@pytest.mark.parametrize(
    ("length", "rule"), [(0, "at least 8"), (7, "at least 8"), (129, "at most 128")]
)
def test_validate_password_refuses_outside_bounds(length: int, rule: str) -> None:
    with pytest.raises(ValidationError, match=rule):
        validate_password("x" * length)


def test_validate_password_counts_like_javascript() -> None:
    # An emoji is 2 UTF-16 code units, so the web app counts 4 emoji as 8 characters.
    validate_password("😀" * 4)
    validate_password("😀" * 64)
    with pytest.raises(ValidationError, match="at least 8"):
        validate_password("😀" * 3 + "a")
    with pytest.raises(ValidationError, match="at most 128"):
        validate_password("😀" * 64 + "a")


def test_dummy_verify_costs_one_scrypt_like_a_real_check(monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[dict[str, Any]] = []
    real_scrypt = hashlib.scrypt

    def counting_scrypt(password: bytes, **kwargs: Any) -> bytes:
        calls.append(kwargs)
        return real_scrypt(password, **kwargs)

    monkeypatch.setattr(hashlib, "scrypt", counting_scrypt)
    dummy_verify("anything at all")
    verify_password("anything at all", ASCII_HASH)
    assert len(calls) == 2
    cost = [{k: call[k] for k in ("n", "r", "p", "dklen")} for call in calls]
    assert cost[0] == cost[1] == {"n": 16384, "r": 16, "p": 1, "dklen": 64}
