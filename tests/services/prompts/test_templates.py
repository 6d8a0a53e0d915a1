from __future__ import annotations

import re

import pytest
from hypothesis import given
from hypothesis import strategies as st

from workbench.errors import ValidationError
from workbench.services.prompts.templates import (
    Placeholder,
    is_identifier,
    parse_template,
    render_template,
    scan,
    template_placeholders,
)

names = st.from_regex(r"[A-Za-z_][A-Za-z0-9_]{0,12}", fullmatch=True)
# Literal text that cannot form or break a placeholder: no braces, no backslashes.
plain_text = st.text(st.characters(blacklist_characters="{}\\", codec="utf-8"), max_size=20)
spaces = st.sampled_from(["", " ", "  ", "\t", "\n"])


@st.composite
def templates(draw: st.DrawFn) -> tuple[str, list[str]]:
    """A template of plain text and placeholders (with random inner spacing), and its names."""
    parts: list[str] = [draw(plain_text)]
    used: list[str] = []
    for name in draw(st.lists(names, max_size=6)):
        parts += ["{{", draw(spaces), name, draw(spaces), "}}", draw(plain_text)]
        used.append(name)
    return "".join(parts), used


def test_placeholder_with_spaces_inside_the_braces_is_found() -> None:
    assert template_placeholders("Hi {{ name }} and {{other}}") == ("name", "other")


def test_placeholders_are_ordered_by_first_use_and_unique() -> None:
    assert template_placeholders("{{b}} {{a}} {{ b }} {{c}} {{a}}") == ("b", "a", "c")


def test_render_substitutes_every_occurrence() -> None:
    assert render_template("{{x}}-{{ x }}-{{y}}", {"x": "1", "y": "2"}) == "1-1-2"


def test_render_converts_values_with_str() -> None:
    assert render_template("n={{n}}", {"n": 3}) == "n=3"


def test_render_does_not_expand_placeholders_inside_values() -> None:
    assert render_template("{{a}}", {"a": "{{b}}", "b": "no"}) == "{{b}}"


def test_render_lists_every_missing_name_in_order() -> None:
    with pytest.raises(ValidationError) as caught:
        render_template("{{a}} {{b}} {{c}} {{b}}", {"b": "x"})
    assert "a, c" in str(caught.value)
    assert len(caught.value.problems) == 2
    assert "'a'" in caught.value.problems[0] and "column 1" in caught.value.problems[0]
    assert "'c'" in caught.value.problems[1] and "column 13" in caught.value.problems[1]


@pytest.mark.parametrize(
    ("content", "shown"),
    [
        ("{{ 1abc }}", "{{ 1abc }}"),
        ("{{a-b}}", "{{a-b}}"),
        ("{{}}", "{{}}"),
        ("{{ é }}", "{{ é }}"),
    ],
)
def test_invalid_placeholder_name_is_refused_with_its_text(content: str, shown: str) -> None:
    with pytest.raises(ValidationError) as caught:
        parse_template(content)
    assert shown in str(caught.value)


def test_invalid_placeholder_reports_line_and_column() -> None:
    with pytest.raises(ValidationError) as caught:
        parse_template("first line\nsecond {{ 1abc }} line")
    assert caught.value.problems == [
        "content: invalid placeholder name '{{ 1abc }}' at line 2, column 8: a name starts "
        "with a letter or underscore and has only letters, digits and underscores"
    ]


def test_every_invalid_placeholder_is_reported_at_once() -> None:
    with pytest.raises(ValidationError) as caught:
        parse_template("{{1a}} {{ok}} {{a b}} {{}}")
    assert len(caught.value.problems) == 3
    assert "empty placeholder" in caught.value.problems[2]


def test_unclosed_braces_are_refused_with_the_escape_hint() -> None:
    with pytest.raises(ValidationError) as caught:
        parse_template("Hello {{ name")
    assert "unclosed {{ at line 1, column 7" in str(caught.value)
    assert "\\{{" in str(caught.value)


def test_backslash_escapes_a_literal_opening_pair() -> None:
    assert render_template("use \\{{name}} for {{what}}", {"what": "slots"}) == (
        "use {{name}} for slots"
    )
    assert template_placeholders("\\{{name}}") == ()


def test_lone_closing_braces_and_single_braces_are_text() -> None:
    content = 'JSON: {"a": {"b": 1}} and {x}'
    assert render_template(content, {}) == content


def test_scan_is_lenient_and_keeps_valid_placeholders() -> None:
    template, problems = scan("{{ok}} {{1bad}}")
    assert template.placeholders == ("ok",)
    assert len(problems) == 1


def test_placeholder_records_its_position() -> None:
    template = parse_template("ab\n  {{ x }}")
    assert template.parts == ("ab\n  ", Placeholder("x", offset=5, line=2, column=3))


@pytest.mark.parametrize("name", ["a", "_", "A_1", "snake_case", "_private9"])
def test_identifier_shapes_are_accepted(name: str) -> None:
    assert is_identifier(name)


@pytest.mark.parametrize("name", ["", "1a", "a-b", "a b", "é", "a\n", "a.b"])
def test_non_identifier_shapes_are_refused(name: str) -> None:
    assert not is_identifier(name)


@given(templates(), st.data())
def test_rendering_with_every_value_never_raises_and_leaves_no_placeholder(
    template: tuple[str, list[str]], data: st.DataObject
) -> None:
    content, used = template
    values = {name: data.draw(plain_text) for name in used}
    rendered = render_template(content, values)
    assert re.search(r"\{\{\s*[A-Za-z_][A-Za-z0-9_]*\s*\}\}", rendered) is None


@given(templates())
def test_placeholders_are_the_names_used_in_order_of_first_use(
    template: tuple[str, list[str]],
) -> None:
    content, used = template
    assert template_placeholders(content) == tuple(dict.fromkeys(used))


@given(templates())
def test_rendering_each_name_as_itself_rebuilds_the_text_without_braces(
    template: tuple[str, list[str]],
) -> None:
    content, used = template
    rendered = render_template(content, {name: f"<{name}>" for name in used})
    expected = re.sub(r"\{\{\s*(\w+)\s*\}\}", r"<\1>", content)
    assert rendered == expected


@given(templates(), st.data())
def test_missing_values_are_exactly_the_names_not_given(
    template: tuple[str, list[str]], data: st.DataObject
) -> None:
    content, used = template
    unique = list(dict.fromkeys(used))
    given_names = data.draw(st.lists(st.sampled_from(unique), unique=True)) if unique else []
    missing = [name for name in unique if name not in given_names]
    values = dict.fromkeys(given_names, "v")
    if not missing:
        render_template(content, values)
        return
    with pytest.raises(ValidationError) as caught:
        render_template(content, values)
    assert len(caught.value.problems) == len(missing)
    pairs = zip(missing, caught.value.problems, strict=True)
    assert all(repr(name) in problem for name, problem in pairs)


@given(st.text(max_size=40))
def test_any_text_either_parses_or_raises_validation_error(content: str) -> None:
    try:
        template = parse_template(content)
    except ValidationError as error:
        assert error.problems
    else:
        assert all(is_identifier(name) for name in template.placeholders)


@given(plain_text)
def test_text_without_braces_renders_to_itself(content: str) -> None:
    assert render_template(content) == content
