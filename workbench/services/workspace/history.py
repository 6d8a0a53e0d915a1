"""Version history in a workspace document (optional): every saved version of every scenario.

    history:
      - scenario: Greeting          # a scenario of the same document, by name
        versions:
          - {version: 1, note: created, created_at: '2026-12-01T10:00:00+00:00', content: {...}}

`content` is a scenario entry exactly as in `scenarios:`. On import the versions replace the
single "imported" version an import otherwise writes, and the scenario's version becomes the
last one, so exporting again gives the same document.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from workbench.db.models import Scenario, ScenarioVersion
from workbench.db.security.deletes import delete_rows
from workbench.errors import quoted
from workbench.services.scenarios.bulk import insert_versions
from workbench.services.scenarios.document import kind, read_scenario, scenario_entry
from workbench.services.scenarios.store import id_array
from workbench.services.scenarios.types import ScenarioCreate
from workbench.services.scenarios.versions import content_of

HISTORY_KEYS = ("scenario", "versions")
VERSION_KEYS = ("version", "note", "created_at", "content")


@dataclass(frozen=True)
class Version:
    number: int
    note: str | None
    created_at: datetime
    content: ScenarioCreate


def export_history(session: Session, user_id: str, ids_by_name: Mapping[str, str]) -> list[Any]:
    """Every version of the named scenarios, by name (A to Z), oldest first."""
    rows = session.execute(
        select(
            ScenarioVersion.scenario_id,
            ScenarioVersion.version,
            ScenarioVersion.note,
            ScenarioVersion.created_at,
            ScenarioVersion.snapshot,
        )
        .join(Scenario, Scenario.id == ScenarioVersion.scenario_id)
        .where(Scenario.user_id == user_id)
        .order_by(ScenarioVersion.version)
    ).all()
    by_id: dict[str, list[dict[str, Any]]] = {}
    for scenario_id, number, note, created_at, snapshot in rows:
        by_id.setdefault(scenario_id, []).append(
            {
                "version": number,
                "note": note,
                "created_at": created_at.isoformat(),
                "content": scenario_entry(content_of(snapshot, version=number)),
            }
        )
    return [
        {"scenario": name, "versions": by_id.get(scenario_id, [])}
        for name, scenario_id in sorted(ids_by_name.items())
    ]


def read_history(data: Any, names: set[str], problems: list[str]) -> dict[str, list[Version]]:
    """The document's history by scenario name; every problem recorded with its path."""
    if data is None:
        return {}
    if not isinstance(data, list):
        problems.append(f"history: must be a list, not {kind(data)}")
        return {}
    found: dict[str, list[Version]] = {}
    for index, entry in enumerate(data):
        path = f"history[{index}]"
        if not isinstance(entry, Mapping) or not isinstance(entry.get("versions"), list):
            problems.append(f"{path}: must be a mapping with 'scenario' and a list of 'versions'")
            continue
        name = entry.get("scenario")
        if name not in names:
            problems.append(f"{path}.scenario: {quoted(name)} is not a scenario of this document")
            continue
        if name in found:
            problems.append(f"{path}.scenario: {quoted(name)} has a history already")
            continue
        versions = _versions(entry["versions"], path, problems)
        if versions is not None:
            found[name] = versions
    return found


def _versions(raw: Sequence[Any], path: str, problems: list[str]) -> list[Version] | None:
    versions: list[Version] = []
    before = len(problems)
    for index, item in enumerate(raw):
        where = f"{path}.versions[{index}]"
        if not isinstance(item, Mapping):
            problems.append(f"{where}: must be a mapping, not {kind(item)}")
            continue
        number, note = item.get("version"), item.get("note")
        if number != index + 1 or isinstance(number, bool):
            problems.append(f"{where}.version: must be {index + 1} (versions count from 1)")
        if note is not None and not isinstance(note, str):
            problems.append(f"{where}.note: must be text or null, not {kind(note)}")
        try:
            created_at = datetime.fromisoformat(str(item.get("created_at")))
        except ValueError:
            problems.append(f"{where}.created_at: must be an ISO 8601 time")
            continue
        content = read_scenario(item.get("content"), f"{where}.content", problems)
        if content is not None and len(problems) == before:
            versions.append(Version(index + 1, note, created_at, content))
    if not raw:
        problems.append(f"{path}.versions: must hold at least one version")
    return versions if len(problems) == before and raw else None


def write_history(
    session: Session, user_id: str, created: Mapping[str, str], history: Mapping[str, list[Version]]
) -> None:
    """Replace the imported scenarios' first version with their history (names as stored)."""
    wanted = {created[name]: versions for name, versions in history.items() if name in created}
    if not wanted:
        return
    delete_rows(session, ScenarioVersion, ScenarioVersion.scenario_id == id_array(list(wanted)))
    insert_versions(
        session,
        [
            (scenario_id, v.number, v.content, v.note, v.created_at)
            for scenario_id, versions in wanted.items()
            for v in versions
        ],
    )
    for scenario_id, versions in wanted.items():
        session.execute(
            update(Scenario)
            .where(Scenario.id == scenario_id, Scenario.user_id == user_id)
            .values(version=versions[-1].number)
        )
