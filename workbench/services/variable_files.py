"""Prompt variables for one run from a terminal: `--var name=value` and `--vars-file FILE`.

A variables file is a YAML or JSON mapping `{name: value}` (the format from the extension,
`.json` for JSON, anything else read as YAML, which JSON also is). It is read like every
imported document (`scenarios/safe_load.py`): size checked before parsing, no YAML aliases,
bounded nesting. Names must be identifiers and values text (numbers and booleans are written as
YAML/JSON spell them); every problem is listed, and nothing runs.
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from workbench.errors import ValidationError, quoted
from workbench.services._variable_input import from_mapping
from workbench.services.scenarios.safe_load import MAX_DOCUMENT_CHARACTERS, parse_text


def parse_assignments(items: Sequence[str]) -> dict[str, str]:
    """`["company=Acme", "tone=kind"]` as a dict; the value may hold '=' and be empty."""
    found: dict[str, str] = {}
    for item in items:
        name, equals, value = item.partition("=")
        if not equals:
            raise ValidationError(
                f"--var takes NAME=VALUE, got {quoted(item)}; for example --var company=Acme"
            )
        found[name.strip()] = value
    return checked(found, "--var")


def read_variables_file(path: str | os.PathLike[str]) -> dict[str, str]:
    """The mapping in a YAML or JSON file, checked (see the module's docstring)."""
    file = Path(path)
    try:
        size = file.stat().st_size
        if size > MAX_DOCUMENT_CHARACTERS:
            raise ValidationError(
                f"{file} has {size:,} bytes, over the limit of {MAX_DOCUMENT_CHARACTERS:,} "
                "for a variables file."
            )
        text = file.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as error:
        raise ValidationError(f"Cannot read the variables file {file}: {error}") from None
    data = parse_text(text, "json" if file.suffix.lower() == ".json" else "yaml")
    if data is None:
        return {}
    if not isinstance(data, Mapping):
        raise ValidationError(
            f"{file} must hold a mapping of variable names to values (company: Acme), "
            f"not a {type(data).__name__}."
        )
    return checked({key: as_text(value) for key, value in data.items()}, str(file))


def as_text(value: Any) -> Any:
    """Scalars as the text a prompt shows; anything else is left for `checked` to refuse."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return str(value)
    return value


def checked(variables: Mapping[Any, Any], source: str) -> dict[str, str]:
    """Identifier names and text values, or a `ValidationError` listing every problem."""
    try:
        rows = from_mapping(variables)
    except ValidationError as error:
        raise ValidationError(
            f"Variables from {source} cannot be used: " + "; ".join(error.problems[:5]),
            problems=error.problems,
        ) from None
    return {row.key: row.value for row in rows}
