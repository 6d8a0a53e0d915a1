"""Property-based: random valid scenarios go through save, load, export and import unchanged."""

from __future__ import annotations

import re

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from workbench.db.enums import ExpectationType, ScenarioStatus
from workbench.handle import Workbench
from workbench.services.limits import name_problem
from workbench.services.scenarios.types import (
    ExpectationSpec,
    ScenarioCreate,
    TurnSpec,
    expect,
    must_contain,
    must_contain_any,
    must_not_contain,
    regex,
    semantic,
    user,
)


# Any Unicode PostgreSQL can store: no NUL, no lone surrogates.
def acceptable_name(name: str) -> bool:
    return bool(name) and name_problem(name) is None


CHARACTERS = st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00")
TEXT = st.text(CHARACTERS, min_size=1, max_size=30).filter(str.strip)
# Names and tags must show: none with nothing visible or with a bidi control (limits.py).
NAME = st.text(CHARACTERS, min_size=1, max_size=60).map(str.strip).filter(acceptable_name)
TAG = st.text(CHARACTERS, max_size=12).map(str.strip).filter(acceptable_name)
TAGS = st.lists(TAG, max_size=4, unique=True)

EXPECTATION = st.one_of(
    st.builds(must_contain, TEXT, case_sensitive=st.booleans()),
    st.builds(must_not_contain, TEXT, case_sensitive=st.booleans()),
    st.builds(
        lambda values, case: must_contain_any(*values, case_sensitive=case),
        st.lists(TEXT, min_size=1, max_size=3),
        st.booleans(),
    ),
    st.builds(regex, TEXT.map(re.escape), case_sensitive=st.booleans()),
    st.builds(semantic, TEXT, threshold=st.floats(min_value=0, max_value=1)),
    st.builds(lambda text: ExpectationSpec(ExpectationType.SEMANTIC_ASSERT, value=text), TEXT),
)


@st.composite
def turns(draw: st.DrawFn) -> tuple[TurnSpec, ...]:
    """USER turns, each optionally followed by an EXPECT turn: always a valid order."""
    result: list[TurnSpec] = []
    for text in draw(st.lists(TEXT, max_size=4)):
        result.append(user(text))
        if draw(st.booleans()):
            result.append(expect(*draw(st.lists(EXPECTATION, min_size=1, max_size=3))))
    return tuple(result)


SCENARIO = st.builds(
    ScenarioCreate,
    name=NAME,
    description=st.none() | st.text(CHARACTERS, max_size=40),
    locale=st.sampled_from(["en", "pt-BR", "zh-Hant-TW", "es-419"]),
    status=st.sampled_from(list(ScenarioStatus)),
    tags=TAGS.map(tuple),
    turns=turns(),
)

SETTINGS = settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)


@SETTINGS
@given(spec=SCENARIO)
def test_save_then_load_gives_back_what_went_in(wb: Workbench, spec: ScenarioCreate) -> None:
    created = wb.scenarios.create(spec)
    try:
        assert wb.scenarios.get(created.id).to_create() == spec
        assert wb.scenarios.get_version(created.id, 1).turns == spec.turns
    finally:
        wb.scenarios.delete(created.id)


@SETTINGS
@given(spec=SCENARIO, fmt=st.sampled_from(["yaml", "json"]))
def test_export_then_import_gives_back_what_went_in(
    wb: Workbench, other_wb: Workbench, spec: ScenarioCreate, fmt: str
) -> None:
    created = wb.scenarios.create(spec)
    imported_id = None
    try:
        exported = wb.export_scenarios(scenario_ids=[created.id], format=fmt)
        imported_id = other_wb.import_scenarios(exported).scenario_ids[spec.name]
        assert other_wb.scenarios.get(imported_id).to_create() == spec
        assert other_wb.export_scenarios(scenario_ids=[imported_id], format=fmt) == exported
    finally:
        wb.scenarios.delete(created.id)
        if imported_id is not None:
            other_wb.scenarios.delete(imported_id)
