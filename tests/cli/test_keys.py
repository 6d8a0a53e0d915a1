"""`workbench keys rotate`: the command an administrator runs to change ENCRYPTION_KEY."""

from __future__ import annotations

import pytest
from sqlalchemy import select
from sqlalchemy.engine import URL

from tests.conftest import insert_user
from workbench.cli import build_parser, main
from workbench.crypto.vault import KeyVault
from workbench.db.engine import Database
from workbench.db.models import UserApiKey
from workbench.handle import Workbench

OLD = "workbench-test-master-secret"
NEW = "the-new-master-secret"


@pytest.fixture
def owner(committed_db: Database, migrated_url: URL, monkeypatch: pytest.MonkeyPatch) -> Workbench:
    """One user with an OpenAI key under OLD; the CLI pointed at the same database."""
    monkeypatch.setenv("DATABASE_URL", migrated_url.render_as_string(hide_password=False))
    monkeypatch.setenv("ENCRYPTION_KEY", OLD)
    wb = Workbench(committed_db, insert_user(committed_db))
    wb.api_keys.set(provider="openai", api_key="sk-cli-key", key_name="work")
    return wb


def stored_values(database: Database) -> dict[str, str]:
    with database.transaction() as session:
        rows = session.execute(select(UserApiKey.id, UserApiKey.encrypted_key))
        return {row_id: stored for row_id, stored in rows}


def test_rotate_reencrypts_under_the_new_secret(
    owner: Workbench, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("ENCRYPTION_KEY_OLD", OLD)
    monkeypatch.setenv("ENCRYPTION_KEY", NEW)

    assert main(["keys", "rotate"]) == 0

    assert "Re-encrypted 1 API keys" in capsys.readouterr().out
    assert owner.api_keys._reveal_for_provider_call(provider="openai") == "sk-cli-key"


def test_rotate_without_the_old_secret_says_which_variable_and_changes_nothing(
    owner: Workbench, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.delenv("ENCRYPTION_KEY_OLD", raising=False)
    before = stored_values(owner.database)

    assert main(["keys", "rotate"]) == 1

    assert "ENCRYPTION_KEY_OLD is not set" in capsys.readouterr().err
    assert stored_values(owner.database) == before


def test_rotate_without_the_new_secret_says_how_to_make_one(
    owner: Workbench, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("ENCRYPTION_KEY_OLD", OLD)
    monkeypatch.delenv("ENCRYPTION_KEY")

    assert main(["keys", "rotate"]) == 1

    assert "secrets.token_hex(32)" in capsys.readouterr().err


def test_rotate_with_the_wrong_old_secret_lists_the_row_and_changes_nothing(
    owner: Workbench, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("ENCRYPTION_KEY_OLD", "not-the-secret")
    monkeypatch.setenv("ENCRYPTION_KEY", NEW)
    before = stored_values(owner.database)

    assert main(["keys", "rotate"]) == 1

    err = capsys.readouterr().err
    [row_id] = before
    assert row_id in err and "nothing was changed" in err
    assert "sk-cli-key" not in err
    assert stored_values(owner.database) == before


def test_dry_run_writes_nothing(
    owner: Workbench, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("ENCRYPTION_KEY_OLD", OLD)
    monkeypatch.setenv("ENCRYPTION_KEY", NEW)
    before = stored_values(owner.database)

    assert main(["keys", "rotate", "--dry-run"]) == 0

    assert "Dry run: all 1 API keys" in capsys.readouterr().out
    assert stored_values(owner.database) == before
    [stored] = before.values()
    assert KeyVault(OLD).decrypt(stored, user_id=owner.user.id, provider="openai") == "sk-cli-key"


def test_keys_is_a_registered_command() -> None:
    args = build_parser().parse_args(["keys", "rotate", "--dry-run"])
    assert args.dry_run is True
    assert args.command.__name__ == "rotate_command"
