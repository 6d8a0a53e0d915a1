"""Lifecycle, version snapshots, history, diff and restore."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from workbench.db.enums import ScenarioStatus
from workbench.db.models import ScenarioVersion
from workbench.errors import Conflict, Duplicate, NotFound, ValidationError
from workbench.handle import Workbench
from workbench.services.scenarios.types import (
    ScenarioCreate,
    ScenarioUpdate,
    ScenarioView,
    expect,
    must_contain,
    must_not_contain,
    regex,
    user,
)

ORIGINAL = ScenarioCreate(
    name="Greeting",
    description="v1",
    tags=("smoke", "old"),
    turns=(user("Hi"), expect(must_contain("hello")), user("Bye"), expect(must_contain("bye"))),
)


@pytest.fixture
def scenario(wb: Workbench) -> ScenarioView:
    return wb.scenarios.create(ORIGINAL)


def test_publish_moves_a_draft_to_published_as_a_new_version(
    wb: Workbench, scenario: ScenarioView
) -> None:
    published = wb.scenarios.publish(scenario.id)
    assert (published.status, published.version) == (ScenarioStatus.PUBLISHED, 2)
    assert published.turns == scenario.turns


def test_archive_then_back_to_draft(wb: Workbench, scenario: ScenarioView) -> None:
    wb.scenarios.publish(scenario.id)
    assert wb.scenarios.archive(scenario.id).status is ScenarioStatus.ARCHIVED
    assert wb.scenarios.restore_to_draft(scenario.id).status is ScenarioStatus.DRAFT
    assert wb.scenarios.get(scenario.id).version == 4


def test_a_draft_can_be_archived_directly(wb: Workbench, scenario: ScenarioView) -> None:
    assert wb.scenarios.archive(scenario.id).status is ScenarioStatus.ARCHIVED


def test_archived_cannot_be_published_without_going_through_draft(
    wb: Workbench, scenario: ScenarioView
) -> None:
    wb.scenarios.archive(scenario.id)
    with pytest.raises(ValidationError) as raised:
        wb.scenarios.publish(scenario.id)
    assert str(raised.value) == (
        "status: scenario 'Greeting' is ARCHIVED; this change is only allowed from DRAFT."
    )
    assert wb.scenarios.get(scenario.id).version == 2


def test_publishing_twice_is_refused(wb: Workbench, scenario: ScenarioView) -> None:
    wb.scenarios.publish(scenario.id)
    with pytest.raises(ValidationError, match="is PUBLISHED; this change is only allowed from"):
        wb.scenarios.publish(scenario.id)


def test_a_draft_is_already_a_draft(wb: Workbench, scenario: ScenarioView) -> None:
    with pytest.raises(ValidationError, match="allowed from ARCHIVED or PUBLISHED"):
        wb.scenarios.restore_to_draft(scenario.id)


def test_set_status_accepts_a_status_name(wb: Workbench, scenario: ScenarioView) -> None:
    assert wb.scenarios.set_status(scenario.id, "published").status is ScenarioStatus.PUBLISHED


def test_set_status_to_an_unknown_status_is_refused(wb: Workbench, scenario: ScenarioView) -> None:
    with pytest.raises(ValidationError, match="unknown status 'LIVE'"):
        wb.scenarios.set_status(scenario.id, "LIVE")


def test_update_follows_the_lifecycle_rules(wb: Workbench, scenario: ScenarioView) -> None:
    wb.scenarios.archive(scenario.id)
    with pytest.raises(ValidationError, match="is ARCHIVED"):
        wb.scenarios.update(
            scenario.id, ScenarioUpdate(status="PUBLISHED", name="New"), expected_version=2
        )
    assert wb.scenarios.get(scenario.id).name == "Greeting"


def test_update_with_the_current_status_is_not_a_transition(
    wb: Workbench, scenario: ScenarioView
) -> None:
    updated = wb.scenarios.update(
        scenario.id, ScenarioUpdate(status="DRAFT", name="Same status"), expected_version=1
    )
    assert (updated.status, updated.name) == (ScenarioStatus.DRAFT, "Same status")


def test_status_change_at_a_stale_version_is_a_conflict(
    wb: Workbench, scenario: ScenarioView
) -> None:
    wb.scenarios.update(scenario.id, ScenarioUpdate(name="Changed"), expected_version=1)
    with pytest.raises(Conflict):
        wb.scenarios.publish(scenario.id, expected_version=1)
    assert wb.scenarios.get(scenario.id).status is ScenarioStatus.DRAFT


def test_every_save_writes_a_snapshot_of_the_whole_scenario(
    wb: Workbench, scenario: ScenarioView
) -> None:
    wb.scenarios.update(scenario.id, ScenarioUpdate(turns=ORIGINAL.turns[:2]), expected_version=1)
    wb.scenarios.publish(scenario.id)
    history = wb.scenarios.history(scenario.id)
    assert [(v.version, v.note) for v in history] == [
        (3, "status PUBLISHED"),
        (2, "updated"),
        (1, "created"),
    ]
    assert history[0].turns == history[1].turns == ORIGINAL.turns[:2]
    assert history[0].status == ScenarioStatus.PUBLISHED
    assert history[2].turns == ORIGINAL.turns


def test_the_snapshot_is_json_the_web_app_can_read(wb: Workbench, scenario: ScenarioView) -> None:
    with wb.database.transaction() as session:
        snapshot = session.scalar(
            select(ScenarioVersion.snapshot).where(ScenarioVersion.scenario_id == scenario.id)
        )
    assert snapshot == {
        "name": "Greeting",
        "description": "v1",
        "locale": "en",
        "status": "DRAFT",
        "tags": ["smoke", "old"],
        "turns": [
            {"orderIndex": 0, "turnType": "USER", "userText": "Hi", "expectations": []},
            {
                "orderIndex": 1,
                "turnType": "EXPECT",
                "userText": None,
                "expectations": [
                    {
                        "orderIndex": 0,
                        "type": "MUST_CONTAIN",
                        "value": "hello",
                        "values": [],
                        "caseSensitive": False,
                        "threshold": None,
                    }
                ],
            },
            {"orderIndex": 2, "turnType": "USER", "userText": "Bye", "expectations": []},
            {
                "orderIndex": 3,
                "turnType": "EXPECT",
                "userText": None,
                "expectations": [
                    {
                        "orderIndex": 0,
                        "type": "MUST_CONTAIN",
                        "value": "bye",
                        "values": [],
                        "caseSensitive": False,
                        "threshold": None,
                    }
                ],
            },
        ],
    }


def test_get_version_reads_an_old_version(wb: Workbench, scenario: ScenarioView) -> None:
    wb.scenarios.update(scenario.id, ScenarioUpdate(name="Renamed"), expected_version=1)
    old = wb.scenarios.get_version(scenario.id, 1)
    assert (old.name, old.version, old.note) == ("Greeting", 1, "created")
    assert old.turns == ORIGINAL.turns


def test_a_version_that_does_not_exist_is_not_found(wb: Workbench, scenario: ScenarioView) -> None:
    with pytest.raises(NotFound, match="has no version 7"):
        wb.scenarios.get_version(scenario.id, 7)


def test_diff_lists_field_and_turn_changes(wb: Workbench, scenario: ScenarioView) -> None:
    turns = (
        user("Hi"),
        expect(must_contain("hello"), regex(r"\d+")),
        user("Wait"),
        expect(must_not_contain("sorry")),
        user("Bye"),
    )
    wb.scenarios.update(
        scenario.id,
        ScenarioUpdate(name="Greeting 2", tags=("smoke", "new"), turns=turns),
        expected_version=1,
    )
    diff = wb.scenarios.diff(scenario.id, 1, 2)
    assert str(diff) == "\n".join(
        [
            "version 1 → 2:",
            "  name changed: 'Greeting' → 'Greeting 2'",
            "  tag 'new' added: 'new'",
            "  tag 'old' removed: 'old'",
            "  turn 2 changed: EXPECT [MUST_CONTAIN 'hello'] → "
            "EXPECT [MUST_CONTAIN 'hello', REGEX '\\\\d+']",
            "  turn 3 added: USER 'Wait'",
            "  turn 4 added: EXPECT [MUST_NOT_CONTAIN 'sorry']",
            "  turn 4 removed: EXPECT [MUST_CONTAIN 'bye']",
        ]
    )


def test_diff_of_a_version_with_itself_is_empty(wb: Workbench, scenario: ScenarioView) -> None:
    diff = wb.scenarios.diff(scenario.id, 1, 1)
    assert diff.is_empty
    assert str(diff) == "version 1 → 1: no changes"


def test_diff_shows_a_status_change(wb: Workbench, scenario: ScenarioView) -> None:
    wb.scenarios.publish(scenario.id)
    changes = wb.scenarios.diff(scenario.id, 1, 2).changes
    assert [str(change) for change in changes] == ["status changed: 'DRAFT' → 'PUBLISHED'"]


def test_restore_brings_back_the_content_as_a_new_version(
    wb: Workbench, scenario: ScenarioView
) -> None:
    wb.scenarios.update(
        scenario.id,
        ScenarioUpdate(name="Other", description=None, tags=(), turns=()),
        expected_version=1,
    )
    restored = wb.scenarios.restore(scenario.id, 1)
    assert restored.version == 3
    assert restored.to_create() == ORIGINAL
    assert wb.scenarios.get(scenario.id) == restored
    assert wb.scenarios.history(scenario.id)[0].note == "restored version 1"
    assert wb.scenarios.diff(scenario.id, 1, 3).is_empty


def test_restore_keeps_the_current_status(wb: Workbench, scenario: ScenarioView) -> None:
    wb.scenarios.publish(scenario.id)
    assert wb.scenarios.restore(scenario.id, 1).status is ScenarioStatus.PUBLISHED


def test_restore_at_a_stale_version_is_a_conflict(wb: Workbench, scenario: ScenarioView) -> None:
    changed = wb.scenarios.update(scenario.id, ScenarioUpdate(turns=()), expected_version=1)
    with pytest.raises(Conflict):
        wb.scenarios.restore(scenario.id, 1, expected_version=1)
    assert wb.scenarios.get(scenario.id) == changed


def test_restore_of_a_name_taken_since_is_a_duplicate(
    wb: Workbench, scenario: ScenarioView
) -> None:
    wb.scenarios.update(scenario.id, ScenarioUpdate(name="Renamed"), expected_version=1)
    wb.scenarios.create(ScenarioCreate("Greeting"))
    with pytest.raises(Duplicate):
        wb.scenarios.restore(scenario.id, 1)
    assert wb.scenarios.get(scenario.id).version == 2
