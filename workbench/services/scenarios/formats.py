"""YAML and JSON text for export documents: writing them exactly, reading them with clear errors.

YAML is written with libyaml when PyYAML has it (much faster on big exports), keys in document
order, Unicode as itself, no line folding, and multi-line text as literal blocks when YAML can
hold it exactly that way (otherwise as a double-quoted string with escapes): either way, reading
it back gives the same characters.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Literal

import yaml

from workbench.errors import ValidationError, quoted
from workbench.services.scenarios.safe_load import parse_text

Format = Literal["yaml", "json"]

_BaseDumper: Any = getattr(yaml, "CSafeDumper", yaml.SafeDumper)


class _Dumper(_BaseDumper):  # type: ignore[misc]
    """Safe dumping, with multi-line text as `|` blocks."""


def _represent_text(dumper: Any, value: str) -> Any:
    style = "|" if "\n" in value else None
    return dumper.represent_scalar("tag:yaml.org,2002:str", value, style=style)


_Dumper.add_representer(str, _represent_text)


def check_format(format: str | None) -> Format | None:
    if format is None:
        return None
    lowered = format.lower().lstrip(".")
    if lowered in ("yaml", "yml"):
        return "yaml"
    if lowered == "json":
        return "json"
    raise ValidationError(f"format: must be 'yaml' or 'json', not {quoted(format)}")


def format_of_path(path: Path) -> Format | None:
    suffix = path.suffix.lower()
    return "json" if suffix == ".json" else "yaml" if suffix in (".yaml", ".yml") else None


def dump(document: Mapping[str, Any], format: Format) -> str:
    """The document as text in `format`."""
    if format == "json":
        return json.dumps(document, ensure_ascii=False, indent=2) + "\n"
    text: str = yaml.dump(
        document, Dumper=_Dumper, allow_unicode=True, sort_keys=False, width=2**31 - 1
    )
    return text


def looks_like_path(source: str) -> bool:
    """A one-line string naming a .yaml, .yml or .json file is a path, not a document."""
    return "\n" not in source and format_of_path(Path(source)) is not None


def load(source: str | os.PathLike[str] | Mapping[str, Any], format: str | None) -> Any:
    """A parsed document from a mapping, a file path or document text."""
    if isinstance(source, Mapping):
        return source
    wanted = check_format(format)
    if isinstance(source, os.PathLike) or looks_like_path(source):
        path = Path(source)
        try:
            text = path.read_text(encoding="utf-8")
        except FileNotFoundError:
            raise ValidationError(
                f"No file at {quoted(str(path), limit=200)}; check the path."
            ) from None
        except UnicodeDecodeError as error:
            raise ValidationError(
                f"{quoted(str(path), limit=200)} is not UTF-8 text "
                f"(byte {error.start:,}: {error.reason})."
            ) from None
        return parse(text, wanted or format_of_path(path))
    if not isinstance(source, str):
        raise ValidationError(
            f"Import takes document text, a file path or a dict, not {type(source).__name__}."
        )
    return parse(source, wanted)


def parse(text: str, format: Format | None) -> Any:
    """Parse `text`; without a format, text starting with `{` is JSON, anything else YAML.

    Bounded whatever the text holds (size, aliases, depth: see `safe_load`).
    """
    if format is None:
        format = "json" if text.lstrip()[:1] == "{" else "yaml"
    return parse_text(text, format)
