"""Where the workbench keeps per-user files: the embedded database, tokens, generated secrets.

`WORKBENCH_HOME` overrides the platform's directories (tests and shared machines use it).
"""

from __future__ import annotations

import os
from pathlib import Path

import platformdirs


def data_dir() -> Path:
    """Per-user data: the embedded PostgreSQL cluster lives in `data_dir() / "pg"`."""
    home = os.environ.get("WORKBENCH_HOME")
    return Path(home) / "data" if home else platformdirs.user_data_path("workbench")


def config_dir() -> Path:
    """Per-user configuration: session token file, generated ENCRYPTION_KEY (mode 0600)."""
    home = os.environ.get("WORKBENCH_HOME")
    return Path(home) / "config" if home else platformdirs.user_config_path("workbench")


def write_private_file(path: Path, content: str) -> None:
    """Write `content` readable by the owner only (0600), never briefly world-readable."""
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        handle.write(content)
    os.chmod(path, 0o600)
