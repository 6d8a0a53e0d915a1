"""Where the master secret comes from: ENCRYPTION_KEY, a generated local file, or a clear error."""

from __future__ import annotations

import re
import stat
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import insert_user
from workbench.crypto import master_secret as ms
from workbench.db.engine import Database
from workbench.errors import ConfigError
from workbench.handle import Workbench


@pytest.fixture(autouse=True)
def isolated_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """No ENCRYPTION_KEY, and a config directory of this test's own."""
    monkeypatch.setenv("WORKBENCH_HOME", str(tmp_path))
    monkeypatch.delenv("ENCRYPTION_KEY", raising=False)
    monkeypatch.delenv("ENCRYPTION_KEY_OLD", raising=False)
    return tmp_path


@pytest.fixture
def local_db(migrated_database: Database) -> Iterator[Database]:
    """Like `db`, but flagged as the embedded per-user server (local mode)."""
    with migrated_database.engine.connect() as connection:
        outer = connection.begin()
        yield Database.bound_to(connection, local=True)
        outer.rollback()


def test_encryption_key_is_used_as_given(db: Database, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ENCRYPTION_KEY", " spaced secret ")
    assert ms.master_secret(db) == " spaced secret "


def test_encryption_key_wins_over_the_local_file(
    local_db: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    generated = ms.master_secret(local_db)
    monkeypatch.setenv("ENCRYPTION_KEY", "from-the-environment")
    assert ms.master_secret(local_db) == "from-the-environment" != generated


def test_missing_on_a_server_is_a_config_error_saying_how_to_set_it(db: Database) -> None:
    with pytest.raises(ConfigError) as excinfo:
        ms.master_secret(db)
    message = str(excinfo.value)
    assert "ENCRYPTION_KEY is not set" in message
    assert "same value as the web app" in message
    assert 'export ENCRYPTION_KEY=$(python -c "import secrets; print(secrets.token_hex(32))")' in (
        message
    )


def test_blank_encryption_key_counts_as_missing(
    db: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ENCRYPTION_KEY", "  ")
    with pytest.raises(ConfigError, match="ENCRYPTION_KEY is not set"):
        ms.master_secret(db)


def test_missing_on_a_server_generates_no_file(db: Database, isolated_home: Path) -> None:
    with pytest.raises(ConfigError):
        ms.master_secret(db)
    assert not ms.local_secret_path().exists()


def test_local_mode_generates_a_private_secret_on_first_use(
    local_db: Database, isolated_home: Path
) -> None:
    secret = ms.master_secret(local_db)

    path = ms.local_secret_path()
    assert path == isolated_home / "config" / "encryption_key"
    assert re.fullmatch(r"[0-9a-f]{64}", secret)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert path.read_text().strip() == secret


def test_local_mode_reuses_the_saved_secret(local_db: Database) -> None:
    assert ms.master_secret(local_db) == ms.master_secret(local_db)


def test_a_secret_saved_by_another_process_first_is_kept(isolated_home: Path) -> None:
    ms._create_once(ms.local_secret_path(), "first")
    ms._create_once(ms.local_secret_path(), "second")

    assert ms.local_secret() == "first"
    assert [p.name for p in ms.local_secret_path().parent.iterdir()] == ["encryption_key"]


def test_an_empty_local_file_is_a_config_error(isolated_home: Path) -> None:
    path = ms.local_secret_path()
    path.parent.mkdir(parents=True)
    path.write_text("\n")
    with pytest.raises(ConfigError, match="is empty"):
        ms.local_secret()


def test_keys_work_in_local_mode_without_any_configuration(local_db: Database) -> None:
    wb = Workbench(local_db, insert_user(local_db))
    wb.api_keys.set(provider="openai", api_key="sk-local", key_name="laptop")
    assert wb.api_keys._reveal_for_provider_call(provider="openai") == "sk-local"
    assert ms.local_secret_path().exists()


def test_rotation_needs_the_old_secret_by_name() -> None:
    with pytest.raises(ConfigError, match="ENCRYPTION_KEY_OLD is not set"):
        ms.old_master_secret()


def test_rotation_never_generates_the_new_secret(isolated_home: Path) -> None:
    with pytest.raises(ConfigError, match="ENCRYPTION_KEY is not set"):
        ms.new_master_secret()
    assert not ms.local_secret_path().exists()
