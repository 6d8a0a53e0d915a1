"""rotate_keys: every user's keys re-encrypted under a new secret, in one transaction, or none.

These tests commit (`committed_db`): atomicity is only proven by what another connection sees.
"""

from __future__ import annotations

import traceback
from collections.abc import Iterator
from datetime import UTC, datetime

import pytest
from sqlalchemy import select, text
from sqlalchemy.exc import DBAPIError

from tests.conftest import insert_user
from tests.crypto.test_vault import LEGACY, PLAINTEXT, SECRET
from workbench.crypto.vault import KeyVault
from workbench.db.engine import Database
from workbench.db.models import UserApiKey
from workbench.errors import DecryptionError
from workbench.handle import Workbench
from workbench.services.keys.rotation import RotationReport, rotate_keys

OLD = SECRET
NEW = "the-new-master-secret"
THIRD = "some-third-secret"
LEGACY_KEY = PLAINTEXT  # what LEGACY, the web app's legacy format under OLD, decrypts to
Snapshot = dict[str, tuple[str, datetime]]


@pytest.fixture
def users(committed_db: Database, monkeypatch: pytest.MonkeyPatch) -> list[Workbench]:
    """Three users with keys under OLD: two v2 each for the first two, one legacy for the third."""
    monkeypatch.setenv("ENCRYPTION_KEY", OLD)
    handles = [Workbench(committed_db, insert_user(committed_db)) for _ in range(3)]
    for n, wb in enumerate(handles[:2]):
        wb.api_keys.set(provider="openai", api_key=f"sk-openai-{n}", key_name="work")
        wb.api_keys.set(provider="anthropic", api_key=f"sk-ant-{n}", key_name="work")
    now = datetime.now(UTC)
    with committed_db.transaction() as session:
        session.add(
            UserApiKey(
                user_id=handles[2].user.id,
                provider="openai",
                key_name="web app",
                encrypted_key=LEGACY,
                created_at=now,
                updated_at=now,
            )
        )
    return handles


def snapshot(database: Database) -> Snapshot:
    with database.transaction() as session:
        rows = session.execute(
            select(UserApiKey.id, UserApiKey.encrypted_key, UserApiKey.updated_at)
        ).all()
    return {row_id: (stored, updated) for row_id, stored, updated in rows}


def revealed(handles: list[Workbench]) -> dict[tuple[int, str], str]:
    return {
        (n, view.provider): wb.api_keys._reveal_for_provider_call(provider=view.provider)
        for n, wb in enumerate(handles)
        for view in wb.api_keys.list()
    }


EXPECTED = {
    (0, "openai"): "sk-openai-0",
    (0, "anthropic"): "sk-ant-0",
    (1, "openai"): "sk-openai-1",
    (1, "anthropic"): "sk-ant-1",
    (2, "openai"): LEGACY_KEY,
}


def test_every_users_keys_decrypt_under_the_new_secret_after_rotation(
    committed_db: Database, users: list[Workbench], monkeypatch: pytest.MonkeyPatch
) -> None:
    report = rotate_keys(committed_db, old_secret=OLD, new_secret=NEW)

    assert report == RotationReport(rotated=5, from_legacy=1, dry_run=False)
    monkeypatch.setenv("ENCRYPTION_KEY", NEW)
    assert revealed(users) == EXPECTED


def test_after_rotation_the_old_secret_no_longer_decrypts(
    committed_db: Database, users: list[Workbench], monkeypatch: pytest.MonkeyPatch
) -> None:
    rotate_keys(committed_db, old_secret=OLD, new_secret=NEW)
    with pytest.raises(DecryptionError):
        users[0].api_keys._reveal_for_provider_call(provider="openai")


def test_legacy_rows_come_out_in_v2_bound_to_their_row(
    committed_db: Database, users: list[Workbench]
) -> None:
    rotate_keys(committed_db, old_secret=OLD, new_secret=NEW)

    assert all(stored.startswith("v2:") for stored, _ in snapshot(committed_db).values())
    with committed_db.transaction() as session:
        legacy_row = session.scalars(
            select(UserApiKey).where(UserApiKey.user_id == users[2].user.id)
        ).one()
    vault = KeyVault(NEW)
    row = {"user_id": users[2].user.id, "provider": "openai"}
    assert vault.decrypt(legacy_row.encrypted_key, **row) == LEGACY_KEY
    with pytest.raises(DecryptionError):  # now bound: refused in another user's row
        vault.decrypt(legacy_row.encrypted_key, user_id=users[0].user.id, provider="openai")


def test_rotation_keeps_updated_at_and_metadata(
    committed_db: Database, users: list[Workbench]
) -> None:
    before = snapshot(committed_db)
    lists_before = [wb.api_keys.list() for wb in users]

    rotate_keys(committed_db, old_secret=OLD, new_secret=NEW)

    after = snapshot(committed_db)
    assert {i: updated for i, (_, updated) in after.items()} == {
        i: updated for i, (_, updated) in before.items()
    }
    assert [wb.api_keys.list() for wb in users] == lists_before


def test_a_row_under_a_third_secret_fails_the_rotation_and_changes_nothing(
    committed_db: Database, users: list[Workbench]
) -> None:
    stray = KeyVault(THIRD).encrypt("sk-stray-secret", user_id=users[1].user.id, provider="groq")
    now = datetime.now(UTC)
    with committed_db.transaction() as session:
        bad = UserApiKey(
            user_id=users[1].user.id,
            provider="groq",
            key_name="stray",
            encrypted_key=stray,
            created_at=now,
            updated_at=now,
        )
        session.add(bad)
    before = snapshot(committed_db)

    with pytest.raises(DecryptionError) as excinfo:
        rotate_keys(committed_db, old_secret=OLD, new_secret=NEW)

    assert snapshot(committed_db) == before
    message = str(excinfo.value)
    assert "1 of 6 API keys" in message and bad.id in message
    assert "nothing was changed" in message
    other_ids = set(before) - {bad.id}
    assert not any(row_id in message for row_id in other_ids)
    rendered = "".join(traceback.format_exception(excinfo.value))
    assert not any(secret in rendered for secret in ("sk-stray-secret", "sk-openai-0", stray))


@pytest.fixture
def update_fails_midway(committed_db: Database, users: list[Workbench]) -> Iterator[str]:
    """A trigger that fails the UPDATE of one row, so the failure hits mid-write."""
    victim = sorted(snapshot(committed_db))[2]
    with committed_db.engine.begin() as conn:
        conn.execute(
            text(
                "CREATE FUNCTION wbtest_fail_rotation() RETURNS trigger LANGUAGE plpgsql AS $$ "
                f"BEGIN IF NEW.id = '{victim}' THEN RAISE EXCEPTION 'interrupted'; END IF; "
                "RETURN NEW; END $$"
            )
        )
        conn.execute(
            text(
                "CREATE TRIGGER fail_rotation BEFORE UPDATE ON user_api_key "
                "FOR EACH ROW EXECUTE FUNCTION wbtest_fail_rotation()"
            )
        )
    yield victim
    with committed_db.engine.begin() as conn:
        conn.execute(text("DROP TRIGGER fail_rotation ON user_api_key"))
        conn.execute(text("DROP FUNCTION wbtest_fail_rotation()"))


def test_an_interruption_during_the_writes_changes_nothing(
    committed_db: Database, users: list[Workbench], update_fails_midway: str
) -> None:
    before = snapshot(committed_db)

    with pytest.raises(DBAPIError, match="interrupted"):
        rotate_keys(committed_db, old_secret=OLD, new_secret=NEW)

    assert snapshot(committed_db) == before
    assert revealed(users) == EXPECTED  # still readable under the old secret


def test_dry_run_checks_every_row_and_writes_nothing(
    committed_db: Database, users: list[Workbench]
) -> None:
    before = snapshot(committed_db)

    report = rotate_keys(committed_db, old_secret=OLD, new_secret=NEW, dry_run=True)

    assert report == RotationReport(rotated=5, from_legacy=1, dry_run=True)
    assert snapshot(committed_db) == before


def test_rotating_to_the_same_secret_upgrades_legacy_rows(
    committed_db: Database, users: list[Workbench]
) -> None:
    report = rotate_keys(committed_db, old_secret=OLD, new_secret=OLD)

    assert report.from_legacy == 1
    assert LEGACY not in {stored for stored, _ in snapshot(committed_db).values()}
    assert revealed(users) == EXPECTED


def test_rotating_an_empty_table_does_nothing(committed_db: Database) -> None:
    assert rotate_keys(committed_db, old_secret=OLD, new_secret=NEW).rotated == 0
