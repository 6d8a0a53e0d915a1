"""Model providers: targets, messages, completions, errors, and `open_client`.

The target factories live in `workbench.runs.providers.targets` (re-exported as
`workbench.openai(...)` etc.), not here: `providers.openai` is the OpenAI module.

The SDKs are imported only when a client for their provider is opened.
"""

from __future__ import annotations

from typing import Any

from workbench.runs.providers.base import (
    Completion,
    ErrorKind,
    Message,
    ModelClient,
    ProviderError,
    Role,
    Target,
)

__all__ = [
    "Completion",
    "ErrorKind",
    "Message",
    "ModelClient",
    "ProviderError",
    "Role",
    "Target",
    "open_client",
]


def open_client(target: Target, *, api_key: str | None, **options: Any) -> ModelClient:
    """See `workbench.runs.generate.open_client` (imported here lazily: it sits above this)."""
    from workbench.runs.generate import open_client as _open

    return _open(target, api_key=api_key, **options)
