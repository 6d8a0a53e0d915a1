"""Scenarios: specs, validation, save, versions, listing, import and export.

`ScenarioService` (service.py) is what a signed-in user reaches as `wb.scenarios`; `ScenarioIO`
(io.py) is behind `wb.export_scenarios` and `wb.import_scenarios`. The modules beside them are
their building blocks.

`ScenarioService` is loaded on first use: the small modules here (`types` above all) are imported
by the other services' shared helpers, which the scenario service itself builds on, so importing
it eagerly from this package would make that a cycle.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from workbench.services.scenarios.service import ScenarioService

__all__ = ["ScenarioService"]


def __getattr__(name: str) -> Any:
    if name == "ScenarioService":
        from workbench.services.scenarios.service import ScenarioService

        return ScenarioService
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
