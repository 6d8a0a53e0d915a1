"""Prompts: templated system prompts with `{{name}}` placeholders, a status and tags.

>>> p = wb.prompts.create(name="support", content="You help {{ company }}.")  # doctest: +SKIP
>>> p.placeholders                                                       # doctest: +SKIP
('company',)
>>> wb.prompts.render(p.id, company="Acme")                              # doctest: +SKIP
'You help Acme.'
"""

from __future__ import annotations

import builtins
from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING, Any

from sqlalchemy import ARRAY, ColumnElement, Text, any_, bindparam, select
from sqlalchemy.orm import Session

from workbench.db.enums import PromptStatus
from workbench.db.models import Prompt, Variable
from workbench.db.security.deletes import delete_rows
from workbench.errors import NotFound, ValidationError, quoted
from workbench.services._base import UserScopedService
from workbench.services._fields import (
    UNSET,
    Unset,
    checked_id,
    clean_enum,
    clean_name,
    clean_tags,
    raise_problems,
    storage_problem,
    text_problems,
)
from workbench.services._listing import (
    SortKey,
    TagMatch,
    common_filters,
    fetch_page,
    list_args,
)
from workbench.services.common import Page
from workbench.services.limits import length_problem
from workbench.services.prompts.names import ids_named, the_one_named, warn_if_taken
from workbench.services.prompts.templates import parse_template
from workbench.services.prompts.types import (
    STATUS_TRANSITIONS,
    PromptView,
    check_transition,
    content_problems,
    prompt_view,
    statuses,
)
from workbench.tables import ALL_ROWS, PROMPT_COLUMNS, typed_frame
from workbench.timeutil import utcnow

if TYPE_CHECKING:
    import pandas as pd

__all__ = ["STATUS_TRANSITIONS", "PromptService", "PromptView"]


class PromptService(UserScopedService):
    """Create, read, update, delete, list and render the signed-in user's prompts."""

    def create(
        self,
        *,
        name: str,
        content: str,
        description: str | None = None,
        status: PromptStatus | str = PromptStatus.DRAFT,
        tags: Iterable[str] = (),
    ) -> PromptView:
        """Save a new prompt; its placeholders must be valid names.

        >>> wb.prompts.create(name="greeter", content="Greet {{ user }}.")  # doctest: +SKIP
        """
        tag_list, problems = clean_tags(tags)
        member, status_problems = clean_enum(status, PromptStatus, "status")
        name, name_found = clean_name(name)
        problems = (
            name_found
            + text_problems(description, "description", optional=True)
            + content_problems(content)
            + status_problems
            + problems
        )
        raise_problems("Cannot create the prompt", problems)
        now = utcnow()
        row = Prompt(
            user_id=self._user_id,
            name=name,
            description=description,
            content=content,
            status=member,
            tags=tag_list,
            created_at=now,
            updated_at=now,
        )
        with self._transaction() as session:
            taken = ids_named(session, self._user_id, name)
            session.add(row)
            session.flush()
            view = prompt_view(row)
        warn_if_taken(name, taken)
        return view

    def get(self, prompt_id: str) -> PromptView:
        """The prompt with this id; `NotFound` if there is none of yours."""
        with self._single_statement_read() as session:
            return prompt_view(self._row(session, prompt_id))

    def get_by_name(self, name: str) -> PromptView:
        """Your prompt called `name`. Names may repeat: `ValidationError` listing the ids when
        several prompts have it, `NotFound` when none does."""
        with self._transaction() as session:
            found = the_one_named(name, ids_named(session, self._user_id, name))
            return prompt_view(self._row(session, found))

    def list(
        self,
        *,
        status: PromptStatus | str | Iterable[PromptStatus | str] | None = None,
        tags: str | Iterable[str] | None = None,
        tag_match: TagMatch = "any",
        search: str | None = None,
        sort: SortKey = "updated_at",
        descending: bool | None = None,
        offset: int = 0,
        limit: int | None = 50,
        count_total: bool = True,
    ) -> Page[PromptView]:
        """One page of your prompts, in one query (the arguments mean what they mean for
        `wb.scenarios.list`).

        `status`: one or several; `tags`: prompts with any of them (`tag_match="all"`: with
        every one); `search`: text in the name or description, case-insensitive. Sorted newest
        first (`sort="updated_at"`) or A to Z (`sort="name"`); `descending` reverses.
        `limit=None` returns every match; `count_total=False` leaves `total` as None.

        >>> wb.prompts.list(status="PUBLISHED", tags=["support"], sort="name")  # doctest: +SKIP
        """
        args, problems = list_args(
            tags=tags,
            tag_match=tag_match,
            search=search,
            sort=sort,
            descending=descending,
            offset=offset,
            limit=limit,
            count_total=count_total,
        )
        members, status_problems = statuses(status) if status is not None else ([], [])
        raise_problems("Cannot list prompts", problems + status_problems)

        def filters(entity: Any) -> builtins.list[ColumnElement[bool]]:
            clauses = common_filters(entity, self._user_id, args)
            if status is not None:
                clauses.append(entity.status.in_(members))
            return clauses

        with self._single_statement_read() as session:
            return fetch_page(
                session, Prompt, [Prompt], filters, args, lambda row: prompt_view(row[0])
            )

    def update(
        self,
        prompt_id: str,
        *,
        name: str | Unset = UNSET,
        description: str | Unset | None = UNSET,
        content: str | Unset = UNSET,
        status: PromptStatus | str | Unset = UNSET,
        tags: Iterable[str] | Unset = UNSET,
    ) -> PromptView:
        """Change the fields given; the others stay as they are.

        A status change must follow DRAFT → PUBLISHED → ARCHIVED (any status may go back to
        DRAFT, a draft may be archived directly); an archived prompt is republished via DRAFT.
        """
        changes, problems = self._changes(name, description, content, status, tags)
        raise_problems("Cannot update the prompt", problems)
        with self._transaction() as session:
            row = self._row(session, prompt_id, lock=True)
            new_status = changes.get("status")
            if new_status is not None and new_status != row.status:
                check_transition(row.status, new_status)
            if changes:
                for field, value in changes.items():
                    setattr(row, field, value)
                row.updated_at = utcnow()
                session.flush()
            return prompt_view(row)

    def set_status(self, prompt_id: str, status: PromptStatus | str) -> PromptView:
        """Move the prompt to `status`, following the allowed transitions (see `update`)."""
        return self.update(prompt_id, status=status)

    def publish(self, prompt_id: str) -> PromptView:
        """DRAFT → PUBLISHED."""
        return self.set_status(prompt_id, PromptStatus.PUBLISHED)

    def archive(self, prompt_id: str) -> PromptView:
        """DRAFT or PUBLISHED → ARCHIVED."""
        return self.set_status(prompt_id, PromptStatus.ARCHIVED)

    def restore_to_draft(self, prompt_id: str) -> PromptView:
        """PUBLISHED or ARCHIVED → DRAFT."""
        return self.set_status(prompt_id, PromptStatus.DRAFT)

    def delete(self, prompt_id: str) -> None:
        """Delete the prompt; `NotFound` if there is none of yours."""
        with self._transaction() as session:
            row = self._row(session, prompt_id, lock=True)
            delete_rows(session, Prompt, Prompt.id == row.id)

    def render(
        self, prompt_id: str, /, values: Mapping[str, object] | None = None, **more: object
    ) -> str:
        """The prompt's content with every placeholder filled in.

        Values come from your stored variables, overridden by the `values` dict and keyword
        arguments given here (keywords win over `values`; a placeholder called `values` goes
        in the dict). Raises `ValidationError` listing every placeholder that has no value.

        >>> wb.prompts.render(prompt.id, company="Acme")              # doctest: +SKIP
        >>> wb.prompts.render(prompt.id, {"company": "Acme"})         # doctest: +SKIP
        """
        if values is not None and not isinstance(values, Mapping):
            raise ValidationError(
                f"values must be a dict of placeholder values, not {type(values).__name__}; "
                "to fill a placeholder called 'values', put it in the dict: "
                "render(prompt_id, {'values': ...})."
            )
        given = {**(values or {}), **more}
        with self._transaction() as session:
            content = session.scalar(
                select(Prompt.content).where(
                    Prompt.id == prompt_id, Prompt.user_id == self._user_id
                )
            )
            if content is None:
                raise not_found(prompt_id)
            template = parse_template(content)
            needed = [name for name in template.placeholders if name not in given]
            stored: dict[str, str] = {}
            if needed:
                rows = session.execute(
                    select(Variable.key, Variable.value).where(
                        Variable.user_id == self._user_id,
                        # One array parameter: `IN` sends one bind parameter per name, and
                        # past 65,535 names the statement cannot be sent at all.
                        Variable.key == any_(bindparam("keys", needed, type_=ARRAY(Text))),
                    )
                )
                stored = {key: value for key, value in rows}
        # A value given here (not a stored variable, checked when saved) is checked here: the
        # text a run renders is stored, and PostgreSQL refuses NULs and lone surrogates.
        problems = [
            f"value of {quoted(name)}: {problem}"
            for name in dict.fromkeys(template.placeholders)
            if name in given
            and (problem := storage_problem(str(given[name])) or length_problem(str(given[name])))
        ]
        raise_problems("Cannot fill the prompt's placeholders", problems)
        return template.render({**stored, **given})

    def frame(self, **filters: Any) -> pd.DataFrame:
        """Your prompts as a DataFrame (see `workbench.frames.prompts_frame`)."""
        page = self.list(**{**ALL_ROWS, **filters})
        return typed_frame((vars(prompt) for prompt in page), PROMPT_COLUMNS)

    def _row(self, session: Session, prompt_id: str, *, lock: bool = False) -> Prompt:
        checked_id(prompt_id, "prompt_id")
        statement = select(Prompt).where(Prompt.id == prompt_id, Prompt.user_id == self._user_id)
        row = session.scalar(statement.with_for_update() if lock else statement)
        if row is None:
            raise not_found(prompt_id)
        return row

    @staticmethod
    def _changes(
        name: object, description: object, content: object, status: object, tags: object
    ) -> tuple[dict[str, Any], builtins.list[str]]:
        changes: dict[str, Any] = {}
        problems: builtins.list[str] = []
        if name is not UNSET:
            changes["name"], found = clean_name(name)
            problems += found
        if description is not UNSET:
            problems += text_problems(description, "description", optional=True)
            changes["description"] = description
        if content is not UNSET:
            problems += content_problems(content)
            changes["content"] = content
        if status is not UNSET:
            changes["status"], found = clean_enum(status, PromptStatus, "status")
            problems += found
        if tags is not UNSET:
            changes["tags"], found = clean_tags(tags)
            problems += found
        return changes, problems


def not_found(prompt_id: str) -> NotFound:
    return NotFound(f"No prompt with id {quoted(prompt_id)}; check the id (wb.prompts.list()).")
