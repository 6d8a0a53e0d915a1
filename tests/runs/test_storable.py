"""What a provider sends, made storable (workbench/runs/storable.py): text, counts, costs, caps."""

from __future__ import annotations

import math

import pytest
from hypothesis import given
from hypothesis import strategies as st

from workbench.runs import storable
from workbench.runs.generate import storable_reply
from workbench.runs.providers.base import RawReply


@given(st.text())
def test_any_text_becomes_utf8_without_nul(value: str) -> None:
    cleaned = storable.text(value)
    cleaned.encode("utf-8")  # no lone surrogate left
    assert "\x00" not in cleaned and len(cleaned) <= len(value)
    if value.isascii() and "\x00" not in value:
        assert cleaned is value


def test_a_surrogate_pair_sent_as_two_code_points_is_joined() -> None:
    assert storable.text("a\ud83d\ude00b") == "a\U0001f600b"
    assert storable.text("bad\ud800surrogate") == "bad\ufffdsurrogate"


@pytest.mark.parametrize(
    ("sent", "kept"),
    [(12, 12), (0, 0), (10**12, storable.INT_MAX), (10**400, storable.INT_MAX), (-1, None),
     (1.5, None), (7.0, 7), (math.nan, None), (math.inf, None), ("12", None), (True, None),
     (None, None)],
)  # fmt: skip
def test_token_counts_fit_the_column(sent: object, kept: int | None) -> None:
    assert storable.tokens(sent) == kept


@pytest.mark.parametrize(
    ("sent", "kept"), [(0.5, 0.5), (3, 3.0), (math.nan, None), (math.inf, None), (10**400, None)]
)
def test_costs_are_finite_or_unknown(sent: object, kept: float | None) -> None:
    assert storable.cost(sent) == kept


@given(st.text(), st.integers(1_000, 5_000))
def test_a_reply_is_cut_on_a_character_boundary_to_the_limit(reply: str, limit: int) -> None:
    reply = storable.text(reply * 50)
    kept, cut = storable.cap(reply, limit)
    assert len(kept.encode("utf-8")) <= limit and reply.startswith(kept)
    assert cut == (len(reply.encode("utf-8")) > limit)
    if cut:  # as much as fits: the next character would not
        assert len((reply[: len(kept) + 1]).encode("utf-8")) > limit


def test_a_reply_from_the_provider_is_made_storable_before_it_is_checked() -> None:
    raw = RawReply("é" * 600_000 + "\ud800", "m\x00", 10**12, -3)
    kept = storable_reply(raw, 1_000_000)
    assert kept.cut and len(kept.text) == 500_000 and kept.model == "m\ufffd"
    assert (kept.prompt_tokens, kept.completion_tokens) == (storable.INT_MAX, None)
    small = storable_reply(RawReply("ok", "m", 1, 2), 1_000_000)
    assert not small.cut and small.text == "ok"


def test_a_reply_that_is_already_storable_is_kept_as_it_came() -> None:
    raw = RawReply("ok", "m", 1, 2)
    assert storable_reply(raw, 1_000_000) is raw  # no copy per attempt
    assert storable_reply(RawReply("ok", "m", None, None), 1_000_000).prompt_tokens is None
    cleaned = storable_reply(RawReply("ok", "m", True, 2.0), 1_000_000)  # type: ignore[arg-type]
    assert (cleaned.prompt_tokens, cleaned.completion_tokens) == (None, 2)
    assert storable.tokens(storable.INT_MAX) == storable.INT_MAX
    assert storable.tokens(storable.INT_MAX + 1) == storable.INT_MAX
    assert storable.tokens(-1) is None
