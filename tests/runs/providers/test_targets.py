"""A target survives the run record: every setting that shapes a request or its retries comes
back from the stored run (JSONB) exactly, for every option of every network target (issue 18,
item 5). A target field nobody round-trips fails `test_every_target_field_is_round_tripped`."""

from __future__ import annotations

import dataclasses
import json
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sqlalchemy import text

import workbench
from workbench.db.engine import Database
from workbench.errors import ValidationError
from workbench.runs import Message, Target
from workbench.runs.judge import VERDICT_SCHEMA
from workbench.runs.providers.anthropic import messages_body
from workbench.runs.providers.openai import chat_body

from_settings = Target.from_settings


# Text PostgreSQL can store in JSONB: no NUL, no lone surrogates.
TEXT = st.text(st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00"), max_size=8)
MODEL = st.from_regex(r"[A-Za-z0-9][A-Za-z0-9._:/@+-]{0,40}", fullmatch=True)
URL = st.from_regex(
    r"https?://[a-z0-9.-]{1,20}(:[0-9]{1,5})?(/[a-z0-9._~-]{0,10}){0,3}", fullmatch=True
)
STOP = st.one_of(TEXT, st.lists(TEXT, max_size=4), st.lists(TEXT, max_size=4).map(tuple))
COUNT = st.one_of(st.none(), st.integers(1, 10_000_000))


def number(low: float, high: float) -> st.SearchStrategy[float | int]:
    return st.one_of(st.floats(low, high, allow_nan=False), st.integers(int(low), int(high)))


def options(**params: st.SearchStrategy[Any]) -> st.SearchStrategy[dict[str, Any]]:
    """Any subset of the target-wide options and of the provider's request parameters."""
    every = {
        "timeout_s": st.floats(0.001, 3600.0, allow_nan=False),
        "max_retries": st.integers(0, 20),
        "concurrency": COUNT,
        "rpm": COUNT,
        "tpm": COUNT,
        "transport": st.sampled_from(["sdk", "direct"]),
        "max_reply_bytes": st.integers(1_000, 100_000_000),
        **params,
    }
    return st.fixed_dictionaries({}, optional=every)


OPENAI_PARAMS = options(
    temperature=number(0.0, 2.0),
    max_tokens=st.integers(1, 1_000_000),
    top_p=number(0.0, 1.0),
    seed=st.integers(-(2**63), 2**63 - 1),
    frequency_penalty=number(-2.0, 2.0),
    presence_penalty=number(-2.0, 2.0),
    stop=STOP,
)
ANTHROPIC_PARAMS = options(
    temperature=number(0.0, 1.0),
    max_tokens=st.integers(1, 1_000_000),
    top_p=number(0.0, 1.0),
    top_k=st.integers(1, 1_000_000),
    stop_sequences=STOP,
)
TARGETS = st.one_of(
    st.builds(
        lambda model, url, params: workbench.openai(model, base_url=url, **params),
        MODEL,
        st.none() | URL,
        OPENAI_PARAMS,
    ),
    st.builds(
        lambda model, url, params: workbench.anthropic(model, base_url=url, **params),
        MODEL,
        st.none() | URL,
        ANTHROPIC_PARAMS,
    ),
    st.builds(
        lambda model, url, params: workbench.openai_compatible(base_url=url, model=model, **params),
        MODEL,
        URL,
        OPENAI_PARAMS,
    ),
)

CONVERSATION = (Message("system", "Be brief."), Message("user", "hello"))
# What a request and its retries are made of, besides the body; offline-only fields aside.
REQUEST_FIELDS = (
    "provider", "model", "base_url", "timeout_s", "max_retries", "concurrency", "rpm", "tpm",
    "transport", "max_reply_bytes",
)  # fmt: skip
OFFLINE_ONLY = ("offline_rules", "offline_default", "judge_score")


def json_of(value: Any) -> Any:
    return json.loads(json.dumps(value))


def shape(target: Target) -> dict[str, Any]:
    """Everything of `target` that a request or its retries depend on, as plain JSON values."""
    build = messages_body if target.provider == "anthropic" else chat_body
    return {
        **{name: getattr(target, name) for name in REQUEST_FIELDS},
        "params": json_of(dict(target.params)),
        "body": json_of(build(target, CONVERSATION, None, None)),
        "judge_body": json_of(build(target, CONVERSATION, VERDICT_SCHEMA, 0.0)),
        "settings": json_of(target.settings()),
    }


def stored(database: Database, target: Target) -> dict[str, Any]:
    """`target.settings()` as the run row gives it back: through PostgreSQL's JSONB."""
    with database.engine.connect() as connection:
        value = connection.scalar(
            text("SELECT CAST(:settings AS jsonb)"), {"settings": json.dumps(target.settings())}
        )
    assert isinstance(value, dict)
    return value


@settings(max_examples=150, deadline=None)
@given(target=TARGETS)
def test_every_request_setting_comes_back_from_the_stored_run(
    migrated_database: Database, target: Target
) -> None:
    rebuilt = from_settings(stored(migrated_database, target))
    assert shape(rebuilt) == shape(target)
    assert rebuilt.settings() == stored(migrated_database, target)  # resume compares these


def test_every_target_field_is_round_tripped() -> None:
    # A new Target field must be added to REQUEST_FIELDS (and to the round trip) or be offline's.
    known = {*REQUEST_FIELDS, "params", *OFFLINE_ONLY}
    assert {field.name for field in dataclasses.fields(Target)} <= known


def test_an_offline_target_must_be_passed_again() -> None:
    with pytest.raises(ValidationError, match="pass it again"):
        from_settings(workbench.offline({"hi": "hello"}).settings())
