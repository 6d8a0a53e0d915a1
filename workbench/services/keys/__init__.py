"""Provider API keys: the vault's service side (docs/api-keys.md).

service.py is `ApiKeyService` (`wb.api_keys`) and `KeyReveal`, the one way to read a plaintext
key, for a run's provider calls; format.py the installation's write format;
rotation.py re-encrypting every key under a new secret (`workbench keys rotate`).
"""

from __future__ import annotations

from workbench.services.keys.service import PROVIDERS, ApiKeyService, ApiKeyView, KeyReveal

__all__ = ["PROVIDERS", "ApiKeyService", "ApiKeyView", "KeyReveal"]
