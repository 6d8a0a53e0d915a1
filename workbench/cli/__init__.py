"""The `workbench` command and its subcommands (`workbench.cli.main:main` is the entry point)."""

from __future__ import annotations

from workbench.cli.main import build_parser, main

__all__ = ["build_parser", "main"]
