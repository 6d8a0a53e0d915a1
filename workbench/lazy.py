"""Names a package imports on first use (PEP 562): `import workbench` and a `workbench worker`'s
start-up import only what they use."""

from __future__ import annotations

import importlib
import sys
from collections.abc import Callable, Mapping
from typing import Any


def lazy_attributes(package: str, names: Mapping[str, str]) -> Callable[[str], Any]:
    """A `__getattr__` for `package`: each of `names` (name -> the module defining it) imported
    when first asked for, then kept in the package's namespace (later lookups find it there)."""

    def __getattr__(name: str) -> Any:
        defining = names.get(name)
        if defining is None:
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        value = getattr(importlib.import_module(defining), name)
        setattr(sys.modules[package], name, value)
        return value

    return __getattr__
