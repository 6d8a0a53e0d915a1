"""Reading an imported document with bounded work, whatever it holds.

A shared file is untrusted input. What this refuses, each as a `ValidationError` naming where:

- documents over `MAX_DOCUMENT_CHARACTERS` (checked before any parsing);
- YAML aliases (`*name`): a node reached twice is how a few hundred bytes ("billion laughs")
  expand into gigabytes, and a scenario export never writes one;
- nesting deeper than `MAX_DEPTH` (JSON's parser recurses, so 100,000 `[` were a `RecursionError`);
- integers Python will not convert (over 4,300 digits raise `ValueError`);
- anything the YAML or JSON parser itself refuses.
"""

from __future__ import annotations

import json
import re
from typing import Any, Literal

import yaml

from workbench.errors import ValidationError

MAX_DOCUMENT_CHARACTERS = 32_000_000
"""The largest document `import_scenarios` reads (an export of 10,000 scenarios is ~5 MB)."""

MAX_DEPTH = 64
"""How deeply lists and mappings may nest (a scenario document needs 6 levels)."""

_CLoader: Any = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


class NoAliasLoader(_CLoader):  # type: ignore[misc]
    """Safe loading (libyaml when present) that refuses a node reached twice.

    Composition (libyaml) keeps an alias as a shared node, which costs nothing; it is
    construction, which is Python here even with libyaml, that would visit it again, so the
    check sits there and reports the node's line and column.
    """

    def construct_object(self, node: yaml.Node, deep: bool = False) -> Any:
        if node in self.constructed_objects or node in self.recursive_objects:
            raise ValidationError(
                f"The document reuses the value anchored at {where(node)} through a YAML "
                "alias (*): aliases are not accepted in imported documents; write the value "
                "out in full."
            )
        try:
            return super().construct_object(node, deep=deep)
        except ValueError as error:
            if isinstance(error, ValidationError):
                raise
            raise ValidationError(
                f"The document has a value that cannot be read at {where(node)}: "
                f"{str(error).split(';')[0][:120]}."
            ) from None


def where(node: yaml.Node) -> str:
    mark = node.start_mark
    return f"line {mark.line + 1}, column {mark.column + 1}"


def parse_text(text: str, format: Literal["yaml", "json"]) -> Any:
    """The document in `text`, or a `ValidationError` naming the limit or position."""
    if len(text) > MAX_DOCUMENT_CHARACTERS:
        raise ValidationError(
            f"The document has {len(text):,} characters, over the import limit of "
            f"{MAX_DOCUMENT_CHARACTERS:,}; split it into several files."
        )
    if format == "json":
        return parse_json(text)
    try:
        data = yaml.load(text, Loader=NoAliasLoader)
    except yaml.YAMLError as error:
        raise ValidationError(f"The document is not valid YAML: {error}") from None
    except RecursionError:
        raise too_deep(text) from None
    check_depth(data, text)
    return data


def parse_json(text: str) -> Any:
    try:
        data = json.loads(text)
    except json.JSONDecodeError as error:
        raise ValidationError(
            f"The document is not valid JSON: {error.msg} at line {error.lineno}, "
            f"column {error.colno}."
        ) from None
    except RecursionError:
        raise too_deep(text) from None
    except ValueError as error:
        raise ValidationError(
            f"The document has a value that cannot be read at {long_number(text)}: "
            f"{str(error).split(';')[0][:120]}."
        ) from None
    check_depth(data, text)
    return data


def check_depth(data: Any, text: str) -> None:
    """Refuse nesting past `MAX_DEPTH`, iteratively (the later readers recurse)."""
    stack: list[tuple[Any, int]] = [(data, 1)]
    while stack:
        value, depth = stack.pop()
        children = value.values() if isinstance(value, dict) else value
        if not isinstance(value, dict | list):
            continue
        if depth > MAX_DEPTH:
            raise too_deep(text)
        stack.extend((child, depth + 1) for child in children)


_BRACKETS = re.compile(r'"(?:[^"\\]|\\.)*"|[\[\]{}]')


def too_deep(text: str) -> ValidationError:
    """The error for nesting past `MAX_DEPTH`, naming where it first goes past (JSON-style)."""
    depth, at = 0, None
    for match in _BRACKETS.finditer(text):
        token = match.group()
        if token in "[{":
            depth += 1
            if depth > MAX_DEPTH:
                at = match.start()
                break
        elif token in "]}":
            depth -= 1
    place = f" at {line_column(text, at)}" if at is not None else ""
    return ValidationError(
        f"The document nests lists or mappings more than {MAX_DEPTH} levels deep{place}; "
        "a scenario document needs far fewer."
    )


def long_number(text: str) -> str:
    match = re.search(r"\d{4000,}", text)
    return line_column(text, match.start()) if match else "an unknown position"


def line_column(text: str, offset: int) -> str:
    line = text.count("\n", 0, offset) + 1
    return f"line {line}, column {offset - (text.rfind(chr(10), 0, offset) + 1) + 1}"
