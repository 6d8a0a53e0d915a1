"""Scenarios: specs, validation, save, versions, listing, import and export.

`ScenarioService` (service.py) is what a signed-in user reaches as `wb.scenarios`; `ScenarioIO`
(io.py) is behind `wb.export_scenarios` and `wb.import_scenarios`. The modules beside them are
their building blocks; what every service shares is in `workbench/services/common.py`.
"""

from __future__ import annotations

from workbench.services.scenarios.service import ScenarioService

__all__ = ["ScenarioService"]
