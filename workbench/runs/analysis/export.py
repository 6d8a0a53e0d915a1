"""A run's results as JSON, CSV and JUnit XML text, from its results frame (one row per
expectation attempt). Pure: the caller reads the frame, these only format it."""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any
from xml.etree import ElementTree as ET

from workbench.runs.evaluators.explain import explain

if TYPE_CHECKING:
    import pandas as pd


def _plain(value: Any) -> Any:
    """pandas' missing values and numpy scalars as JSON's null and numbers."""
    if value is None:
        return None
    try:
        import pandas as pd

        if value is pd.NA or (isinstance(value, float) and math.isnan(value)):
            return None
    except ImportError:  # pragma: no cover - pandas is a dependency
        pass
    if hasattr(value, "item") and not isinstance(value, dict | list | str):
        return value.item()
    if hasattr(value, "isoformat"):
        return value.isoformat()
    return value


def records(frame: pd.DataFrame) -> list[dict[str, Any]]:
    columns = list(frame.columns)
    return [
        {name: _plain(value) for name, value in zip(columns, row, strict=True)}
        for row in frame.itertuples(index=False, name=None)
    ]


def to_json(frame: pd.DataFrame, run: Mapping[str, Any]) -> str:
    """`{"run": {...}, "results": [...]}`; `detail` stays a nested object."""
    document = {"run": {k: _plain(v) for k, v in run.items()}, "results": records(frame)}
    return json.dumps(document, ensure_ascii=False, indent=1, default=str)


def to_csv(frame: pd.DataFrame) -> str:
    """One line per expectation attempt; `detail` as a JSON string."""
    flat = frame.copy()
    if "detail" in flat.columns:
        flat["detail"] = [json.dumps(d, ensure_ascii=False, default=str) for d in flat["detail"]]
    text: str = flat.to_csv(index=False)
    return text


def to_junit(frame: pd.DataFrame, run: Mapping[str, Any]) -> str:
    """JUnit XML: one testcase per attempt (scenario x repeat: "Refunds [repeat 1]"), a failure
    listing the failed expectations, an error for errored ones (never counted as failures)."""
    suite = ET.Element("testsuite", name=str(run.get("suite_name") or "run"))
    tests = failures = errors = 0
    for (scenario, repeat), rows in frame.groupby(["scenario", "repeat"], sort=False):
        tests += 1
        case = ET.SubElement(
            suite,
            "testcase",
            classname=str(run.get("suite_name") or "run"),
            name=f"{scenario} [repeat {repeat}]",
            time=f"{float(rows['latency_s'].fillna(0).sum()):.3f}",
        )
        failed = rows[rows["status"] == "FAILED"]
        errored = rows[rows["status"] == "ERROR"]
        if len(failed):
            failures += 1
            lines = [_line(row) for row in failed.itertuples(index=False)]
            ET.SubElement(case, "failure", message=lines[0][:500]).text = "\n".join(lines)
        elif len(errored):
            errors += 1
            lines = [_line(row) for row in errored.itertuples(index=False)]
            ET.SubElement(case, "error", message=lines[0][:500]).text = "\n".join(lines)
    suite.set("tests", str(tests))
    suite.set("failures", str(failures))
    suite.set("errors", str(errors))
    root = ET.Element("testsuites", name=f"workbench run {run.get('id', '')}")
    root.append(suite)
    ET.indent(root)
    return ET.tostring(root, encoding="unicode", xml_declaration=True) + "\n"


def _line(row: Any) -> str:
    """ "turn 2 expectation 1 MUST_CONTAIN: the reply does not contain '30 days'; reply '...'"
    (the frame's numbers: from 1, the turn as the scenario editor numbers it)."""
    where = f"turn {row.turn} expectation {row.expectation} {row.type}"
    detail = row.detail if isinstance(getattr(row, "detail", None), dict) else {}
    error = getattr(row, "error", None)
    if isinstance(error, str) and not detail.get("error"):
        detail = {**detail, "error": error}
    said = f"; reply {row.reply[:300]!r}" if isinstance(row.reply, str) else ""
    return f"{where}: {explain(str(row.type), str(row.status), detail)}{said}"
