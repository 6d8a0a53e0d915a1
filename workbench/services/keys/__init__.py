"""Provider API keys: the vault's service side (`wb.api_keys`, docs/api-keys.md)."""
