"""Suites: ordered sets of scenarios to run together (`wb.suites`)."""
