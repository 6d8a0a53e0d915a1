"""Whole-workspace export and import (`wb.export_workspace`, `wb.import_workspace`).

io.py is `WorkspaceIO`; document.py reads and checks a workspace document; history.py carries
every saved version of each scenario.
"""

from __future__ import annotations

from workbench.services.workspace.io import WorkspaceImport, WorkspaceIO

__all__ = ["WorkspaceIO", "WorkspaceImport"]
