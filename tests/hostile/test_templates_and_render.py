"""Templates scan in linear time; a render with 70,000 names is one array parameter."""

from __future__ import annotations

import pytest
from sqlalchemy import bindparam, text

from workbench.db.engine import Database
from workbench.errors import ConfigError, DatabaseError
from workbench.handle import Workbench
from workbench.services._base import translated_errors
from workbench.services.prompts.templates import Placeholder, parse_template


def test_a_1_mb_template_finds_every_placeholder_with_its_line_and_column() -> None:
    lines = [f"line {i}: {{{{v{i % 1000}}}}} and {{{{ w }}}}" for i in range(40_000)]
    content = "\n".join(lines)
    assert len(content) > 1_000_000
    template = parse_template(content)
    found = [part for part in template.parts if isinstance(part, Placeholder)]
    assert len(found) == 80_000
    for index in (0, 1, 12_345, 79_998, 79_999):
        line = index // 2
        expected_column = len(f"line {line}: ") + 1
        if index % 2:
            expected_column = lines[line].index("{{ w }}") + 1
        assert (found[index].line, found[index].column) == (line + 1, expected_column)
    assert template.placeholders[:2] == ("v0", "w")
    assert len(template.placeholders) == 1001


def test_render_with_70000_distinct_placeholders_uses_stored_variables(wb: Workbench) -> None:
    names = [f"p{i}" for i in range(70_000)]
    prompt = wb.prompts.create(name="wide", content=" ".join(f"{{{{{n}}}}}" for n in names))
    wb.variables.set_many({"p0": "first", "p69999": "last"})
    given = {name: "x" for name in names[1:-1]}
    rendered = wb.prompts.render(prompt.id, given)
    assert rendered.startswith("first x x") and rendered.endswith("x last")


def test_a_statement_error_is_not_reported_as_could_not_connect(db: Database) -> None:
    many = bindparam("k", [str(i) for i in range(70_000)], expanding=True)
    with (
        pytest.raises(DatabaseError) as caught,
        translated_errors(db),
        db.transaction() as session,
    ):
        session.execute(text("SELECT 1 WHERE 'a' IN :k").bindparams(many))
    assert "connect" not in str(caught.value).lower().replace("connection itself is fine", "")
    assert "65535" in str(caught.value)


def test_a_failed_connection_is_still_a_config_error(db: Database) -> None:
    from sqlalchemy import create_engine

    engine = create_engine("postgresql+psycopg://postgres@127.0.0.1:1/none")
    with pytest.raises(ConfigError, match="Could not connect"), translated_errors(db):
        try:
            engine.connect()
        finally:
            engine.dispose()
