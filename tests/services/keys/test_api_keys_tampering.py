"""Stored keys that were changed, cut, extended, moved to another row or written under another
secret: through the service, with real rows, each is the one `DecryptionError` with one message."""

from __future__ import annotations

import traceback

import pytest
from sqlalchemy import select, update

from workbench.crypto.vault import DECRYPTION_FAILED
from workbench.db.models import UserApiKey
from workbench.errors import DecryptionError
from workbench.handle import Workbench

SECRET = "workbench-test-master-secret"
KEY = "sk-test-1234567890abcdefghijklmnop"


@pytest.fixture(autouse=True)
def encryption_key(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ENCRYPTION_KEY", SECRET)


def stored(wb: Workbench, provider: str = "openai") -> str:
    with wb.database.transaction() as session:
        return session.execute(
            select(UserApiKey.encrypted_key).where(
                UserApiKey.user_id == wb.user.id, UserApiKey.provider == provider
            )
        ).scalar_one()


def overwrite(wb: Workbench, value: str, provider: str = "openai") -> None:
    with wb.database.transaction() as session:
        session.execute(
            update(UserApiKey)
            .where(UserApiKey.user_id == wb.user.id, UserApiKey.provider == provider)
            .values(encrypted_key=value)
        )


def assert_refused(wb: Workbench, provider: str = "openai") -> None:
    with pytest.raises(DecryptionError) as excinfo:
        wb.api_keys._reveal_for_provider_call(provider=provider)
    assert str(excinfo.value) == DECRYPTION_FAILED
    assert excinfo.value.__cause__ is None and excinfo.value.__context__ is None
    assert KEY not in "".join(traceback.format_exception(excinfo.value))


@pytest.fixture
def original(wb: Workbench) -> str:
    wb.api_keys.set(provider="openai", api_key=KEY, key_name="work")
    return stored(wb)


def test_every_flipped_character_is_refused(wb: Workbench, original: str) -> None:
    positions = [i for i, ch in enumerate(original) if ch != ":"]
    for i in positions:
        changed = "1" if original[i] == "0" else "0"
        overwrite(wb, original[:i] + changed + original[i + 1 :])
        assert_refused(wb)
    overwrite(wb, original)
    assert wb.api_keys._reveal_for_provider_call(provider="openai") == KEY


def test_every_truncation_is_refused(wb: Workbench, original: str) -> None:
    for length in range(len(original)):
        overwrite(wb, original[:length])
        assert_refused(wb)


@pytest.mark.parametrize("suffix", ["0", "00", "0" * 32, ":", ":00", "\n", " "])
def test_extensions_are_refused(wb: Workbench, original: str, suffix: str) -> None:
    overwrite(wb, original + suffix)
    assert_refused(wb)


def test_a_ciphertext_copied_into_another_users_row_is_refused(
    wb: Workbench, other_wb: Workbench, original: str
) -> None:
    other_wb.api_keys.set(provider="openai", api_key="sk-theirs", key_name="theirs")
    overwrite(other_wb, original)
    assert_refused(other_wb)


def test_a_ciphertext_copied_into_another_providers_row_is_refused(
    wb: Workbench, original: str
) -> None:
    wb.api_keys.set(provider="anthropic", api_key="sk-ant", key_name="other")
    overwrite(wb, original, provider="anthropic")
    assert_refused(wb, provider="anthropic")


def test_a_key_written_under_another_secret_is_refused(
    wb: Workbench, original: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ENCRYPTION_KEY", "a-different-master-secret")
    assert_refused(wb)


@pytest.mark.parametrize("garbage", ["", "v2", "v2:::", "not hex at all", KEY])
def test_garbage_in_the_column_is_refused(wb: Workbench, original: str, garbage: str) -> None:
    overwrite(wb, garbage)
    assert_refused(wb)
