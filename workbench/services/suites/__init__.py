"""Suites: ordered sets of scenarios to run together, reached as `wb.suites`.

service.py is `SuiteService`; types.py its views; sql.py the statements that list and count.
"""

from __future__ import annotations

from workbench.services.suites.service import SuiteService
from workbench.services.suites.types import SuiteItem, SuiteSummary, SuiteView

__all__ = ["SuiteItem", "SuiteService", "SuiteSummary", "SuiteView"]
