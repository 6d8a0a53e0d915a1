"""The offline provider's structured answers beyond the SEMANTIC_ASSERT verdict (issue 21): it
plays a simulated user and judges conversation criteria, so tutorials run both sides offline.

As a simulated user (a schema with "message"): the target's rules are applied to the
assistant's last reply (the last "user" message of the simulator's swapped conversation); the
matching reply is the user's next message, and a reply starting "[done]" ends the block with the
goal reached, "[give up]" ends it without (the rest of the text is the reason). No rule: the
target's `offline_default`, else "Please go on." As a conversation judge (a schema with
"verdict"): `judge_score` above 0.5 is pass, exactly 0.5 inconclusive, below fail.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any

from workbench.runs.providers.base import Message
from workbench.runs.providers.targets import Target

DONE, GIVE_UP = "[done]", "[give up]"


def role_of(schema: Mapping[str, Any]) -> str:
    """ "simulator", "conversation_judge" or "judge" (the SEMANTIC_ASSERT verdict)."""
    properties = schema.get("properties") or {}
    if "message" in properties:
        return "simulator"
    if "verdict" in properties:
        return "conversation_judge"
    return "judge"


def simulated_turn(target: Target, messages: Sequence[Message], reply_to: Any) -> dict[str, Any]:
    """The simulated user's answer (see module docs); `reply_to` is `offline_reply`."""
    last = next((m.content for m in reversed(messages) if m.role == "user"), "")
    found = reply_to(target, last)
    text = str(found if isinstance(found, str) else (target.offline_default or "Please go on."))
    for mark, reached in ((DONE, True), (GIVE_UP, False)):
        if text.casefold().startswith(mark):
            reason = text[len(mark) :].strip() or ("goal reached" if reached else "gave up")
            return {"message": "", "done": True, "goal_reached": reached, "reason": reason}
    return {"message": text, "done": False, "goal_reached": False, "reason": "offline rules"}


def criterion_verdict(score: float) -> dict[str, Any]:
    verdict = "pass" if score > 0.5 else "inconclusive" if score == 0.5 else "fail"
    return {"reasoning": "offline provider: fixed verdict", "verdict": verdict}


def structured_text(
    target: Target, messages: Sequence[Message], schema: Mapping[str, Any], reply_to: Any
) -> str:
    role = role_of(schema)
    if role == "simulator":
        return json.dumps(simulated_turn(target, messages, reply_to))
    if role == "conversation_judge":
        return json.dumps(criterion_verdict(target.judge_score))
    return json.dumps({"reasoning": "offline provider: fixed verdict", "score": target.judge_score})
