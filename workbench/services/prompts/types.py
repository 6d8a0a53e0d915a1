"""What the prompt service returns, and the rules for a prompt's content and status."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from workbench.db.enums import PromptStatus
from workbench.db.models import Prompt
from workbench.errors import ValidationError
from workbench.services._fields import clean_enum, text_problems
from workbench.services.prompts.templates import parse_template, scan

# Where a prompt may go from each status. Staying put is always allowed (a no-op), and an
# archived prompt goes back through DRAFT before it can be published again.
STATUS_TRANSITIONS: dict[PromptStatus, frozenset[PromptStatus]] = {
    PromptStatus.DRAFT: frozenset({PromptStatus.PUBLISHED, PromptStatus.ARCHIVED}),
    PromptStatus.PUBLISHED: frozenset({PromptStatus.DRAFT, PromptStatus.ARCHIVED}),
    PromptStatus.ARCHIVED: frozenset({PromptStatus.DRAFT}),
}


@dataclass(frozen=True)
class PromptView:
    """A prompt as stored, with the placeholder names its content uses (ordered, unique)."""

    id: str
    name: str
    description: str | None
    content: str
    status: PromptStatus
    tags: tuple[str, ...]
    placeholders: tuple[str, ...]
    created_at: datetime
    updated_at: datetime


def prompt_view(row: Prompt) -> PromptView:
    # Lenient scan: content written elsewhere (the web app) may hold invalid placeholders;
    # reading it must still work. Rendering it reports them.
    template, _ = scan(row.content)
    return PromptView(
        id=row.id,
        name=row.name,
        description=row.description,
        content=row.content,
        status=row.status,
        tags=tuple(row.tags or ()),
        placeholders=template.placeholders,
        created_at=row.created_at,
        updated_at=row.updated_at,
    )


def content_problems(content: object) -> list[str]:
    problems = text_problems(content, "content")
    if problems:
        return problems
    assert isinstance(content, str)
    if not content.strip():
        return ["content: is empty"]
    try:
        parse_template(content)
    except ValidationError as error:
        return error.problems
    return []


def statuses(status: object) -> tuple[list[PromptStatus], list[str]]:
    """`status` (one, or several) as enum members, and the problems found."""
    if isinstance(status, str) or not isinstance(status, Iterable):
        given: list[object] = [status]
    else:
        given = list(status)
    members: list[PromptStatus] = []
    problems: list[str] = []
    for value in given:
        member, found = clean_enum(value, PromptStatus, "status")
        problems += found
        if member is not None:
            members.append(member)
    return members, problems


def check_transition(current: PromptStatus, new: PromptStatus) -> None:
    if new not in STATUS_TRANSITIONS[current]:
        raise ValidationError(
            f"status cannot go from {current.value} to {new.value}; "
            f"set it to DRAFT first, then to {new.value}."
        )
