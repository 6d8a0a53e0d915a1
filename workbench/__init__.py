"""workbench: test LLM assistants with multi-turn scenarios, from JupyterLab.

    import workbench
    wb = workbench.connect()              # embedded database, local user: no set-up
    wb.scenarios.list()

Importing the package connects to nothing and starts nothing; the names below are loaded on
first use, so `import workbench` stays fast.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from workbench.errors import (
    AuthError,
    ConfigError,
    Conflict,
    DecryptionError,
    Duplicate,
    NotFound,
    ValidationError,
    WorkbenchError,
)

if TYPE_CHECKING:
    from workbench.db.engine import Database, open_database
    from workbench.handle import Workbench

__version__ = "0.1.0"

# Public name → module that defines it, imported lazily by __getattr__.
_LAZY = {
    "Database": "workbench.db.engine",
    "open_database": "workbench.db.engine",
    "Workbench": "workbench.handle",
    "ApiKeyEditor": "workbench.widgets.api_keys",
}

__all__ = [
    "ApiKeyEditor",
    "AuthError",
    "ConfigError",
    "Conflict",
    "Database",
    "DecryptionError",
    "Duplicate",
    "NotFound",
    "ValidationError",
    "Workbench",
    "WorkbenchError",
    "open_database",
]


def __getattr__(name: str) -> Any:
    module_name = _LAZY.get(name)
    if module_name is None:
        raise AttributeError(f"module 'workbench' has no attribute {name!r}")
    import importlib

    value = getattr(importlib.import_module(module_name), name)
    globals()[name] = value
    return value
