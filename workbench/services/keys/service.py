"""Provider API keys: one per provider per user, encrypted at rest, never shown again.

    wb.api_keys.set(provider="openai", api_key="sk-...", key_name="work")
    wb.api_keys.list()                      # metadata only: provider, name, active, times
    wb.api_keys.deactivate(provider="openai")

What is stored is the `v2` format of `workbench.crypto.vault`, bound to the user and provider,
under the master secret of `workbench.crypto.master_secret`. Nothing here returns, logs or
raises with a plaintext key: the one way to read it is `KeyReveal.for_provider_call`, for the
runner's provider calls. Rows the web app wrote in the legacy format are read as they are and
come out in `v2` the next time the key is set (or when all keys are rotated).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING

from sqlalchemy import ColumnElement, select, update
from sqlalchemy.dialects.postgresql import insert

from workbench.crypto.secret import Secret
from workbench.db.columns import new_uuid
from workbench.db.models import UserApiKey
from workbench.db.security.deletes import delete_rows
from workbench.errors import NotFound, ValidationError, quoted
from workbench.services._base import UserScopedService
from workbench.services._fields import checked_id, storage_problem
from workbench.services.keys.format import key_format
from workbench.timeutil import utcnow

if TYPE_CHECKING:
    import pandas as pd

    from workbench.crypto.vault import KeyVault
    from workbench.db.engine import Database

# Provider name (what `"user_api_key".provider` holds, as the web app writes it) → label.
PROVIDERS: dict[str, str] = {
    "openai": "OpenAI",
    "anthropic": "Anthropic",
    "google": "Google (Gemini)",
    "mistral": "Mistral",
    "groq": "Groq",
    "openrouter": "OpenRouter",
    "azure_openai": "Azure OpenAI",
    "openai_compatible": "OpenAI-compatible server",
    "cohere": "Cohere",
    "deepseek": "DeepSeek",
    "together": "Together AI",
    "xai": "xAI",
}

KEY_NAME_MAX = 200
API_KEY_MAX = 4096
_PROVIDER_SHAPE = re.compile(r"[a-z][a-z0-9_]{0,23}")
VIEW_COLUMNS = ("provider", "key_name", "is_active", "created_at", "updated_at")


@dataclass(frozen=True)
class ApiKeyView:
    """What anyone may see of a stored key: never the key itself, nor its ciphertext."""

    provider: str
    key_name: str
    is_active: bool
    created_at: datetime
    updated_at: datetime


_VIEW_SELECT = (
    UserApiKey.provider,
    UserApiKey.key_name,
    UserApiKey.is_active,
    UserApiKey.created_at,
    UserApiKey.updated_at,
)


class ApiKeyService(UserScopedService):
    """The signed-in user's provider API keys. Reached as `wb.api_keys`."""

    def set(
        self, *, provider: str, api_key: str | Secret, key_name: str | None = None
    ) -> ApiKeyView:
        """Store `api_key` for `provider`, replacing (and reactivating) any key already there.

        Surrounding whitespace is dropped (a pasted newline); whitespace inside is refused.
        `key_name` defaults to the provider's label (or "default" for an unknown provider, so
        the error is about the provider alone).

        >>> wb.api_keys.set(provider="anthropic", api_key="sk-ant-...", key_name="personal")
        ... # doctest: +SKIP
        """
        # First, so a verbose traceback from anywhere below shows Secret('***') (crypto.secret).
        api_key = Secret.wrap(api_key)
        if key_name is None:
            key_name = PROVIDERS.get(provider, "default")
        plaintext, name = _checked(provider=provider, api_key=api_key, key_name=key_name)
        vault = _vault(self._database)
        with self._transaction() as session:
            # The installation's write format: `legacy` beside an unchanged web app (key_format).
            encrypted = vault.encrypt(
                plaintext.reveal(),
                user_id=self._user_id,
                provider=provider,
                format=key_format(session),
            )
            now = utcnow()
            changes = {
                "key_name": name,
                "encrypted_key": encrypted,
                "is_active": True,
                "updated_at": now,
            }
            # One statement, so two kernels setting the same provider at once cannot collide.
            statement = (
                insert(UserApiKey)
                .values(
                    id=new_uuid(),
                    user_id=self._user_id,
                    provider=provider,
                    created_at=now,
                    **changes,
                )
                .on_conflict_do_update(index_elements=["user_id", "provider"], set_=changes)
                .returning(*_VIEW_SELECT)
            )
            row = session.execute(statement).one()
        return ApiKeyView(*row)

    def list(self) -> list[ApiKeyView]:
        """Every key of yours, active or not, by provider: metadata only."""
        query = (
            select(*_VIEW_SELECT)
            .where(UserApiKey.user_id == self._user_id)
            .order_by(UserApiKey.provider)
        )
        with self._transaction() as session:
            return [ApiKeyView(*row) for row in session.execute(query)]

    def get(self, *, provider: str) -> ApiKeyView:
        """Your key for `provider` (metadata only), or `NotFound`."""
        query = select(*_VIEW_SELECT).where(*self._row(provider))
        with self._transaction() as session:
            row = session.execute(query).one_or_none()
        if row is None:
            raise _not_found(provider)
        return ApiKeyView(*row)

    def deactivate(self, *, provider: str) -> ApiKeyView:
        """Stop runs from using the key for `provider`, keeping it stored (a soft delete)."""
        return self._set_active(provider, active=False)

    def reactivate(self, *, provider: str) -> ApiKeyView:
        """Let runs use a deactivated key again."""
        return self._set_active(provider, active=True)

    def delete(self, *, provider: str) -> None:
        """Remove the key for `provider` for good."""
        with self._transaction() as session:
            deleted = delete_rows(
                session, UserApiKey, *self._row(provider), returning=[UserApiKey.id]
            ).first()
        if deleted is None:
            raise _not_found(provider)

    def frame(self) -> pd.DataFrame:
        """`list()` as a DataFrame, one row per key (pandas is imported on first use)."""
        import pandas as pd

        views = self.list()
        return pd.DataFrame(
            [[getattr(view, column) for column in VIEW_COLUMNS] for view in views],
            columns=list(VIEW_COLUMNS),
        )

    def _reveal_for_provider_call(self, *, provider: str) -> str:
        """The plaintext key for `provider` (`KeyReveal.for_provider_call`, for tests)."""
        reveal = KeyReveal(self._database, self._user_id, guard=self._guard)
        return reveal.for_provider_call(provider=provider)

    def _set_active(self, provider: str, *, active: bool) -> ApiKeyView:
        statement = (
            update(UserApiKey)
            .where(*self._row(provider))
            .values(is_active=active, updated_at=utcnow())
            .returning(*_VIEW_SELECT)
        )
        with self._transaction() as session:
            row = session.execute(statement).one_or_none()
        if row is None:
            raise _not_found(provider)
        return ApiKeyView(*row)

    def _row(self, provider: str) -> tuple[ColumnElement[bool], ColumnElement[bool]]:
        checked_id(provider, "provider")
        return (UserApiKey.user_id == self._user_id, UserApiKey.provider == provider)


class KeyReveal(UserScopedService):
    """The one way to read a plaintext key: for a run's provider calls, and nothing else.

    Not reachable from the handle (`wb.api_keys` never shows a key): the run service and the
    workers hold one. Callers pass the key straight to the provider's client and keep it
    nowhere: not in a result, a log line, an exception or an attribute."""

    def for_provider_call(self, *, provider: str) -> str:
        """The active key stored for `provider`; `NotFound` if there is none or it is
        deactivated."""
        query = select(UserApiKey.encrypted_key, UserApiKey.is_active).where(
            UserApiKey.user_id == self._user_id, UserApiKey.provider == provider
        )
        with self._transaction() as session:
            row = session.execute(query).one_or_none()
        if row is None:
            raise _not_found(provider)
        encrypted, active = row
        if not active:
            raise NotFound(
                f"Your API key for provider {quoted(provider)} is deactivated. Reactivate it with "
                f"wb.api_keys.reactivate(provider={quoted(provider)}), or set a new one."
            )
        vault = _vault(self._database)
        return vault.decrypt(encrypted, user_id=self._user_id, provider=provider)


def _vault(database: Database) -> KeyVault:
    """The vault under this database's master secret. `cryptography` is imported only here: a
    worker whose keys come from the environment never needs it, and its start-up is paid per
    process (issue 24)."""
    from workbench.crypto.master_secret import master_secret
    from workbench.crypto.vault import KeyVault

    return KeyVault(master_secret(database))


def _not_found(provider: str) -> NotFound:
    # The same words whether there is no row or it belongs to someone else.
    shown = _quoted(provider)
    return NotFound(
        f"You have no API key for provider {shown}. "
        f"Set one with wb.api_keys.set(provider={shown}, api_key=...)."
    )


def _quoted(provider: str) -> str:
    """`provider` quoted for a message, unless it might be a key passed in the wrong argument.

    Provider names are short lowercase identifiers; an API key (mixed case, `-`, long) is not
    one, so it is never repeated back into an exception.
    """
    if provider in PROVIDERS or _PROVIDER_SHAPE.fullmatch(provider):
        return repr(provider)
    return "<the given value>"


def _checked(*, provider: str, api_key: Secret, key_name: str | None) -> tuple[Secret, str]:
    """The key and name to store (surrounding whitespace dropped), or `ValidationError` naming
    each field.

    Messages never quote the key: only where the problem is.
    """
    problems: list[str] = []
    if provider not in PROVIDERS:
        problems.append(
            f"provider: {_quoted(provider)} is not a known provider; "
            f"use one of {', '.join(PROVIDERS)}{_suggestion(provider)}."
        )
    # The key stays a Secret; its text is only ever an expression, never a named local.
    plaintext = Secret(api_key.reveal().strip() if isinstance(api_key.reveal(), str) else "")
    problems += _key_problems(plaintext)
    name = key_name.strip() if isinstance(key_name, str) else ""
    if not name:
        problems.append("key_name: is empty; give the key a name (for example 'work').")
    elif len(name) > KEY_NAME_MAX:
        problems.append(f"key_name: is longer than {KEY_NAME_MAX} characters; shorten it.")
    elif (unstorable := storage_problem(name)) is not None:
        problems.append(f"key_name: {unstorable}.")
    if problems:
        raise ValidationError(" ".join(problems), problems=problems)
    return plaintext, name


def _key_problems(key: Secret) -> list[str]:
    length = len(key.reveal())
    if not length:
        return ["api_key: is empty; paste the key the provider gave you."]
    if length > API_KEY_MAX:
        return [f"api_key: is longer than {API_KEY_MAX} characters; paste the key alone."]
    bad = next(
        (i for i, ch in enumerate(key.reveal()) if ch.isspace() or not ch.isprintable()), None
    )
    if bad is None:
        return []
    return [
        f"api_key: contains whitespace or a control character at position {bad + 1}; "
        "paste the key alone, in one piece."
    ]


def _suggestion(provider: object) -> str:
    """ " (did you mean 'openai'?)" when `provider` is a known name or label in another case."""
    if not isinstance(provider, str):
        return ""
    wanted = provider.strip().lower()
    for name, label in PROVIDERS.items():
        if wanted in (name, label.lower()):
            return f" (did you mean {name!r}?)"
    return ""
