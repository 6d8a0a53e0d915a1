"""Persistence: the shared schema's models, the engine, the embedded server and migrations."""
