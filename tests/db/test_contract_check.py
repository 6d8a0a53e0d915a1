"""`workbench db check` against a public schema someone else created from schema.sql."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import URL

from workbench.cli import main
from workbench.db.contract import CONTRACT_SQL

# Each alteration, and the line `db check` must print for it.
ALTERATIONS = [
    ('DROP TABLE "verification"', "missing table verification"),
    ('ALTER TABLE "prompt" DROP COLUMN "description"', "missing column prompt.description"),
    (
        'ALTER TABLE "variable" ALTER COLUMN "value" TYPE varchar(50)',
        "different column variable.value",
    ),
    ('ALTER TABLE "user" ALTER COLUMN "image" SET NOT NULL', "different column user.image"),
    (
        """ALTER TABLE "Scenario" ALTER COLUMN "locale" SET DEFAULT 'fr'""",
        "different column Scenario.locale",
    ),
    (
        'DROP INDEX "ScenarioSuite_user_id_updatedAt_idx"',
        "missing index ScenarioSuite_user_id_updatedAt_idx",
    ),
    (
        'ALTER TABLE "session" DROP CONSTRAINT "session_userId_fkey"',
        "missing constraint session.session_userId_fkey",
    ),
    ("""ALTER TYPE "ScenarioStatus" ADD VALUE 'DELETED'""", "different enum ScenarioStatus"),
    ('CREATE TABLE "stray" (id int)', "extra table stray"),
]


@pytest.fixture
def prisma_url(scratch_database: Callable[[], URL], monkeypatch: pytest.MonkeyPatch) -> URL:
    """A database whose public schema a Prisma app created from schema.sql; DATABASE_URL set."""
    url = scratch_database()
    engine = create_engine(url)
    with engine.begin() as conn:
        conn.exec_driver_sql(CONTRACT_SQL.read_text())
    engine.dispose()
    monkeypatch.setenv("DATABASE_URL", url.render_as_string(hide_password=False))
    return url


def alter(url: URL, statements: list[str]) -> None:
    engine = create_engine(url, isolation_level="AUTOCOMMIT")  # ALTER TYPE ... ADD VALUE
    with engine.connect() as conn:
        for statement in statements:
            conn.execute(text(statement))
    engine.dispose()


def test_check_reports_matches_for_the_contract(
    prisma_url: URL, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["db", "check"]) == 0
    assert "matches" in capsys.readouterr().out


def test_check_allows_what_better_auth_and_prisma_add(
    prisma_url: URL, capsys: pytest.CaptureFixture[str]
) -> None:
    alter(
        prisma_url,
        [
            'ALTER TABLE "account" ADD COLUMN "issuer" TEXT',
            'CREATE TABLE "_prisma_migrations" (id varchar(36) PRIMARY KEY)',
        ],
    )
    assert main(["db", "check"]) == 0
    out = capsys.readouterr().out
    assert "allowed column account.issuer" in out
    assert "allowed table _prisma_migrations" in out


def test_check_reports_every_difference_and_fails(
    prisma_url: URL, capsys: pytest.CaptureFixture[str]
) -> None:
    alter(prisma_url, [statement for statement, _ in ALTERATIONS])
    assert main(["db", "check"]) == 1
    out = capsys.readouterr().out
    for _, expected_line in ALTERATIONS:
        assert expected_line in out
    assert "differences from the contract" in out


def test_check_leaves_no_trace(prisma_url: URL) -> None:
    assert main(["db", "check"]) == 0
    engine = create_engine(prisma_url)
    with engine.connect() as conn:
        schemas = conn.execute(
            text("SELECT count(*) FROM pg_namespace WHERE nspname LIKE 'wb_contract_%'")
        ).scalar()
    engine.dispose()
    assert schemas == 0


@pytest.mark.parametrize(
    "column", ["TEXT NOT NULL DEFAULT 'better-auth'", "TEXT NULL"], ids=["default", "nullable"]
)
def test_an_issuer_that_can_be_left_out_is_allowed(
    prisma_url: URL, capsys: pytest.CaptureFixture[str], column: str
) -> None:
    alter(prisma_url, [f'ALTER TABLE "account" ADD COLUMN "issuer" {column}'])
    assert main(["db", "check"]) == 0
    assert "allowed column account.issuer" in capsys.readouterr().out


def test_a_required_issuer_breaks_sign_up_and_the_fix_is_given(
    prisma_url: URL, capsys: pytest.CaptureFixture[str]
) -> None:
    alter(prisma_url, ['ALTER TABLE "account" ADD COLUMN "issuer" TEXT NOT NULL'])
    assert main(["db", "check"]) == 1
    out = capsys.readouterr().out
    assert "extra column account.issuer: text NOT NULL; required with no default" in out
    assert "breaks sign-up" in out and "allowed column account.issuer" not in out
    fix = 'ALTER TABLE "account" ALTER COLUMN "issuer" DROP NOT NULL'
    assert fix in out
    alter(prisma_url, [fix])  # the fix given is valid SQL and makes the check pass
    assert main(["db", "check"]) == 0
