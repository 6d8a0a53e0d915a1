"""How the RunViewer shows a simulated conversation (issue 21): a chat whose simulated user's
turns are marked, how the block ended and why, its each_reply checks, and, for a
judge_conversation turn, each criterion's verdict and reasoning."""

from __future__ import annotations

import html
from collections.abc import Callable
from typing import Any

INCONCLUSIVE_STYLE = "background:#fff8e1;border-left:3px solid #f9a825"
SIMULATED_STYLE = "background:#e3f2fd;border-left:3px solid #1565c0;padding-left:4px"


def block_html(turn: dict[str, Any], number: str, check_html: Callable[[Any], str]) -> str:
    """A simulated USER turn: its goal, the messages played, the ending, the checks."""
    esc = html.escape
    block = turn.get("simulated") or {}
    talk = turn.get("conversation") or {}
    persona = f" · persona: {block['persona']}" if block.get("persona") else ""
    parts = [
        f'<div class="wb-simulated">{number}<b>simulated user</b> '
        f"<small>(goal: {esc(str(block.get('goal')))}{esc(persona)} · "
        f"{block.get('min_turns')} to {block.get('max_turns')} turns)</small></div>"
    ]
    for message in talk.get("transcript") or []:
        role, text = message.get("role"), message.get("text")
        if role == "user":
            parts.append(f'<div style="{SIMULATED_STYLE}"><b>user</b> <small>(simulated)</small>'
                         f": {esc(str(text))}</div>")  # fmt: skip
        elif role == "assistant":
            parts.append(f"<div><b>assistant</b>: {esc(str(text))}</div>")
    if talk:
        parts.append(
            f'<div class="wb-ending"><small>{esc(str(talk.get("turns_played")))} simulated '
            f"turn(s) · ended: <b>{esc(str(talk.get('ending')))}</b> · "
            f"{esc(str(talk.get('reason') or ''))}</small></div>"
        )
    else:
        parts.append("<div><i>(not played)</i></div>")
    checks = turn.get("expectations") or []
    if checks:
        parts.append("<ul>" + "".join(check_html(check) for check in checks) + "</ul>")
    return "".join(parts)


def criteria_html(turn: dict[str, Any], number: str, check_html: Callable[[Any], str]) -> str:
    """A judge_conversation turn: each criterion with its verdict and reasoning."""
    items = "".join(check_html(check) for check in turn.get("expectations") or [])
    return f"<div>{number}<b>conversation judged</b></div><ul>{items}</ul>"


def criterion_line(detail: dict[str, Any]) -> str:
    """What follows a CONVERSATION check's status: the verdict and the judge's reasoning."""
    esc = html.escape
    verdict = detail.get("verdict") or "no verdict"
    reasoning = detail.get("reasoning") or detail.get("error") or ""
    return f' <span class="judge">judge ({esc(str(verdict))}): {esc(str(reasoning))}</span>'
