"""Runs: play a suite against a model and study every attempt (`wb.runs`)."""
