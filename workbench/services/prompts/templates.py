"""Prompt templates: `{{name}}` placeholders, found with their positions and filled in.

The grammar, kept small on purpose:

- `{{name}}` is a placeholder; whitespace inside the braces is allowed (`{{ name }}`).
- A name is identifier-shaped: a letter or underscore, then letters, digits or underscores
  (ASCII). Anything else between `{{` and `}}` is an error naming it and its line and column.
- `\\{{` writes a literal `{{` (the backslash is dropped); a `}}` outside a placeholder is
  plain text. There is no escape for a backslash right before a placeholder.
- A `{{` with no `}}` after it is an error (write `\\{{` if a literal `{{` was meant).
- Rendering is one pass: a value that itself contains `{{x}}` is inserted as is, never expanded.

>>> render_template("Hello {{ name }}!", {"name": "Ada"})
'Hello Ada!'
>>> template_placeholders("{{a}} {{b}} {{a}}")
('a', 'b')
"""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Mapping
from dataclasses import dataclass

from workbench.errors import ValidationError, quoted
from workbench.services.common import IDENTIFIER_RULE, is_identifier

OPEN, CLOSE, ESCAPED_OPEN = "{{", "}}", "\\{{"


@dataclass(frozen=True)
class Placeholder:
    """One `{{name}}` in a template: its name and where it starts (1-based line and column)."""

    name: str
    offset: int
    line: int
    column: int


@dataclass(frozen=True)
class Template:
    """A parsed template: literal text and placeholders, in order."""

    parts: tuple[str | Placeholder, ...]

    @property
    def placeholders(self) -> tuple[str, ...]:
        """Placeholder names in order of first appearance, each once."""
        names = (part.name for part in self.parts if isinstance(part, Placeholder))
        return tuple(dict.fromkeys(names))

    def render(self, variables: Mapping[str, object]) -> str:
        """Fill every placeholder from `variables` (values converted with `str`).

        Raises `ValidationError` listing every placeholder without a value.
        """
        missing = [name for name in self.placeholders if name not in variables]
        if missing:
            raise missing_values(missing, self)
        return "".join(
            str(variables[part.name]) if isinstance(part, Placeholder) else part
            for part in self.parts
        )


def position(content: str, offset: int) -> tuple[int, int]:
    """1-based (line, column) of `offset` in `content`, counting characters."""
    return Lines(content).position(offset)


class Lines:
    """Line starts of a text, found once, so each position costs a binary search.

    Counting newlines from the start for every placeholder made scanning quadratic
    (100,000 placeholders took about a minute).
    """

    def __init__(self, content: str) -> None:
        self._starts = [0]
        find, append = content.find, self._starts.append
        at = find("\n")
        while at >= 0:
            append(at + 1)
            at = find("\n", at + 1)

    def position(self, offset: int) -> tuple[int, int]:
        line = bisect_right(self._starts, offset)
        return line, offset - self._starts[line - 1] + 1


def scan(content: str) -> tuple[Template, list[str]]:
    """Parse `content` leniently: the template of its valid parts, and every problem found.

    Linear in the length of `content`: each `{{` is looked at once and its line found by
    binary search over line starts computed once.
    """
    parts: list[str | Placeholder] = []
    problems: list[str] = []
    text: list[str] = []
    lines = Lines(content)
    index = 0
    while (start := content.find(OPEN, index)) >= 0:
        if start > 0 and content[start - 1] == "\\":
            text.append(content[index : start - 1] + OPEN)
            index = start + len(OPEN)
            continue
        text.append(content[index:start])
        line, column = lines.position(start)
        end = content.find(CLOSE, start + len(OPEN))
        if end < 0:
            problems.append(
                f"unclosed {OPEN} at line {line}, column {column} "
                f"(write {ESCAPED_OPEN} for a literal {OPEN})"
            )
            text.append(content[start:])
            index = len(content)
            break
        name = content[start + len(OPEN) : end].strip()
        if is_identifier(name):
            parts.extend(("".join(text), Placeholder(name, start, line, column)))
            text = []
        else:
            problems.append(invalid_placeholder(content[start : end + len(CLOSE)], line, column))
            text.append(content[start : end + len(CLOSE)])
        index = end + len(CLOSE)
    text.append(content[index:])
    parts.append("".join(text))
    return Template(tuple(part for part in parts if part != "")), problems


def invalid_placeholder(raw: str, line: int, column: int) -> str:
    what = "empty placeholder" if raw[2:-2].strip() == "" else "invalid placeholder name"
    return f"{what} {quoted(raw)} at line {line}, column {column}: {IDENTIFIER_RULE}"


def parse_template(content: str, *, field: str = "content") -> Template:
    """Parse `content`, raising `ValidationError` that lists every bad placeholder.

    >>> parse_template("Hi {{ 1abc }}")  # doctest: +IGNORE_EXCEPTION_DETAIL
    Traceback (most recent call last):
    workbench.errors.ValidationError: content: invalid placeholder name '{{ 1abc }}' at line 1...
    """
    template, problems = scan(content)
    if problems:
        listed = [f"{field}: {problem}" for problem in problems]
        count = f"{len(listed)} problem" + ("" if len(listed) == 1 else "s")
        raise ValidationError(
            f"The template has invalid placeholders ({count}):\n"
            + "\n".join(f"- {line}" for line in listed),
            problems=listed,
        )
    return template


def template_placeholders(content: str) -> tuple[str, ...]:
    """The placeholder names of `content`, ordered and unique; invalid ones raise."""
    return parse_template(content).placeholders


def render_template(content: str, variables: Mapping[str, object] | None = None) -> str:
    """Substitute `variables` into `content`'s placeholders.

    Raises `ValidationError` for invalid placeholders, or listing every missing name.

    >>> render_template("{{greeting}}, {{ who }}", {"greeting": "Hello", "who": "world"})
    'Hello, world'
    """
    return parse_template(content).render(variables or {})


class MissingVariables(ValidationError):
    """Placeholders without a value: `.missing` names them, the message says how to give them.

    `saying(how)` is the same error for another caller (`start(variables=...)`, a CLI flag)."""

    def __init__(
        self, missing: list[str], *, problems: list[str], how: str = "or pass them to render()"
    ) -> None:
        shown = ", ".join(missing[:20]) + (
            f" and {len(missing) - 20:,} more" if len(missing) > 20 else ""
        )
        super().__init__(
            f"Missing values for {shown}: set them as variables "
            f"(wb.variables.set_many({{...}})) {how}.",
            problems=problems,
        )
        self.missing = missing

    def saying(self, how: str) -> MissingVariables:
        return MissingVariables(self.missing, problems=self.problems, how=how)


def missing_values(missing: list[str], template: Template) -> MissingVariables:
    first_seen: dict[str, Placeholder] = {}
    for part in template.parts:
        if isinstance(part, Placeholder):
            first_seen.setdefault(part.name, part)
    problems = [
        f"no value for placeholder {quoted(name)} (line {first_seen[name].line}, "
        f"column {first_seen[name].column})"
        for name in missing
    ]
    return MissingVariables(missing, problems=problems)
