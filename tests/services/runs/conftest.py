"""The runs fixtures (a user with a suite, a prompt and variables: tests/runs/conftest.py)."""

from tests.runs.conftest import setup  # noqa: F401 (a fixture)
