"""Where the master secret for API keys comes from: `ENCRYPTION_KEY`, or a generated local one.

- `ENCRYPTION_KEY` set (and not blank): that value, exactly as given. It must equal the web app's
  `ENCRYPTION_KEY`, or neither side can read what the other wrote.
- Not set, local mode (the embedded per-user database): a secret generated on first use and kept
  in `workbench.paths.config_dir() / "encryption_key"`, readable by the owner only (0600).
- Not set, any other database: a `ConfigError` that says how to set it. The workbench never
  invents a secret for a shared database: rows written under it would be unreadable elsewhere.

Rotation reads the previous secret from `ENCRYPTION_KEY_OLD` (see `workbench keys rotate`).
"""

from __future__ import annotations

import contextlib
import os
import secrets
from pathlib import Path
from typing import TYPE_CHECKING

from workbench.errors import ConfigError
from workbench.paths import config_dir, write_private_file

if TYPE_CHECKING:
    from workbench.db.engine import Database

ENV_VAR = "ENCRYPTION_KEY"
OLD_ENV_VAR = "ENCRYPTION_KEY_OLD"
LOCAL_SECRET_FILE = "encryption_key"

GENERATE_HINT = 'export ENCRYPTION_KEY=$(python -c "import secrets; print(secrets.token_hex(32))")'


def master_secret(database: Database) -> str:
    """The secret API keys are encrypted under, for this database.

    >>> master_secret(wb.database)  # doctest: +SKIP
    """
    secret = _from_env(ENV_VAR)
    if secret is not None:
        return secret
    if database.local:
        return local_secret()
    raise ConfigError(
        f"{ENV_VAR} is not set. The workbench needs it to encrypt and decrypt your provider API "
        f"keys in {database.describe()}. Set it to the same value as the web app's "
        f"{ENV_VAR}; for a new deployment, generate one with:\n    {GENERATE_HINT}"
    )


def old_master_secret() -> str:
    """The previous secret, for rotation: `ENCRYPTION_KEY_OLD`, required."""
    secret = _from_env(OLD_ENV_VAR)
    if secret is None:
        raise ConfigError(
            f"{OLD_ENV_VAR} is not set. To rotate, set {OLD_ENV_VAR} to the secret the keys are "
            f"encrypted under now and {ENV_VAR} to the new one, then run `workbench keys rotate`."
        )
    return secret


def new_master_secret() -> str:
    """The secret to rotate to: `ENCRYPTION_KEY`, required (never generated)."""
    secret = _from_env(ENV_VAR)
    if secret is None:
        raise ConfigError(
            f"{ENV_VAR} is not set. To rotate, set it to the new secret (and {OLD_ENV_VAR} to "
            f"the current one). Generate a new secret with:\n    {GENERATE_HINT}"
        )
    return secret


def local_secret_path() -> Path:
    """Where local mode keeps its generated secret."""
    return config_dir() / LOCAL_SECRET_FILE


def local_secret() -> str:
    """The local-mode secret, generated (64 hex characters) and saved on first use."""
    path = local_secret_path()
    if not path.exists():
        _create_once(path, secrets.token_hex(32))
    secret = path.read_text(encoding="utf-8").strip()
    if not secret:
        raise ConfigError(
            f"{path} is empty. Delete it to generate a new secret (keys stored under the old one "
            f"cannot be read any more; set them again), or set {ENV_VAR}."
        )
    return secret


def _create_once(path: Path, secret: str) -> None:
    """Write `secret` to `path` unless another process got there first; theirs then wins.

    Two kernels starting together must not each save a different secret: the file is written
    privately under a temporary name, then hard-linked into place, which fails if it exists.
    """
    staging = path.with_name(f".{path.name}.{secrets.token_hex(8)}")
    write_private_file(staging, secret + "\n")
    try:
        os.link(staging, path)
    except FileExistsError:
        pass
    finally:
        with contextlib.suppress(FileNotFoundError):
            staging.unlink()


def _from_env(name: str) -> str | None:
    value = os.environ.get(name)
    return value if value is not None and value.strip() else None
