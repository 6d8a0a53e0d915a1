"""Notebook widgets: thin ipywidgets views over the services (editors, lists, run views)."""
