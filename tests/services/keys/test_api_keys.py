"""ApiKeyService: set, list, deactivate, reactivate, delete, validation, scoping, legacy rows."""

from __future__ import annotations

from dataclasses import FrozenInstanceError
from datetime import UTC, datetime

import pytest
from sqlalchemy import func, select

from tests.crypto.test_vault import LEGACY, PLAINTEXT, SECRET
from workbench.crypto.vault import KeyVault
from workbench.db.engine import Database
from workbench.db.models import UserApiKey
from workbench.errors import ConfigError, NotFound, ValidationError
from workbench.handle import Workbench
from workbench.services.keys.service import PROVIDERS, ApiKeyView

KEY = PLAINTEXT  # LEGACY (written by the web app under SECRET) decrypts to it


@pytest.fixture(autouse=True)
def encryption_key(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ENCRYPTION_KEY", SECRET)


def stored_rows(wb: Workbench) -> list[UserApiKey]:
    with wb.database.transaction() as session:
        return list(session.scalars(select(UserApiKey).where(UserApiKey.user_id == wb.user.id)))


def row_count(database: Database) -> int:
    with database.transaction() as session:
        return session.scalar(select(func.count()).select_from(UserApiKey)) or 0


def insert_legacy_row(wb: Workbench, provider: str = "openai") -> None:
    now = datetime.now(UTC)
    with wb.database.transaction() as session:
        session.add(
            UserApiKey(
                user_id=wb.user.id,
                provider=provider,
                key_name="from the web app",
                encrypted_key=LEGACY,
                created_at=now,
                updated_at=now,
            )
        )


# --- set and list -------------------------------------------------------------------------------


def test_set_returns_metadata_and_stores_v2_ciphertext_bound_to_the_row(wb: Workbench) -> None:
    view = wb.api_keys.set(provider="openai", api_key=KEY, key_name="work")

    assert (view.provider, view.key_name, view.is_active) == ("openai", "work", True)
    assert view.created_at == view.updated_at
    assert view.created_at.tzinfo is not None
    [row] = stored_rows(wb)
    assert row.encrypted_key.startswith("v2:")
    assert KEY not in row.encrypted_key
    assert KeyVault(SECRET).decrypt(row.encrypted_key, user_id=wb.user.id, provider="openai") == KEY


def test_list_shows_every_key_by_provider_as_metadata_only(wb: Workbench) -> None:
    wb.api_keys.set(provider="openai", api_key=KEY, key_name="work")
    wb.api_keys.set(provider="anthropic", api_key="sk-ant-1", key_name="personal")

    views = wb.api_keys.list()

    assert [(v.provider, v.key_name) for v in views] == [
        ("anthropic", "personal"),
        ("openai", "work"),
    ]
    assert all(type(v) is ApiKeyView for v in views)
    assert set(ApiKeyView.__dataclass_fields__) == {
        "provider",
        "key_name",
        "is_active",
        "created_at",
        "updated_at",
    }


def test_views_are_frozen(wb: Workbench) -> None:
    view = wb.api_keys.set(provider="openai", api_key=KEY, key_name="work")
    with pytest.raises(FrozenInstanceError):
        view.key_name = "other"  # type: ignore[misc]


def test_set_again_replaces_the_key_and_keeps_one_row_per_provider(wb: Workbench) -> None:
    first = wb.api_keys.set(provider="openai", api_key=KEY, key_name="work")
    second = wb.api_keys.set(provider="openai", api_key="sk-replacement", key_name="home")

    [row] = stored_rows(wb)
    assert (second.key_name, second.created_at) == ("home", first.created_at)
    assert second.updated_at >= first.updated_at
    assert wb.api_keys._reveal_for_provider_call(provider="openai") == "sk-replacement"
    assert row.key_name == "home"


def test_set_reactivates_a_deactivated_key(wb: Workbench) -> None:
    wb.api_keys.set(provider="openai", api_key=KEY, key_name="work")
    wb.api_keys.deactivate(provider="openai")

    view = wb.api_keys.set(provider="openai", api_key="sk-new", key_name="work")

    assert view.is_active


def test_key_name_defaults_to_the_provider_label(wb: Workbench) -> None:
    view = wb.api_keys.set(provider="azure_openai", api_key=KEY)
    assert view.key_name == PROVIDERS["azure_openai"] == "Azure OpenAI"


def test_surrounding_whitespace_is_dropped_from_key_and_name(wb: Workbench) -> None:
    view = wb.api_keys.set(provider="openai", api_key=f"  {KEY}\n", key_name="  work ")
    assert view.key_name == "work"
    assert wb.api_keys._reveal_for_provider_call(provider="openai") == KEY


def test_get_returns_one_keys_metadata(wb: Workbench) -> None:
    wb.api_keys.set(provider="groq", api_key=KEY, key_name="fast")
    assert wb.api_keys.get(provider="groq").key_name == "fast"


def test_frame_has_one_row_per_key_and_no_secret_columns(wb: Workbench) -> None:
    wb.api_keys.set(provider="openai", api_key=KEY, key_name="work")
    wb.api_keys.set(provider="mistral", api_key="mk-1", key_name="eu")

    frame = wb.api_keys.frame()

    assert list(frame.columns) == ["provider", "key_name", "is_active", "created_at", "updated_at"]
    assert frame["provider"].tolist() == ["mistral", "openai"]


def test_frame_of_no_keys_is_empty_with_columns(wb: Workbench) -> None:
    frame = wb.api_keys.frame()
    assert frame.empty
    assert "key_name" in frame.columns


# --- deactivate, reactivate, delete -------------------------------------------------------------


def test_deactivate_keeps_the_row_and_marks_it_inactive(wb: Workbench) -> None:
    wb.api_keys.set(provider="openai", api_key=KEY, key_name="work")

    view = wb.api_keys.deactivate(provider="openai")

    assert not view.is_active
    [row] = stored_rows(wb)
    assert row.is_active is False


def test_a_deactivated_key_is_not_revealed_for_calls(wb: Workbench) -> None:
    wb.api_keys.set(provider="openai", api_key=KEY, key_name="work")
    wb.api_keys.deactivate(provider="openai")

    with pytest.raises(NotFound, match=r"deactivated.*[Rr]eactivate"):
        wb.api_keys._reveal_for_provider_call(provider="openai")


def test_reactivate_makes_the_key_usable_again(wb: Workbench) -> None:
    wb.api_keys.set(provider="openai", api_key=KEY, key_name="work")
    wb.api_keys.deactivate(provider="openai")

    assert wb.api_keys.reactivate(provider="openai").is_active
    assert wb.api_keys._reveal_for_provider_call(provider="openai") == KEY


def test_delete_removes_the_row(wb: Workbench) -> None:
    wb.api_keys.set(provider="openai", api_key=KEY, key_name="work")
    wb.api_keys.delete(provider="openai")
    assert stored_rows(wb) == []


@pytest.mark.parametrize("action", ["get", "deactivate", "reactivate", "delete"])
def test_missing_key_is_not_found(wb: Workbench, action: str) -> None:
    with pytest.raises(NotFound, match="no API key for provider 'openai'"):
        getattr(wb.api_keys, action)(provider="openai")


# --- scoping ------------------------------------------------------------------------------------


def test_list_shows_only_your_own_keys(wb: Workbench, other_wb: Workbench) -> None:
    wb.api_keys.set(provider="openai", api_key=KEY, key_name="mine")
    other_wb.api_keys.set(provider="anthropic", api_key="sk-theirs", key_name="theirs")

    assert [v.key_name for v in wb.api_keys.list()] == ["mine"]
    assert [v.key_name for v in other_wb.api_keys.list()] == ["theirs"]


@pytest.mark.parametrize(
    "action", ["get", "deactivate", "reactivate", "delete", "_reveal_for_provider_call"]
)
def test_another_users_key_is_not_found_with_the_missing_message(
    wb: Workbench, other_wb: Workbench, action: str
) -> None:
    other_wb.api_keys.set(provider="openai", api_key=KEY, key_name="theirs")
    with pytest.raises(NotFound) as missing:
        wb.api_keys.get(provider="anthropic")
    with pytest.raises(NotFound) as foreign:
        getattr(wb.api_keys, action)(provider="openai")

    assert str(foreign.value) == str(missing.value).replace("anthropic", "openai")
    [theirs] = other_wb.api_keys.list()
    assert theirs.is_active


def test_setting_the_same_provider_as_another_user_touches_only_your_row(
    wb: Workbench, other_wb: Workbench
) -> None:
    other_wb.api_keys.set(provider="openai", api_key="sk-theirs", key_name="theirs")
    wb.api_keys.set(provider="openai", api_key=KEY, key_name="mine")

    assert other_wb.api_keys._reveal_for_provider_call(provider="openai") == "sk-theirs"
    assert wb.api_keys._reveal_for_provider_call(provider="openai") == KEY


# --- validation ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({"provider": "OpenAI"}, "provider"),
        ({"provider": "not-a-provider"}, "provider"),
        ({"api_key": ""}, "api_key"),
        ({"api_key": "  \n\t"}, "api_key"),
        ({"api_key": "sk-abc def"}, "api_key"),
        ({"api_key": "sk-abc\ndef"}, "api_key"),
        ({"api_key": "sk-abc\x00def"}, "api_key"),
        ({"api_key": "s" * 4097}, "api_key"),
        ({"key_name": ""}, "key_name"),
        ({"key_name": "   "}, "key_name"),
        ({"key_name": "n" * 201}, "key_name"),
    ],
)
def test_bad_input_is_a_validation_error_naming_the_field_and_nothing_is_written(
    wb: Workbench, fields: dict[str, str], field: str
) -> None:
    arguments = {"provider": "openai", "api_key": KEY, "key_name": "work", **fields}
    with pytest.raises(ValidationError) as excinfo:
        wb.api_keys.set(**arguments)

    assert [problem.split(":")[0] for problem in excinfo.value.problems] == [field]
    assert row_count(wb.database) == 0


def test_validation_reports_every_bad_field_at_once(wb: Workbench) -> None:
    with pytest.raises(ValidationError) as excinfo:
        wb.api_keys.set(provider="nope", api_key="a b", key_name="")
    assert [p.split(":")[0] for p in excinfo.value.problems] == ["provider", "api_key", "key_name"]


def test_a_key_name_of_exactly_200_characters_is_accepted(wb: Workbench) -> None:
    assert len(wb.api_keys.set(provider="openai", api_key=KEY, key_name="n" * 200).key_name) == 200


def test_whitespace_position_is_reported_without_quoting_the_key(wb: Workbench) -> None:
    with pytest.raises(ValidationError) as excinfo:
        wb.api_keys.set(provider="openai", api_key="sk-secretpart tail", key_name="work")
    assert "position 14" in str(excinfo.value)
    assert "secretpart" not in str(excinfo.value)


def test_an_unknown_provider_name_is_quoted_in_the_error(wb: Workbench) -> None:
    with pytest.raises(ValidationError, match="provider: 'vertex' is not a known provider"):
        wb.api_keys.set(provider="vertex", api_key=KEY, key_name="work")


@pytest.mark.parametrize("action", ["set", "get", "delete"])
def test_a_key_passed_as_the_provider_is_never_repeated_in_the_error(
    wb: Workbench, action: str
) -> None:
    arguments = {"api_key": KEY, "key_name": "work"} if action == "set" else {}
    with pytest.raises((ValidationError, NotFound)) as excinfo:
        getattr(wb.api_keys, action)(provider=KEY, **arguments)
    assert KEY not in str(excinfo.value)
    assert "<the given value>" in str(excinfo.value)


def test_every_listed_provider_can_be_set(wb: Workbench) -> None:
    for provider in PROVIDERS:
        wb.api_keys.set(provider=provider, api_key=f"key-{provider}", key_name=provider)
    assert [v.provider for v in wb.api_keys.list()] == sorted(PROVIDERS)


# --- master secret ------------------------------------------------------------------------------


def test_set_without_encryption_key_on_a_server_says_how_to_set_it(
    wb: Workbench, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("ENCRYPTION_KEY")
    with pytest.raises(
        ConfigError, match=r"(?s)ENCRYPTION_KEY is not set.*web app.*secrets.token_hex\(32\)"
    ):
        wb.api_keys.set(provider="openai", api_key=KEY, key_name="work")
    assert row_count(wb.database) == 0


def test_listing_needs_no_encryption_key(wb: Workbench, monkeypatch: pytest.MonkeyPatch) -> None:
    wb.api_keys.set(provider="openai", api_key=KEY, key_name="work")
    monkeypatch.delenv("ENCRYPTION_KEY")
    assert [v.provider for v in wb.api_keys.list()] == ["openai"]


# --- legacy rows (written by the web app) -------------------------------------------------------


def test_a_legacy_row_is_revealed(wb: Workbench) -> None:
    insert_legacy_row(wb)
    assert wb.api_keys._reveal_for_provider_call(provider="openai") == KEY
    [row] = stored_rows(wb)
    assert row.encrypted_key == LEGACY  # reading never rewrites the web app's row


def test_a_legacy_row_is_listed(wb: Workbench) -> None:
    insert_legacy_row(wb)
    assert [v.key_name for v in wb.api_keys.list()] == ["from the web app"]


def test_setting_a_key_over_a_legacy_row_writes_v2(wb: Workbench) -> None:
    insert_legacy_row(wb)
    wb.api_keys.set(provider="openai", api_key=KEY, key_name="work")
    [row] = stored_rows(wb)
    assert row.encrypted_key.startswith("v2:")
    assert wb.api_keys._reveal_for_provider_call(provider="openai") == KEY


def test_deactivating_a_legacy_row_leaves_its_ciphertext_alone(wb: Workbench) -> None:
    insert_legacy_row(wb)
    wb.api_keys.deactivate(provider="openai")
    [row] = stored_rows(wb)
    assert (row.encrypted_key, row.is_active) == (LEGACY, False)
