"""A plaintext API key is never in a repr, a log line, an echoed SQL statement, an exception,
a traceback or a DataFrame -- whatever the user does with it, at DEBUG, with the engine echoing.

Each test uses a fresh random canary key and first proves the key really went through the code
(it is revealed for a provider call), so the absence checks cannot pass vacuously.
"""

from __future__ import annotations

import logging
import secrets
import traceback
from collections.abc import Iterator
from dataclasses import dataclass, field

import pytest
from sqlalchemy import create_engine, update
from sqlalchemy.engine import URL

from tests.conftest import insert_user
from workbench.crypto.vault import KeyVault
from workbench.db.engine import Database
from workbench.db.models import UserApiKey
from workbench.errors import WorkbenchError
from workbench.handle import SignedInUser, Workbench
from workbench.services.keys.rotation import rotate_keys
from workbench.widgets.api_keys import ApiKeyEditor

SECRET = "workbench-test-master-secret"


@dataclass
class Session:
    """A user's handle on an echoing engine, the key they entered, and what was raised."""

    wb: Workbench
    key: str
    errors: list[BaseException] = field(default_factory=list)
    shown: list[object] = field(default_factory=list)
    logged: str = ""
    """Every log record at DEBUG, formatted, with its arguments."""
    echoed: str = ""
    """What the echoing engine printed."""


@pytest.fixture
def echoing_db(migrated_url: URL, capsys: pytest.CaptureFixture[str]) -> Iterator[Database]:
    """The test database through an engine that echoes every statement, parameter and row."""
    # SQLAlchemy gives its loggers a stdout handler once per process, bound to the sys.stdout of
    # that moment: start from none, so the echo goes to this test's captured stdout.
    loggers = [
        logging.getLogger(n) for n in ("sqlalchemy.engine.Engine", "sqlalchemy.pool.impl.QueuePool")
    ]
    saved = [logger.handlers[:] for logger in loggers]
    for logger in loggers:
        logger.handlers.clear()
    engine = create_engine(migrated_url, echo="debug", echo_pool="debug")
    with engine.connect() as connection:
        outer = connection.begin()
        yield Database.bound_to(connection)
        outer.rollback()
    engine.dispose()
    for logger, handlers in zip(loggers, saved, strict=True):
        logger.handlers[:] = handlers


def expect_error(session: Session, action: object) -> None:
    try:
        action()  # type: ignore[operator]
    except WorkbenchError as error:
        session.errors.append(error)
    else:
        raise AssertionError("expected a WorkbenchError")


@pytest.fixture
def used(
    echoing_db: Database,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
    capsys: pytest.CaptureFixture[str],
) -> Session:
    """Everything a user does with a key, at DEBUG: set, list, reveal, widget, errors, rotation."""
    caplog.set_level(logging.DEBUG)
    caplog.set_level(logging.DEBUG, logger="sqlalchemy.engine")
    monkeypatch.setenv("ENCRYPTION_KEY", SECRET)
    key = f"sk-canary-{secrets.token_hex(16)}"
    wb = Workbench(echoing_db, insert_user(echoing_db))
    session = Session(wb, key)
    keys = wb.api_keys

    view = keys.set(provider="openai", api_key=key, key_name="work")
    assert keys._reveal_for_provider_call(provider="openai") == key
    session.shown += [keys, view, keys.list(), keys.get(provider="openai"), wb, KeyVault(SECRET)]
    session.shown += [keys.deactivate(provider="openai"), keys.reactivate(provider="openai")]
    session.shown.append(rotate_keys(echoing_db, old_secret=SECRET, new_secret=SECRET))

    editor = ApiKeyEditor(keys)
    editor.provider.value, editor.key_name.value = "anthropic", "widget"
    editor.secret.value = key
    session.shown += [repr(editor), str(editor.secret)]  # while the key is in the field
    editor.save_button.click()
    assert keys._reveal_for_provider_call(provider="anthropic") == key
    session.shown += [editor, editor.key_rows["anthropic"], editor.secret]

    session.shown += played_runs(wb, key)
    expect_error(session, lambda: keys.set(provider="groq", api_key=key + " x", key_name="n"))
    expect_error(session, lambda: keys.set(provider=key, api_key=key, key_name="n"))
    nobody = Workbench(echoing_db, SignedInUser(id="no-such-user", email="x@y.z", name="X"))
    expect_error(session, lambda: nobody.api_keys.set(provider="groq", api_key=key, key_name="n"))
    with echoing_db.transaction() as tx:
        tx.execute(update(UserApiKey).values(encrypted_key=UserApiKey.encrypted_key + "00"))
    expect_error(session, lambda: keys._reveal_for_provider_call(provider="openai"))
    expect_error(session, lambda: rotate_keys(echoing_db, old_secret=SECRET, new_secret="n"))
    monkeypatch.delenv("ENCRYPTION_KEY")
    expect_error(session, lambda: keys.set(provider="groq", api_key=key, key_name="n"))

    session.logged = caplog.text + "\n".join(
        record.getMessage() + repr(record.args) + repr(record.__dict__) for record in caplog.records
    )
    captured = capsys.readouterr()
    session.echoed = captured.out + captured.err
    return session


def played_runs(wb: Workbench, key: str) -> list[object]:
    """A run that authenticates with the vault's key, and one the server refuses (its 401 names
    the key it was sent): the handles, their frames and every run row must not show the key."""
    from sqlalchemy import text

    from workbench.runs.providers.targets import openai
    from workbench.services.scenarios.types import ScenarioCreate, expect, must_contain, user
    from workbench.testing.standin import StandIn

    made = wb.scenarios.create(
        ScenarioCreate(name="s", turns=[user("hi"), expect(must_contain("hi"))])
    )
    wb.suites.create(name="Keyed", scenario_ids=[made.id])
    wb.prompts.create(name="Plain", content="Be brief.")
    shown: list[object] = []
    for accepted in (key, "sk-some-other-key"):
        with StandIn(api_key=accepted, max_lifetime_s=60) as server:
            target = openai("gpt-4o-mini", base_url=server.openai_base_url, max_retries=0)
            run = wb.runs.start(suite="Keyed", prompt="Plain", target=target, progress=False)
            run.wait(60)
            assert server.requests == 1
        shown += [run, run.frame().to_dict("records"), run.summary(), wb.runs.get(run.id)]
    assert shown[1][0]["status"] == "PASSED"  # type: ignore[index]
    assert shown[5][0]["status"] == "ERROR"  # type: ignore[index]
    shown += [wb.runs.list(), wb.runs.frame().to_dict("records")]
    with wb.database.transaction() as tx:
        for table in ("run", "run_scenario", "run_attempt", "turn_result", "expectation_result"):
            shown += list(tx.scalars(text(f"SELECT to_jsonb(t)::text FROM workbench.{table} t")))
    return shown


def test_repr_and_str_of_every_object_hide_the_key(used: Session) -> None:
    assert len(used.shown) >= 12
    for shown in used.shown:
        assert used.key not in repr(shown), type(shown)
        assert used.key not in str(shown), type(shown)


def test_debug_logs_hide_the_key(used: Session) -> None:
    assert "INSERT INTO user_api_key" in used.logged  # the capture really saw the SQL
    assert "Row (" in used.logged  # and result rows
    assert used.key not in used.logged


def test_sql_the_engine_echoes_hides_the_key(used: Session) -> None:
    assert "UPDATE user_api_key SET encrypted_key" in used.echoed  # statements and parameters
    assert "Row (" in used.echoed  # and result rows (echo="debug")
    assert used.key not in used.echoed


def test_exception_messages_and_tracebacks_hide_the_key(used: Session) -> None:
    assert [type(e).__name__ for e in used.errors] == [
        "ValidationError",
        "ValidationError",
        "ValidationError",
        "DecryptionError",
        "DecryptionError",
        "ConfigError",
    ]
    for error in used.errors:
        rendered = "".join(traceback.format_exception(error))
        assert used.key not in rendered
        assert used.key not in repr(error)
        chained: BaseException | None = error
        while chained is not None:  # even suppressed context (`from None`) carries no plaintext
            assert used.key not in str(chained)
            chained = chained.__context__


def test_dataframes_hide_the_key_and_its_ciphertext(used: Session) -> None:
    frame = used.wb.api_keys.frame()
    assert len(frame) == 2
    for rendered in (
        frame.to_string(),
        frame.to_csv(),
        frame.to_json(date_format="iso"),
        frame.to_html(),
    ):
        assert used.key not in rendered
        assert "v2:" not in rendered
