"""Labels travel with the workspace: exported by where their result is, put back on yours,
skipped (and said) where the result is not yours, refused whole when malformed."""

from __future__ import annotations

import pytest
import yaml

from tests.services.reviews.conftest import Reviewed
from workbench.errors import ValidationError
from workbench.handle import Workbench


def test_labels_are_exported_and_imported_with_the_workspace(
    reviewed: Reviewed, other_wb: Workbench
) -> None:
    wb, run = reviewed.wb, reviewed.run
    assert "labels" not in yaml.safe_load(wb.export_workspace())  # none yet: document unchanged
    q = wb.reviews.queue(run, only="semantic")
    q.label(0, "fail", comment="misses the point")
    q.label(3, "unsure")
    document = yaml.safe_load(wb.export_workspace())
    first, second = document["labels"]
    assert first == {"run": run.id, "position": 1, "repeat": 1, "turn": 2, "expectation": 2,
                     "label": "fail", "comment": "misses the point"}  # fmt: skip
    assert (second["repeat"], second["label"], second["comment"]) == (4, "unsure", None)

    wb.reviews.label(q.result_ids[0], "pass", comment="")  # changed since the export
    done = wb.import_workspace(document, on_conflict="skip")
    assert (done.labels, done.skipped_labels) == (2, ())
    back = q.frame().iloc[0]
    assert (back["label"], back["comment"]) == ("fail", "misses the point")
    assert list(wb.reviews.history(q.result_ids[0])["label"]) == ["fail", "pass", "fail"]

    # Another user holds none of these results: their import skips the labels and says where.
    theirs = other_wb.import_workspace(document)
    assert theirs.labels == 0 and len(theirs.skipped_labels) == 2
    assert theirs.skipped_labels[0].startswith(f"run {run.id}, position 1, repeat 1")
    assert len(wb.reviews.history(q.result_ids[0])) == 3  # nothing of theirs reached ours


def test_a_malformed_label_refuses_the_whole_import(
    reviewed: Reviewed, other_wb: Workbench
) -> None:
    wb = reviewed.wb
    wb.reviews.queue(reviewed.run).label(0, "pass")
    document = yaml.safe_load(wb.export_workspace())
    bad = {"run": reviewed.run.id, "position": 0, "repeat": 1, "turn": 1, "expectation": 1}
    document["labels"].append(bad | {"label": "maybe", "comment": "x" * 2001})
    with pytest.raises(ValidationError) as raised:
        other_wb.import_workspace(document)
    message = str(raised.value)
    assert "labels[1].position: must be a whole number from 1" in message
    assert "labels[1].label: must be 'pass', 'fail' or 'unsure'" in message
    assert "labels[1].comment: must be text of at most 2,000 characters" in message
    assert other_wb.scenarios.list().items == ()  # nothing half-written
