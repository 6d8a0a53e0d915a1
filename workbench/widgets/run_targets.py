"""Which targets the Runs tab offers, and building the chosen one: plain functions, no widgets.

A target is offered when a run could really use it: offline always (no key, no network); OpenAI
and Anthropic when you have an active key for them in the vault, or their environment variable
is set; an OpenAI-compatible server always (local servers take no key; it asks for a base URL).
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING

from workbench.errors import ValidationError
from workbench.runs.providers import Target, targets
from workbench.runs.providers.targets import ENV_VARS

if TYPE_CHECKING:
    from ipywidgets import Text

    from workbench.services.keys.service import ApiKeyService

OFFLINE = "offline"
LABELS = {
    "openai": "OpenAI",
    "anthropic": "Anthropic",
    "openai_compatible": "OpenAI-compatible server",
}
DEFAULT_MODELS = {
    OFFLINE: "offline",
    "openai": "gpt-4o-mini",
    "anthropic": "claude-3-5-haiku-latest",
    "openai_compatible": "",
}


def target_choices(keys: ApiKeyService) -> list[tuple[str, str]]:
    """(label, provider) pairs: offline first, then what your keys or environment allow."""
    active = {view.provider for view in keys.list() if view.is_active}
    choices = [("Offline (no key, no network)", OFFLINE)]
    for provider, label in LABELS.items():
        env = ENV_VARS.get(provider)
        if provider in active:
            choices.append((f"{label} (your stored key)", provider))
        elif env and os.environ.get(env):
            choices.append((f"{label} ({env})", provider))
        elif provider == "openai_compatible":
            choices.append((f"{label} (base URL, no key)", provider))
    return choices


def build_target(
    provider: str, model: str, *, base_url: str = "", offline_reply: str = ""
) -> Target:
    """The target for the form's fields; `ValidationError` saying which field is wrong."""
    model = model.strip()
    if provider == OFFLINE:
        return targets.offline(default=offline_reply or None, model=model or "offline")
    if not model:
        raise ValidationError(f"Give a model for {LABELS.get(provider, provider)}.")
    url = base_url.strip() or None
    if provider == "openai":
        return targets.openai(model, base_url=url)
    if provider == "anthropic":
        return targets.anthropic(model, base_url=url)
    if provider == "openai_compatible":
        if url is None:
            raise ValidationError("Give the server's base URL, such as http://localhost:11434/v1.")
        return targets.openai_compatible(base_url=url, model=model)
    raise ValidationError(f"Unknown target {provider!r}.")


def show_fields(provider: str | None, model: Text, base_url: Text, offline_reply: Text) -> None:
    """The fields `provider` takes (None: a role left to no model, so none of them): a base URL
    for a provider, a reply for offline; a model still at a default follows the choice."""
    if model.value.strip() in ("", *DEFAULT_MODELS.values()):
        model.value = DEFAULT_MODELS.get(provider or "", "")
    shown = {
        model: provider is not None,
        base_url: provider not in (None, OFFLINE),
        offline_reply: provider == OFFLINE,
    }
    for field, show in shown.items():
        field.layout.display = None if show else "none"
