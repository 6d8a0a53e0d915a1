"""The whole-workspace document: scenarios, suites, prompts and variables, as plain data.

Format `workbench.workspace/v1` (the same shape as YAML or JSON):

    format: workbench.workspace/v1
    scenarios: [...]      # exactly as in workbench.scenarios/v1 (services/scenarios/document.py)
    suites: [...]
    prompts:
      - name: Support
        description: null
        content: You help {{ company }}.
        status: DRAFT             # DRAFT, PUBLISHED or ARCHIVED
        tags: [support]
    variables:
      - {key: company, value: Acme, description: null}

With `include_history=True` it also has `history:` (history.py), and once you have labelled
run results, `labels:` (services/reviews/document.py). API keys are never
part of it. Ids, versions and timestamps are not either, so exporting what an
import created gives the same document again. Problems are reported with their path in the
document (`prompts[2].content: ...`, `variables[0].key: ...`), 0-based like the lists.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Final

from workbench.db.enums import PromptStatus
from workbench.errors import quoted
from workbench.services._fields import (
    clean_enum,
    clean_name,
    clean_tags,
    key_problems,
    text_problems,
)
from workbench.services.prompts.types import content_problems
from workbench.services.reviews.document import LabelEntry, read_labels
from workbench.services.scenarios.document import FORMAT as SCENARIOS_FORMAT
from workbench.services.scenarios.document import Reading, kind, read_document, unknown_keys
from workbench.services.workspace.history import Version, read_history

FORMAT: Final = "workbench.workspace/v1"
TOP_KEYS: Final = ("format", "scenarios", "suites", "prompts", "variables", "history", "labels")
PROMPT_KEYS: Final = ("name", "description", "content", "status", "tags")
VARIABLE_KEYS: Final = ("key", "value", "description")


@dataclass(frozen=True)
class PromptEntry:
    name: str
    description: str | None
    content: str
    status: PromptStatus
    tags: tuple[str, ...]


@dataclass(frozen=True)
class VariableEntry:
    key: str
    value: str
    description: str | None


@dataclass
class WorkspaceReading:
    """Everything a document holds that is valid, with its index, and every problem found."""

    scenarios: Reading
    prompts: list[tuple[int, PromptEntry]] = field(default_factory=list)
    variables: list[tuple[int, VariableEntry]] = field(default_factory=list)
    history: dict[str, list[Version]] = field(default_factory=dict)
    """Optional: every version of a scenario, by its name in the document."""
    labels: list[LabelEntry] = field(default_factory=list)
    """Optional: people's labels on run results (issue 26)."""

    @property
    def problems(self) -> list[str]:
        return self.scenarios.problems


def prompt_entry(prompt: PromptEntry) -> dict[str, Any]:
    return {
        "name": prompt.name,
        "description": prompt.description,
        "content": prompt.content,
        "status": str(prompt.status),
        "tags": list(prompt.tags),
    }


def variable_entry(variable: VariableEntry) -> dict[str, Any]:
    return {"key": variable.key, "value": variable.value, "description": variable.description}


def workspace_document(
    scenarios: Mapping[str, Any], prompts: Sequence[PromptEntry], variables: Sequence[VariableEntry]
) -> dict[str, Any]:
    """The document, from a scenarios/v1 document and the prompts and variables."""
    return {
        "format": FORMAT,
        "scenarios": scenarios["scenarios"],
        "suites": scenarios["suites"],
        "prompts": [prompt_entry(p) for p in prompts],
        "variables": [variable_entry(v) for v in variables],
    }


def read_workspace(data: Any) -> WorkspaceReading:
    """Every entry of a parsed document checked as the services would, problems by path."""
    if not isinstance(data, Mapping):
        reading = Reading([], [], [f"document: must be a mapping with 'format', not {kind(data)}"])
        return WorkspaceReading(reading)
    part = {"format": SCENARIOS_FORMAT}
    part.update({key: data[key] for key in ("scenarios", "suites") if key in data})
    workspace = WorkspaceReading(read_document(part))
    problems = workspace.scenarios.problems
    if data.get("format") != FORMAT:
        problems.insert(0, f"format: must be {quoted(FORMAT)}, got {quoted(data.get('format'))}")
    unknown_keys(data, TOP_KEYS, "", problems)
    for index, entry in enumerate(_entries(data, "prompts", problems)):
        prompt = _read_prompt(entry, f"prompts[{index}]", problems)
        if prompt is not None:
            workspace.prompts.append((index, prompt))
    for index, entry in enumerate(_entries(data, "variables", problems)):
        variable = _read_variable(entry, f"variables[{index}]", problems)
        if variable is not None:
            workspace.variables.append((index, variable))
    names = {spec.name for _, spec in workspace.scenarios.scenarios}
    workspace.history = read_history(data.get("history"), names, problems)
    workspace.labels = read_labels(data.get("labels"), problems)
    seen: dict[str, int] = {}
    for index, variable in workspace.variables:
        if variable.key in seen:
            problems.append(
                f"variables[{index}].key: {quoted(variable.key)} is already "
                f"variables[{seen[variable.key]}]; a key appears once"
            )
        seen.setdefault(variable.key, index)
    return workspace


def _entries(data: Mapping[str, Any], key: str, problems: list[str]) -> Sequence[Any]:
    value = data.get(key, [])
    if value is None:
        return ()
    if not isinstance(value, list | tuple):
        problems.append(f"{key}: must be a list, not {kind(value)}")
        return ()
    return value


def _at(path: str, found: list[str]) -> list[str]:
    return [f"{path}.{problem}" for problem in found]


def _read_prompt(entry: Any, path: str, problems: list[str]) -> PromptEntry | None:
    if not isinstance(entry, Mapping):
        problems.append(f"{path}: must be a mapping with 'name' and 'content', not {kind(entry)}")
        return None
    before = len(problems)
    unknown_keys(entry, PROMPT_KEYS, path, problems)
    name, found = clean_name(entry.get("name"))
    problems += _at(path, found)
    description = entry.get("description")
    problems += _at(path, text_problems(description, "description", optional=True))
    content = entry.get("content")
    problems += _at(path, content_problems(content))
    status, found = clean_enum(entry.get("status", "DRAFT"), PromptStatus, "status")
    problems += _at(path, found)
    tags, found = clean_tags(entry.get("tags", []))
    problems += _at(path, found)
    if len(problems) > before or status is None:
        return None
    return PromptEntry(name, description, str(content), status, tuple(tags))


def _read_variable(entry: Any, path: str, problems: list[str]) -> VariableEntry | None:
    if not isinstance(entry, Mapping):
        problems.append(f"{path}: must be a mapping with 'key' and 'value', not {kind(entry)}")
        return None
    before = len(problems)
    unknown_keys(entry, VARIABLE_KEYS, path, problems)
    key, value, description = entry.get("key"), entry.get("value"), entry.get("description")
    problems += _at(path, key_problems(key))
    problems += _at(path, text_problems(value, "value"))
    problems += _at(path, text_problems(description, "description", optional=True))
    if len(problems) > before:
        return None
    return VariableEntry(str(key), str(value), description)
