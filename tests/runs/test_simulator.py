"""The simulated user's and the conversation judge's pure parts (issue 21): what the simulator
is shown (roles swapped), how its answer is read, how a verdict is read, and what the judge is
never shown."""

from __future__ import annotations

import json

import pytest

from workbench.runs.conversation_judge import INCONCLUSIVE, criterion_messages, parse
from workbench.runs.providers import Message, ToolCallRequest
from workbench.runs.simulator import parse_turn, simulator_messages

BLOCK = {"goal": "Get a refund", "persona": "curt", "min_turns": 2, "max_turns": 4}


def test_the_simulator_sees_the_conversation_with_roles_swapped() -> None:
    call = ToolCallRequest("c1", "lookup_order", "{}")
    conversation = [
        Message("system", "You are the support agent."),
        Message("user", "Hi"),
        Message("assistant", "", (call,)),
        Message("tool", "shipped", tool_call_id="c1"),
        Message("assistant", "It shipped."),
    ]
    sent = simulator_messages(BLOCK, conversation, 1)
    assert sent[0].role == "system" and "Get a refund" in sent[0].content
    assert "curt" in sent[0].content and "You are the support agent" not in sent[0].content
    assert "may not end the conversation before your turn 3" in sent[0].content
    # Alternation from a user message: the opening placeholder, then the swapped turns.
    assert [(m.role, m.content) for m in sent[1:]] == [
        ("user", "(The conversation starts.)"),
        ("assistant", "Hi"),
        ("user", "It shipped."),
    ]


def test_with_a_user_message_last_the_simulator_is_told_it_is_its_turn() -> None:
    sent = simulator_messages(BLOCK, [Message("user", "scripted opening")], 3)
    assert sent[-1] == Message("user", "(The assistant is waiting for your message.)")
    assert "End it (done true)" in sent[0].content


def test_an_answer_is_read_and_done_is_ignored_while_it_must_speak() -> None:
    answer = json.dumps({"message": "fine", "done": True, "goal_reached": True, "reason": "ok"})
    assert parse_turn(answer, must_speak=False).done
    held = parse_turn(answer, must_speak=True)
    assert not held.done and held.message == "fine"


@pytest.mark.parametrize(
    ("text", "words"),
    [
        ("not json", "not JSON"),
        ("[1]", "not a JSON object"),
        (json.dumps({"message": "  ", "done": False}), "empty"),
        (json.dumps({"message": "", "done": True}), "empty"),  # must speak: done not taken
    ],
)
def test_an_unusable_answer_says_why(text: str, words: str) -> None:
    with pytest.raises(ValueError, match=words):
        parse_turn(text, must_speak=True)


def test_a_verdict_is_read_and_inconclusive_is_its_own_status() -> None:
    assert parse('{"reasoning": "r", "verdict": "pass"}') == ("r", "PASSED")
    assert parse('{"reasoning": "r", "verdict": "Fail"}') == ("r", "FAILED")
    assert parse('{"reasoning": "r", "verdict": "inconclusive"}') == ("r", INCONCLUSIVE)
    with pytest.raises(ValueError, match="not pass, fail or inconclusive"):
        parse('{"reasoning": "r", "verdict": "maybe"}')


def test_the_judge_reads_the_transcript_and_one_criterion_only() -> None:
    conversation = [Message("system", "secret system"), Message("user", "Hi"),
                    Message("assistant", "Hello")]  # fmt: skip
    sent = criterion_messages(conversation, "Greets the user")
    body = sent[1].content
    assert "[user] Hi" in body and "[assistant] Hello" in body
    assert "<criterion>\nGreets the user\n</criterion>" in body
    assert "secret system" not in body
    assert "inconclusive" in sent[0].content and "not by itself a failure" in sent[0].content
