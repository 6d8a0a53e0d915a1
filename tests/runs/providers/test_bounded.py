"""Reading a reply with a limit (providers/bounded.py): a cut body is closed and parsed, over
both transports to the stand-in, with bounded memory."""

from __future__ import annotations

import asyncio
import json
import tracemalloc
from collections.abc import AsyncIterator

import pytest
from hypothesis import given
from hypothesis import strategies as st

from workbench.errors import ProviderError
from workbench.runs import Message, anthropic, openai_compatible
from workbench.runs.generate import open_client
from workbench.runs.providers.bounded import body_limit, close_prefix, parse_cut, read_limited
from workbench.testing.standin import StandIn

JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(), inner, max_size=4),
    max_leaves=20,
)


@given(JSON, st.booleans(), st.data())
def test_every_prefix_of_a_document_closes_into_json(
    value: object, ascii: bool, data: st.DataObject
) -> None:
    document = json.dumps({"id": "x", "value": value}, ensure_ascii=ascii)
    cut = data.draw(st.integers(1, len(document)))
    json.loads(close_prefix(document[:cut]))  # never raises
    assert json.loads(close_prefix(document)) == json.loads(document)


def test_the_reply_read_so_far_is_kept() -> None:
    document = json.dumps({"model": "m", "choices": [{"message": {"content": 'say "hi" ' * 50}}]})
    data = parse_cut(document[:120].encode(), "openai")
    content = data["choices"][0]["message"]["content"]
    assert data["model"] == "m" and ('say "hi" ' * 50).startswith(content) and len(content) > 30


def test_a_cut_body_that_is_no_reply_is_a_bad_response() -> None:
    with pytest.raises(ProviderError, match="max_reply_bytes") as caught:
        parse_cut(b"[" * 10_000, "openai")
    assert caught.value.kind == "bad_response"


def test_reading_stops_at_the_limit() -> None:
    async def chunks() -> AsyncIterator[bytes]:
        for _ in range(1_000):
            yield b"x" * 1000

    kept, cut = asyncio.run(read_limited(chunks(), 2500))
    assert kept == b"x" * 2500 and cut


@pytest.mark.parametrize("transport", ["sdk", "direct"])
def test_eight_50_mb_replies_at_once_cost_a_few_mb(transport: str) -> None:
    with StandIn.spawn(hostile={"big": "oversize"}, oversize_bytes=50_000_000) as server:
        targets = [
            openai_compatible(base_url=server.openai_base_url, model="m", transport=transport),
            anthropic("claude", base_url=server.base_url, transport=transport),
        ]

        async def eight() -> tuple[list[int], int]:
            clients = [open_client(t, api_key="stand-in", transport=transport) for t in targets]
            for client in clients:  # SDKs and sessions loaded before memory is measured
                await client.complete([Message("user", "hello")])
            tracemalloc.reset_peak()
            before = tracemalloc.get_traced_memory()[0]
            calls = [clients[n % 2].complete([Message("user", "big")]) for n in range(8)]
            replies = await asyncio.gather(*calls)
            peak = tracemalloc.get_traced_memory()[1] - before
            for client in clients:
                await client.aclose()
            assert all(reply.cut and reply.prompt_tokens is None for reply in replies)
            return [len(reply.text) for reply in replies], peak

        tracemalloc.start()
        try:
            lengths, peak = asyncio.run(eight())
        finally:
            tracemalloc.stop()
    assert lengths == [1_000_000] * 8
    # Each reply costs its read limit and a few copies while it is parsed, never its 50 MB
    # (on main: 8 x 50 MB read whole, 1.75 GB of process at the peak).
    assert peak < 8 * 3 * body_limit(1_000_000), f"{peak / 1e6:.0f} MB"
