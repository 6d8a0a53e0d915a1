"""Tests for workbench.crypto.tokens: id/token shape and randomness, and the stored token hash."""

from __future__ import annotations

import re
import string

from workbench.crypto.tokens import hash_token, new_id, new_token

SHAPE = re.compile(r"[A-Za-z0-9]{32}")


def test_ids_and_tokens_are_32_alphanumeric_characters() -> None:
    for make in (new_id, new_token):
        for _ in range(200):
            assert SHAPE.fullmatch(make())


def test_ids_and_tokens_do_not_repeat() -> None:
    assert len({new_id() for _ in range(1000)}) == 1000
    assert len({new_token() for _ in range(1000)}) == 1000


def test_every_character_of_the_alphabet_is_used() -> None:
    # 32,000 draws over 62 symbols: a missing symbol would mean a biased or truncated alphabet.
    seen = set("".join(new_token() for _ in range(1000)))
    assert seen == set(string.ascii_letters + string.digits)


def test_hash_token_is_sha256_hex() -> None:
    assert hash_token("abc") == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"


def test_hash_token_is_deterministic_and_not_the_token() -> None:
    token = new_token()
    assert hash_token(token) == hash_token(token)
    assert re.fullmatch(r"[0-9a-f]{64}", hash_token(token))
    assert token not in hash_token(token)
    assert hash_token(token) != hash_token(new_token())
