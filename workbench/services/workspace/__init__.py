"""Whole-workspace export and import (`wb.export_workspace`, `wb.import_workspace`)."""
