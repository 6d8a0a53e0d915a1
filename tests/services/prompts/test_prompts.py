"""PromptService: create, read, update, status, delete, list, render; validation and scoping."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import func, select, update

from tests.statement_count import counting_statements
from workbench.db.engine import Database
from workbench.db.enums import PromptStatus
from workbench.db.models import Prompt
from workbench.errors import NotFound, ValidationError
from workbench.handle import Workbench
from workbench.services.prompts.service import PromptView

TRICKY = 'It\'s "quoted"; DROP TABLE prompt; -- 🙂 \u200fمرحبا\u200e e\u0301 \\ % _'


def prompt_rows(database: Database) -> list[Prompt]:
    with database.transaction() as session:
        return list(session.scalars(select(Prompt).order_by(Prompt.created_at)))


def prompt_count(database: Database) -> int:
    with database.transaction() as session:
        return session.scalar(select(func.count()).select_from(Prompt)) or 0


def set_updated_at(database: Database, prompt_id: str, when: datetime) -> None:
    with database.transaction() as session:
        session.execute(update(Prompt).where(Prompt.id == prompt_id).values(updated_at=when))


def make(wb: Workbench, name: str = "greeter", **fields: Any) -> PromptView:
    fields.setdefault("content", "Greet {{ user }} from {{company}}.")
    return wb.prompts.create(name=name, **fields)


# --- create and get ----------------------------------------------------------------------------


def test_create_returns_the_prompt_with_its_placeholders(wb: Workbench) -> None:
    prompt = make(wb, description="says hi", tags=["a", "b"])
    assert prompt.name == "greeter"
    assert prompt.description == "says hi"
    assert prompt.status is PromptStatus.DRAFT
    assert prompt.tags == ("a", "b")
    assert prompt.placeholders == ("user", "company")
    assert prompt.created_at == prompt.updated_at
    assert prompt.created_at.tzinfo is UTC


def test_get_returns_what_create_returned(wb: Workbench) -> None:
    prompt = make(wb)
    assert wb.prompts.get(prompt.id) == prompt


def test_text_round_trips_exactly(wb: Workbench) -> None:
    content = f"{TRICKY} {{{{ name }}}}\n\ttrailing  "
    prompt = make(wb, name=TRICKY, description=TRICKY, content=content, tags=[TRICKY])
    stored = wb.prompts.get(prompt.id)
    assert (stored.name, stored.description, stored.content) == (TRICKY, TRICKY, content)
    assert stored.tags == (TRICKY,)


def test_name_and_tags_are_stripped_and_duplicate_tags_dropped(wb: Workbench) -> None:
    prompt = make(wb, name="  spaced  ", tags=[" x ", "y", "x"])
    assert prompt.name == "spaced"
    assert prompt.tags == ("x", "y")


def test_status_is_accepted_in_any_case(wb: Workbench) -> None:
    assert make(wb, status="published").status is PromptStatus.PUBLISHED


def test_two_prompts_may_share_a_name(wb: Workbench) -> None:
    first, second = make(wb, name="same"), make(wb, name="same")
    assert first.id != second.id


@pytest.mark.parametrize(
    ("fields", "expected"),
    [
        ({"name": "   "}, "name: is empty"),
        ({"name": "x" * 201}, "name: is 201 characters long; the limit is 200"),
        ({"content": ""}, "content: is empty"),
        ({"content": "{{ 1abc }}"}, "content: invalid placeholder name '{{ 1abc }}' at line 1"),
        ({"content": "ok\n {{a-b}}"}, "at line 2, column 2"),
        ({"status": "LIVE"}, "status: 'LIVE' is not one of DRAFT, PUBLISHED, ARCHIVED"),
        ({"tags": "smoke"}, "tags: must be a list of text"),
        ({"tags": ["ok", ""]}, "tags[1]: is empty"),
        ({"description": 5}, "description: must be text"),
    ],
)
def test_invalid_input_is_refused_and_nothing_is_written(
    wb: Workbench, fields: dict[str, Any], expected: str
) -> None:
    with pytest.raises(ValidationError) as caught:
        make(wb, **fields)
    assert expected in str(caught.value)
    assert prompt_count(wb.database) == 0


def test_name_of_exactly_200_characters_is_accepted(wb: Workbench) -> None:
    assert make(wb, name="n" * 200).name == "n" * 200


@pytest.mark.parametrize("field", ["name", "description", "content"])
def test_nul_character_is_refused_up_front_naming_the_field(wb: Workbench, field: str) -> None:
    with pytest.raises(ValidationError) as caught:
        make(wb, **{field: "bad\x00text"})
    assert f"{field}: contains a NUL character" in str(caught.value)
    assert prompt_count(wb.database) == 0


def test_nul_character_in_a_tag_is_refused(wb: Workbench) -> None:
    with pytest.raises(ValidationError, match=r"tags\[0\]: contains a NUL"):
        make(wb, tags=["a\x00"])


def test_every_problem_is_reported_at_once(wb: Workbench) -> None:
    with pytest.raises(ValidationError) as caught:
        wb.prompts.create(name="", content="{{1}} {{2}}", status="nope")
    assert len(caught.value.problems) == 4


# --- update, status, delete --------------------------------------------------------------------


def test_update_changes_only_the_fields_given(wb: Workbench) -> None:
    prompt = make(wb, description="old", tags=["t"])
    earlier = prompt.updated_at - timedelta(hours=1)
    set_updated_at(wb.database, prompt.id, earlier)
    updated = wb.prompts.update(prompt.id, content="Bye {{ user }}")
    assert updated.content == "Bye {{ user }}"
    assert updated.placeholders == ("user",)
    assert (updated.name, updated.description, updated.tags) == ("greeter", "old", ("t",))
    assert updated.created_at == prompt.created_at
    assert updated.updated_at > earlier
    assert wb.prompts.get(prompt.id) == updated


def test_update_description_none_clears_it(wb: Workbench) -> None:
    prompt = make(wb, description="old")
    assert wb.prompts.update(prompt.id, description=None).description is None


def test_update_without_changes_writes_nothing(wb: Workbench) -> None:
    prompt = make(wb)
    assert wb.prompts.update(prompt.id) == prompt


def test_update_with_invalid_content_changes_nothing(wb: Workbench) -> None:
    prompt = make(wb)
    with pytest.raises(ValidationError, match="invalid placeholder"):
        wb.prompts.update(prompt.id, name="renamed", content="{{ bad name }}")
    assert wb.prompts.get(prompt.id) == prompt


def test_status_follows_the_lifecycle_and_back_to_draft(wb: Workbench) -> None:
    prompt = make(wb)
    assert wb.prompts.publish(prompt.id).status is PromptStatus.PUBLISHED
    assert wb.prompts.archive(prompt.id).status is PromptStatus.ARCHIVED
    assert wb.prompts.restore_to_draft(prompt.id).status is PromptStatus.DRAFT
    assert wb.prompts.archive(prompt.id).status is PromptStatus.ARCHIVED


def test_archived_prompt_cannot_be_published_directly(wb: Workbench) -> None:
    prompt = make(wb, status="ARCHIVED")
    with pytest.raises(ValidationError, match="from ARCHIVED to PUBLISHED; set it to DRAFT"):
        wb.prompts.publish(prompt.id)
    assert wb.prompts.get(prompt.id).status is PromptStatus.ARCHIVED


def test_setting_the_same_status_is_allowed(wb: Workbench) -> None:
    prompt = make(wb, status="ARCHIVED")
    assert wb.prompts.set_status(prompt.id, "archived").status is PromptStatus.ARCHIVED


def test_delete_removes_the_prompt(wb: Workbench) -> None:
    prompt = make(wb)
    wb.prompts.delete(prompt.id)
    with pytest.raises(NotFound):
        wb.prompts.get(prompt.id)


# --- scoping -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "action",
    [
        lambda prompts, pid: prompts.get(pid),
        lambda prompts, pid: prompts.update(pid, name="stolen"),
        lambda prompts, pid: prompts.set_status(pid, "PUBLISHED"),
        lambda prompts, pid: prompts.publish(pid),
        lambda prompts, pid: prompts.archive(pid),
        lambda prompts, pid: prompts.delete(pid),
        lambda prompts, pid: prompts.render(pid, user="x", company="y"),
    ],
    ids=["get", "update", "set_status", "publish", "archive", "delete", "render"],
)
def test_another_users_prompt_is_not_found_like_a_missing_one(
    wb: Workbench, other_wb: Workbench, action: Any
) -> None:
    theirs = make(other_wb)
    with pytest.raises(NotFound) as foreign:
        action(wb.prompts, theirs.id)
    with pytest.raises(NotFound) as missing:
        action(wb.prompts, "00000000-0000-0000-0000-000000000000")
    assert str(foreign.value) == str(missing.value).replace(
        "00000000-0000-0000-0000-000000000000", theirs.id
    )
    assert other_wb.prompts.get(theirs.id) == theirs


# --- list --------------------------------------------------------------------------------------


def test_list_shows_only_your_prompts(wb: Workbench, other_wb: Workbench) -> None:
    mine = make(wb)
    make(other_wb)
    page = wb.prompts.list()
    assert [prompt.id for prompt in page] == [mine.id]
    assert page.total == 1


def test_list_filters_by_one_or_several_statuses(wb: Workbench) -> None:
    draft, published = make(wb, name="d"), make(wb, name="p", status="PUBLISHED")
    make(wb, name="a", status="ARCHIVED")
    assert [p.id for p in wb.prompts.list(status="published")] == [published.id]
    both = wb.prompts.list(status=["DRAFT", PromptStatus.PUBLISHED], sort="name")
    assert [p.id for p in both] == [draft.id, published.id]


def test_list_filters_by_any_or_all_tags(wb: Workbench) -> None:
    ab, a = make(wb, name="ab", tags=["a", "b"]), make(wb, name="a", tags=["a"])
    make(wb, name="c", tags=["c"])
    assert {p.id for p in wb.prompts.list(tags=["a", "b"])} == {ab.id, a.id}
    assert [p.id for p in wb.prompts.list(tags=["a", "b"], tag_match="all")] == [ab.id]
    assert {p.id for p in wb.prompts.list(tags="a")} == {ab.id, a.id}


def test_list_searches_name_and_description_case_insensitively(wb: Workbench) -> None:
    by_name = make(wb, name="Refund helper")
    by_description = make(wb, name="other", description="handles REFUNDS")
    make(wb, name="unrelated")
    found = wb.prompts.list(search="refund", sort="name")
    assert [p.id for p in found] == [by_name.id, by_description.id]


def test_list_search_takes_percent_and_underscore_literally(wb: Workbench) -> None:
    literal = make(wb, name="50% off")
    make(wb, name="500 off")
    assert [p.id for p in wb.prompts.list(search="0%")] == [literal.id]
    assert wb.prompts.list(search="5_0").items == ()


def test_list_sorts_newest_first_by_default_and_by_name_on_request(wb: Workbench) -> None:
    base = datetime(2024, 1, 1, tzinfo=UTC)
    older, newer = make(wb, name="b"), make(wb, name="a")
    set_updated_at(wb.database, older.id, base)
    set_updated_at(wb.database, newer.id, base + timedelta(days=1))
    assert [p.id for p in wb.prompts.list()] == [newer.id, older.id]
    assert [p.id for p in wb.prompts.list(sort="updated_at", descending=False)] == [
        older.id,
        newer.id,
    ]
    assert [p.name for p in wb.prompts.list(sort="name")] == ["a", "b"]
    assert [p.name for p in wb.prompts.list(sort="name", descending=True)] == ["b", "a"]


def test_list_pages_with_offset_and_limit_and_reports_the_total(wb: Workbench) -> None:
    for index in range(5):
        make(wb, name=f"p{index}")
    page = wb.prompts.list(sort="name", offset=2, limit=2)
    assert [p.name for p in page] == ["p2", "p3"]
    assert (page.total, page.offset, page.limit) == (5, 2, 2)
    assert wb.prompts.list(offset=10).total == 5
    assert wb.prompts.list(count_total=False).total is None
    assert len(wb.prompts.list(limit=None)) == 5


def test_one_statement_per_list_page(wb: Workbench) -> None:
    for index in range(3):
        make(wb, name=f"p{index}", tags=["t"])
    with counting_statements() as statements:
        page = wb.prompts.list(status="DRAFT", tags=["t"], search="p", limit=2)
    assert len(page) == 2 and page.total == 3
    assert len(statements) == 1


@pytest.mark.parametrize(
    "arguments",
    [
        {"limit": 0},
        {"offset": -1},
        {"sort": "created_at"},
        {"tag_match": "some"},
        {"status": "LIVE"},
        {"search": 3},
    ],
)
def test_list_refuses_invalid_arguments(wb: Workbench, arguments: dict[str, Any]) -> None:
    with pytest.raises(ValidationError):
        wb.prompts.list(**arguments)


# --- render ------------------------------------------------------------------------------------


def test_render_uses_stored_variables(wb: Workbench) -> None:
    wb.variables.set_many({"user": "Ada", "company": "Acme"})
    assert wb.prompts.render(make(wb).id) == "Greet Ada from Acme."


def test_render_values_given_at_call_time_win(wb: Workbench) -> None:
    wb.variables.set_many({"user": "Ada", "company": "Acme"})
    prompt = make(wb)
    assert wb.prompts.render(prompt.id, user="Bob") == "Greet Bob from Acme."
    assert wb.prompts.render(prompt.id, {"user": "Cy"}) == "Greet Cy from Acme."
    assert wb.prompts.render(prompt.id, {"user": "Cy"}, user="Di") == "Greet Di from Acme."


def test_render_lists_every_missing_name(wb: Workbench) -> None:
    prompt = make(wb, content="{{a}} {{b}} {{c}}")
    with pytest.raises(ValidationError) as caught:
        wb.prompts.render(prompt.id, b="x")
    assert "Missing values for a, c" in str(caught.value)


def test_render_never_uses_another_users_variables(wb: Workbench, other_wb: Workbench) -> None:
    other_wb.variables.set_many({"user": "Eve", "company": "Evil"})
    with pytest.raises(ValidationError, match="user, company"):
        wb.prompts.render(make(wb).id)


def test_render_accepts_placeholders_named_like_its_own_parameters(wb: Workbench) -> None:
    prompt = make(wb, content="{{self}} {{prompt_id}} {{values}}")
    assert wb.prompts.render(prompt.id, {"values": "c"}, self="a", prompt_id="b") == "a b c"


def test_render_takes_values_by_keyword_too(wb: Workbench) -> None:
    prompt = make(wb)
    rendered = wb.prompts.render(prompt.id, values={"user": "Ada", "company": "Acme"})
    assert rendered == "Greet Ada from Acme."


def test_render_explains_a_values_argument_that_is_not_a_dict(wb: Workbench) -> None:
    prompt = make(wb, content="{{values}}")
    with pytest.raises(ValidationError, match="put it in the dict"):
        wb.prompts.render(prompt.id, values="text")  # type: ignore[arg-type]


def test_content_written_elsewhere_with_bad_placeholders_reads_but_does_not_render(
    wb: Workbench,
) -> None:
    prompt = make(wb)
    with wb.database.transaction() as session:
        session.execute(
            update(Prompt).where(Prompt.id == prompt.id).values(content="{{ok}} {{not ok}}")
        )
    assert wb.prompts.get(prompt.id).placeholders == ("ok",)
    with pytest.raises(ValidationError, match="invalid placeholder name"):
        wb.prompts.render(prompt.id, ok="1")


def test_service_reached_through_the_handle_is_cached(wb: Workbench) -> None:
    assert wb.prompts is wb.prompts
    assert repr(wb.prompts) == f"PromptService(user_id={wb.user.id!r})"
