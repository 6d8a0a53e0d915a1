"""User-scoped services: every operation a signed-in user can do, reached through `Workbench`."""
