"""Model providers: targets, messages, completions and errors.

`Target` and its builders live in `workbench.runs.providers.targets` (re-exported as
`workbench.openai(...)` etc.); `providers.openai` and `providers.anthropic` are the two APIs'
request bodies and replies; `sdk`, `direct` and `offline` the providers that call them. A client
for a target comes from the layer above: `workbench.runs.generate.open_client`.

The SDKs are imported only when a client for their provider is opened.
"""

from __future__ import annotations

from workbench.runs.providers.base import (
    Completion,
    ErrorKind,
    Message,
    ModelClient,
    ProviderError,
    Role,
    ToolCallRequest,
    ToolDefinition,
)
from workbench.runs.providers.targets import Target

__all__ = [
    "Completion",
    "ErrorKind",
    "Message",
    "ModelClient",
    "ProviderError",
    "Role",
    "Target",
    "ToolCallRequest",
    "ToolDefinition",
]
