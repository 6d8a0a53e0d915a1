"""The offline provider: replies are a pure function of the last user message (no network, no key).

Token counts are whitespace-separated words, so tutorials show plausible, reproducible usage.

Asked for structured output (the SEMANTIC_ASSERT judge), it answers the fixed verdict with the
target's `judge_score` and never consults the rules (as a simulated user or a conversation
judge it answers as offline_roles.py says): the judge's request quotes the whole
conversation, so a rule written for a reply ("refund" -> "Refunds take 5 days.") would match it
and answer prose where a verdict is due. So `offline(rules)` with no `judge=` judges sensibly.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from typing import Any

from workbench.runs.providers.base import (
    Message,
    OfflineToolCalls,
    ProviderError,
    RawReply,
    ToolCallRequest,
    ToolDefinition,
)
from workbench.runs.providers.offline_roles import structured_text
from workbench.runs.providers.targets import Target


def offline_reply(target: Target, last_user: str) -> Any:
    """The reply a rule gives to `last_user` (text or `tool_calls(...)`), or None when no rule
    matched. A rule function is asked once per request, each tool round included."""
    rules = target.offline_rules
    if callable(rules):
        reply = rules(last_user)
        if not isinstance(reply, str | OfflineToolCalls):
            raise ProviderError(
                f"offline: the rule function returned {type(reply).__name__}, not a string "
                "or tool_calls(...)",
                kind="bad_response",
                retryable=False,
            )
        return reply
    folded = last_user.casefold()
    for pattern, reply in rules:
        if isinstance(pattern, re.Pattern):
            if pattern.search(last_user):
                return reply
        elif pattern.casefold() in folded:
            return reply
    return None


class OfflineProvider:
    def __init__(self, target: Target) -> None:
        self._target = target

    def __repr__(self) -> str:
        return f"OfflineProvider(model={self._target.model!r})"

    async def call(
        self,
        messages: Sequence[Message],
        *,
        json_schema: Mapping[str, Any] | None,
        temperature: float | None,
        tools: Sequence[ToolDefinition] = (),
    ) -> RawReply:
        last = next((m.content for m in reversed(messages) if m.role == "user"), "")
        calls: tuple[ToolCallRequest, ...] = ()
        if json_schema is not None:  # a judge's verdict, or a simulated user (issue 21)
            reply = structured_text(self._target, messages, json_schema, offline_reply)
        else:
            found = offline_reply(self._target, last)
            if isinstance(found, OfflineToolCalls):
                reply, calls = _play_calls(found, messages, offered=bool(tools))
            else:
                chosen = found if found is not None else self._target.offline_default
                reply = str(chosen or f"echo: {last}")
        prompt_words = sum(len(m.content.split()) for m in messages)
        return RawReply(reply, self._target.model, prompt_words, len(reply.split()), calls)

    async def aclose(self) -> None:
        return None


def _play_calls(
    plan: OfflineToolCalls, messages: Sequence[Message], *, offered: bool
) -> tuple[str, tuple[ToolCallRequest, ...]]:
    """This round of `plan`: rounds already answered since the last user message are skipped;
    without tools offered, straight to the final text."""
    since_user: list[Message] = []
    for message in reversed(messages):
        if message.role == "user":
            break
        since_user.append(message)
    since_user.reverse()
    done = sum(1 for m in since_user if m.tool_calls)
    step: str | OfflineToolCalls = plan
    for _ in range(done if offered else 10_000):
        if not isinstance(step, OfflineToolCalls):
            break
        step = step.then
    if isinstance(step, OfflineToolCalls):
        calls = tuple(
            ToolCallRequest(f"call_{done}_{i}", name, json.dumps(args))
            for i, (name, args) in enumerate(step.calls)
        )
        return "", calls
    results = [m.content for m in reversed(_last_round(since_user))]
    return step.replace("{results}", "; ".join(results)), ()


def _last_round(since_user: Sequence[Message]) -> list[Message]:
    """The tool results after the last assistant message with calls."""
    out: list[Message] = []
    for message in reversed(since_user):
        if message.role != "tool":
            break
        out.append(message)
    return out
