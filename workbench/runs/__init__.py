"""Runs: play suites against model APIs. This package sits below the services: it imports only
errors, db, crypto and tables, and has no user scoping of its own (the services pass the user).

    target = workbench.openai("gpt-4o-mini", temperature=0)
    client = open_client(target, api_key=...)      # the one generate path
"""

from __future__ import annotations

from workbench.runs.generate import open_client
from workbench.runs.providers import Completion, Message, ModelClient, ProviderError, Target
from workbench.runs.providers.targets import anthropic, offline, openai, openai_compatible

__all__ = [
    "Completion",
    "Message",
    "ModelClient",
    "ProviderError",
    "Target",
    "anthropic",
    "offline",
    "open_client",
    "openai",
    "openai_compatible",
]
