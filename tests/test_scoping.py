"""Per-user scoping, proved (issue 3): every public operation, walked as user B with user A's ids.

Two users each own one of everything (scenarios with versions, a suite, a prompt, variables, an
API key, a session, a credential account, verification tokens). The walk table below has, for
every public operation reachable from a `Workbench` handle (and every frame function taking a
handle), either

- a `Foreign` entry: B calls it with A's identifier and must get exactly what B gets for an
  identifier that does not exist (same error type, same message once the identifier itself is
  blanked out), while the whole database stays as it was; A's own call with the same identifier
  is answered differently, which proves the identifier was real; or
- an `Own` entry: the operation takes no foreign identifier (it lists, creates, or acts on the
  caller's account), with a check that its results never include A's rows and that A's rows are
  unchanged.

`test_every_public_operation_is_walked` fails as soon as an operation exists without an entry, so
later issues that add operations must extend the walk; `test_every_table_is_snapshotted` does the
same for tables.
"""

from __future__ import annotations

import inspect
import json
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field, replace
from datetime import timedelta
from functools import cached_property
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Connection, text

from tests.conftest import insert_user
from workbench import frames
from workbench.crypto.tokens import new_id, new_token
from workbench.db.engine import Database
from workbench.db.models import RunMatrix, RunMatrixCell, ScenarioSuiteItem
from workbench.errors import AuthError, NotFound, ValidationError, WorkbenchError
from workbench.handle import SignedInUser, Workbench
from workbench.runs.providers.targets import offline
from workbench.services._base import UserScopedService
from workbench.services.accounts.rows import CREDENTIAL, insert_account
from workbench.services.accounts.sessions import ActiveSession, open_session
from workbench.services.accounts.verification import Message, issue_token
from workbench.services.scenarios.document import FORMAT
from workbench.services.scenarios.types import (
    ScenarioCreate,
    ScenarioUpdate,
    expect,
    must_contain,
    must_contain_any,
    regex,
    user,
)
from workbench.services.workspace.document import FORMAT as WORKSPACE_FORMAT
from workbench.timeutil import utcnow

# Better Auth's own hash of "correct horse battery staple" (issue 3): both users' password.
PASSWORD = "correct horse battery staple"
PASSWORD_HASH = (
    "7ab59f8f1326a5ae545f7a71e8b40b0e:316f164aa5e3d93aa42b3f1570d080fb8628a0c2f9633aaced8d5d30"
    "d26dcdc729724a2c0d0d9f19bc9a9fca3a9545f4bcae206a78c1841816cc6677b87adb86"
)
SECRET = "scoping-test-master-secret"
A_VERSION = 3  # A's main scenario: created, then updated twice
BLANK = "<identifier>"


# ---------------------------------------------------------------- the two users' rows


@dataclass(frozen=True)
class Rows:
    """One user's handle and rows, by what a caller passes to name them."""

    wb: Workbench
    session: ActiveSession
    tag: str
    """"Ada" or "Bob": in every name and text of the user's rows, and nowhere in the other's."""
    scenario_id: str  # DRAFT, at A_VERSION, in the suite
    scenario_name: str
    published_id: str  # PUBLISHED, in the suite
    loose_id: str  # DRAFT, in no suite
    suite_id: str
    suite_name: str
    prompt_id: str
    prompt_name: str
    variable_key: str  # a key only this user has
    provider: str  # a provider only this user has a key for
    run_id: str  # a finished run of the suite, with the offline target
    matrix_id: str  # a matrix of one cell: that run
    result_id: str  # an expectation result of that run (as text: the walk blanks it out), labelled
    token: str  # a pending email verification token
    expired_token: str

    @property
    def scenario_ids(self) -> set[str]:
        return {self.scenario_id, self.published_id, self.loose_id}

    def fresh(self) -> Rows:
        """The same rows behind a new handle (the last test may have signed the old one out)."""
        return replace(self, wb=Workbench(self.wb.database, self.wb.user, session=self.session))


@dataclass(frozen=True)
class World:
    a: Rows
    b: Rows
    db: Database


def populate(db: Database, who: SignedInUser, tag: str, provider: str, tone: str) -> Rows:
    """One of everything for `who`, written through the services as far as they go."""
    now = utcnow()
    with db.transaction() as session:
        issued = open_session(session, user_id=who.id, now=now)
        insert_account(
            session,
            user_id=who.id,
            provider_id=CREDENTIAL,
            account_id=who.id,
            now=now,
            password=PASSWORD_HASH,
        )
        token = issue_token(
            session, purpose="email-verification", user_id=who.id, email=who.email, now=now
        ).token
        expired = issue_token(
            session,
            purpose="email-verification",
            user_id=who.id,
            email=who.email,
            now=now - timedelta(days=2),
        ).token
    wb = Workbench(db, who, session=issued.session)
    greeting = (user(f"Hi, I'm {tag}"), expect(must_contain(tag), regex(r"\bhello\b")))
    main = wb.scenarios.create(
        ScenarioCreate(name=f"{tag} greeting", description=f"{tag}'s first", turns=greeting)
    )
    main = wb.scenarios.update(main.id, ScenarioUpdate(tags=("smoke",)), expected_version=1)
    more = (*greeting, user("Bye"), expect(must_contain_any("bye", f"ciao {tag}")))
    main = wb.scenarios.update(main.id, ScenarioUpdate(turns=more), expected_version=2)
    assert main.version == A_VERSION
    published = wb.scenarios.create(
        ScenarioCreate(name=f"{tag} refund", status="PUBLISHED", turns=greeting)
    )
    loose = wb.scenarios.create(ScenarioCreate(name=f"{tag} loose", turns=greeting))
    suite = wb.suites.create(
        name=f"{tag} smoke", tags=[tag.lower()], scenario_ids=[main.id, published.id]
    )
    key = f"{tag.lower()}_company"
    prompt = wb.prompts.create(
        name=f"{tag} support", content=f"You help {{{{ {key} }}}} in a {{{{ tone }}}} tone."
    )
    wb.variables.set_many({key: f"{tag} Corp", "tone": tone})
    wb.api_keys.set(provider=provider, api_key=f"sk-{tag}-0123456789abcdef", key_name=tag)
    # cache=True: each user also holds response-cache entries (issue 12).
    run = wb.runs.start(
        suite=suite.id, prompt=prompt.id, target=offline(), progress=False, cache=True
    )
    run.wait(60)
    matrix_id = new_id()
    with db.transaction() as session:  # rows, so that the run stays the user's only one
        made = RunMatrix(id=matrix_id, user_id=who.id, suite_id=suite.id,
                         suite_name=suite.name, repeats=1, settings={}, created_at=now)  # fmt: skip
        session.add(made)
        session.flush()
        session.add(RunMatrixCell(matrix_id=matrix_id, position=0, user_id=who.id,
                                  prompt_id=prompt.id, prompt_name=prompt.name,
                                  target=offline().settings(), run_id=run.id))  # fmt: skip
    result_id = int(run.frame()["result_id"].iloc[0])
    wb.reviews.label(result_id, "fail", comment=f"{tag} says no")  # issue 26: a label, a change
    return Rows(
        wb=wb,
        session=issued.session,
        tag=tag,
        scenario_id=main.id,
        scenario_name=main.name,
        published_id=published.id,
        loose_id=loose.id,
        suite_id=suite.id,
        suite_name=suite.name,
        prompt_id=prompt.id,
        prompt_name=prompt.name,
        variable_key=key,
        provider=provider,
        run_id=run.id,
        matrix_id=matrix_id,
        result_id=str(result_id),
        token=token,
        expired_token=expired,
    )


@pytest.fixture(scope="module")
def populated(migrated_database: Database) -> Iterator[tuple[Connection, Rows, Rows]]:
    """A and B with their rows, built once for the module and rolled back at its end.

    Building them takes about half a second; each test works inside a savepoint (see `world`),
    so the walk stays fast and every entry starts from the same rows.
    """
    with migrated_database.engine.connect() as connection:
        outer = connection.begin()
        db = Database.bound_to(connection)
        with pytest.MonkeyPatch.context() as env:
            env.setenv("ENCRYPTION_KEY", SECRET)
            a = populate(db, insert_user(db, name="Ada"), "Ada", "openai", tone="formal")
            b = populate(db, insert_user(db, name="Bob"), "Bob", "anthropic", tone="casual")
        yield connection, a, b
        outer.rollback()


@pytest.fixture
def world(
    populated: tuple[Connection, Rows, Rows], monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> Iterator[World]:
    """A and B with fresh handles; everything the test does is rolled back to a savepoint."""
    connection, a, b = populated
    monkeypatch.setenv("ENCRYPTION_KEY", SECRET)
    # Keeps sign_out's token file out of the real config directory (the server is already up).
    monkeypatch.setenv("WORKBENCH_HOME", str(tmp_path))
    savepoint = connection.begin_nested()
    try:
        yield World(a=a.fresh(), b=b.fresh(), db=a.wb.database)
    finally:
        savepoint.rollback()


# ---------------------------------------------------------------- snapshots

# Every table of the database → the rows of it that are user A's (`:uid`, `:email`).
IN_SCENARIOS = '"scenarioId" IN (SELECT id FROM "Scenario" WHERE user_id = :uid)'
OWNED_ROWS: dict[str, str] = {
    "public.user": "id = :uid",
    "public.session": '"userId" = :uid',
    "public.account": '"userId" = :uid',
    # Workbench tokens hold the user id; Better Auth's name the email in the identifier.
    "public.verification": "value = :uid OR strpos(identifier, :email) > 0",
    "public.Scenario": "user_id = :uid",
    "public.ScenarioTurn": IN_SCENARIOS,
    "public.ScenarioExpectation": IN_SCENARIOS,
    "public.ScenarioVersion": IN_SCENARIOS,
    "public.ScenarioSuite": "user_id = :uid",
    # A's suites' items, and any item anywhere that refers to one of A's scenarios.
    "public.ScenarioSuiteItem": (
        f'"suiteId" IN (SELECT id FROM "ScenarioSuite" WHERE user_id = :uid) OR {IN_SCENARIOS}'
    ),
    "public.prompt": "user_id = :uid",
    "public.variable": "user_id = :uid",
    "public.user_api_key": "user_id = :uid",
    "workbench.sign_in_failure": "email = :email",
    "workbench.run": "user_id = :uid",
    "workbench.run_scenario": "user_id = :uid",
    "workbench.run_attempt": "user_id = :uid",
    "workbench.turn_result": "user_id = :uid",
    "workbench.expectation_result": "user_id = :uid",
    "workbench.response_cache": "user_id = :uid",
    "workbench.run_matrix": "user_id = :uid",
    "workbench.run_matrix_cell": "user_id = :uid",
    "workbench.review_label": "user_id = :uid",
    "workbench.review_label_change": "user_id = :uid",
    "workbench.scenario_extension": "user_id = :uid",
    "workbench.tool_call": "user_id = :uid",
    "workbench.conversation_result": "user_id = :uid",
    # Not anyone's: compared whole.
    "workbench.installation_setting": "TRUE",
    "workbench.admin_lock": "TRUE",
    "workbench.alembic_version": "TRUE",
}
# Tables that exist only once `workbench db secure` ran (the role mode of the suite).
SECURED_ROWS: dict[str, str] = {
    "workbench.db_role_user": "user_id = :uid",
}


def existing_tables(db: Database) -> set[str]:
    with db.transaction() as session:
        return set(
            session.scalars(
                text(
                    "SELECT schemaname || '.' || tablename FROM pg_tables "
                    "WHERE schemaname IN ('public', 'workbench')"
                )
            )
        )


def owned_rows(db: Database) -> dict[str, str]:
    """OWNED_ROWS, with the secured database's own tables where they exist."""
    tables = existing_tables(db)
    return OWNED_ROWS | {name: rows for name, rows in SECURED_ROWS.items() if name in tables}


Snapshot = dict[str, list[Any]]


def snapshot(db: Database, owner: SignedInUser | None) -> Snapshot:
    """Every row (as JSON, all columns) of `owner`'s, or of everyone's when `owner` is None."""
    params = {"uid": owner.id, "email": owner.email} if owner else {}
    taken: Snapshot = {}
    owned = owned_rows(db)
    with db.transaction() as session:
        for qualified, condition in owned.items():
            schema, table = qualified.split(".")
            where = condition if owner else "TRUE"
            query = f'SELECT to_jsonb(t) FROM "{schema}"."{table}" AS t WHERE {where} ORDER BY 1'
            taken[qualified] = list(session.scalars(text(query), params))
    return taken


def assert_same(before: Snapshot, after: Snapshot) -> None:
    changed = [table for table in before if before[table] != after[table]]
    assert not changed, "rows changed in " + ", ".join(
        f"{table}:\n  before {json.dumps(before[table], default=str)}"
        f"\n  after  {json.dumps(after[table], default=str)}"
        for table in changed
    )


# ---------------------------------------------------------------- the walk table

Call = Callable[[Rows, str], object]


def random_id() -> str:
    return str(uuid.uuid4())


def random_key() -> str:
    return f"missing_{uuid.uuid4().hex[:12]}"


def random_name() -> str:
    return f"No such thing {uuid.uuid4().hex[:12]}"


@dataclass(frozen=True)
class Foreign:
    """`call(caller's rows, identifier)` with A's identifier must answer as for a missing one."""

    operation: str
    call: Call
    pick: str
    """The `Rows` field holding the identifier: A's is passed, then a missing one."""
    label: str = ""
    missing: Callable[[], str] = random_id
    error: type[WorkbenchError] = NotFound
    known_bug: str = ""
    """Why this entry fails today (it is then expected to fail, strictly)."""

    @property
    def name(self) -> str:
        return f"{self.operation}[{self.label}]" if self.label else self.operation


@dataclass(frozen=True)
class Own:
    """An operation taking no identifier of anyone else's, and why; `check` proves it."""

    operation: str
    reason: str
    check: Callable[[World], None]
    label: str = field(default="")

    @property
    def name(self) -> str:
        return f"{self.operation}[{self.label}]" if self.label else self.operation


# What a Foreign entry takes from A's rows: the name of a `Rows` field.
SCENARIO = "scenario_id"
PUBLISHED = "published_id"
LOOSE = "loose_id"
SUITE = "suite_id"
PROMPT = "prompt_id"
KEY = "variable_key"
PROVIDER = "provider"
TOKEN = "token"
EXPIRED_TOKEN = "expired_token"
SCENARIO_NAME = "scenario_name"
PROMPT_NAME = "prompt_name"

TAKEOVER = ScenarioUpdate(name="Taken over", turns=(user("hijacked"),))


def scenario_entries() -> list[Foreign]:
    s = "wb.scenarios."
    return [
        Foreign(s + "get", lambda me, x: me.wb.scenarios.get(x), SCENARIO),
        Foreign(
            s + "get_by_name",
            lambda me, x: me.wb.scenarios.get_by_name(x),
            SCENARIO_NAME,
            missing=random_name,
        ),
        Foreign(
            s + "update",
            lambda me, x: me.wb.scenarios.update(x, TAKEOVER, expected_version=A_VERSION),
            SCENARIO,
            "at its version",
        ),
        Foreign(
            s + "update",
            lambda me, x: me.wb.scenarios.update(x, TAKEOVER, expected_version=99),
            SCENARIO,
            "at a stale version",
        ),
        Foreign(s + "delete", lambda me, x: me.wb.scenarios.delete(x), SCENARIO),
        Foreign(
            s + "delete",
            lambda me, x: me.wb.scenarios.delete(x, expected_version=A_VERSION),
            SCENARIO,
            "at its version",
        ),
        Foreign(s + "duplicate", lambda me, x: me.wb.scenarios.duplicate(x), SCENARIO),
        Foreign(
            s + "duplicate",
            lambda me, x: me.wb.scenarios.duplicate(x, name="Copied"),
            SCENARIO,
            "named",
        ),
        Foreign(s + "publish", lambda me, x: me.wb.scenarios.publish(x), SCENARIO),
        Foreign(s + "archive", lambda me, x: me.wb.scenarios.archive(x), SCENARIO),
        Foreign(
            s + "restore_to_draft", lambda me, x: me.wb.scenarios.restore_to_draft(x), PUBLISHED
        ),
        Foreign(
            s + "set_status",
            lambda me, x: me.wb.scenarios.set_status(x, "PUBLISHED", expected_version=A_VERSION),
            SCENARIO,
        ),
        Foreign(s + "history", lambda me, x: me.wb.scenarios.history(x), SCENARIO),
        Foreign(
            s + "get_version",
            lambda me, x: me.wb.scenarios.get_version(x, 2),
            SCENARIO,
            "a version it has",
        ),
        Foreign(s + "diff", lambda me, x: me.wb.scenarios.diff(x, 1, A_VERSION), SCENARIO),
        Foreign(s + "restore", lambda me, x: me.wb.scenarios.restore(x, 1), SCENARIO),
        Foreign(
            s + "restore",
            lambda me, x: me.wb.scenarios.restore(x, 1, expected_version=A_VERSION),
            SCENARIO,
            "at its version",
        ),
    ]


def suite_entries() -> list[Foreign]:
    s = "wb.suites."
    return [
        Foreign(
            s + "create",
            lambda me, x: me.wb.suites.create(name="New suite", scenario_ids=[x]),
            LOOSE,
            "with A's scenario",
        ),
        Foreign(s + "get", lambda me, x: me.wb.suites.get(x), SUITE),
        Foreign(
            s + "update",
            lambda me, x: me.wb.suites.update(x, name="Taken over", description="x", tags=["x"]),
            SUITE,
        ),
        Foreign(s + "rename", lambda me, x: me.wb.suites.rename(x, "Taken over"), SUITE),
        Foreign(s + "delete", lambda me, x: me.wb.suites.delete(x), SUITE),
        Foreign(s + "add", lambda me, x: me.wb.suites.add(x, me.loose_id), SUITE, "to A's suite"),
        Foreign(
            s + "add",
            lambda me, x: me.wb.suites.add(me.suite_id, x),
            LOOSE,
            "A's scenario to B's suite",
        ),
        Foreign(
            s + "add",
            lambda me, x: me.wb.suites.add(me.suite_id, [me.loose_id, x]),
            LOOSE,
            "A's scenario after B's own",
        ),
        Foreign(
            s + "remove",
            lambda me, x: me.wb.suites.remove(x, me.scenario_id),
            SUITE,
            "from A's suite",
        ),
        Foreign(
            s + "remove",
            lambda me, x: me.wb.suites.remove(me.suite_id, x),
            SCENARIO,
            "A's scenario from B's suite",
        ),
        Foreign(
            s + "reorder",
            lambda me, x: me.wb.suites.reorder(x, [me.published_id, me.scenario_id]),
            SUITE,
            "A's suite",
        ),
        # B's suite holds (scenario, published): A's scenario in place of B's is "not in the
        # suite", a ValidationError, exactly as for an id that does not exist.
        Foreign(
            s + "reorder",
            lambda me, x: me.wb.suites.reorder(me.suite_id, [me.published_id, x]),
            SCENARIO,
            "A's scenario in B's suite",
            error=ValidationError,
        ),
        Foreign(s + "items", lambda me, x: me.wb.suites.items(x), SUITE),
        Foreign(s + "frame", lambda me, x: me.wb.suites.frame(x), SUITE),
    ]


def prompt_entries() -> list[Foreign]:
    p = "wb.prompts."
    return [
        Foreign(p + "get", lambda me, x: me.wb.prompts.get(x), PROMPT),
        Foreign(
            p + "get_by_name",
            lambda me, x: me.wb.prompts.get_by_name(x),
            PROMPT_NAME,
            missing=random_name,
        ),
        Foreign(
            p + "update",
            lambda me, x: me.wb.prompts.update(x, name="Taken over", content="Mine now."),
            PROMPT,
        ),
        Foreign(p + "set_status", lambda me, x: me.wb.prompts.set_status(x, "PUBLISHED"), PROMPT),
        Foreign(p + "publish", lambda me, x: me.wb.prompts.publish(x), PROMPT),
        Foreign(p + "archive", lambda me, x: me.wb.prompts.archive(x), PROMPT),
        Foreign(p + "restore_to_draft", lambda me, x: me.wb.prompts.restore_to_draft(x), PROMPT),
        Foreign(p + "delete", lambda me, x: me.wb.prompts.delete(x), PROMPT),
        Foreign(p + "render", lambda me, x: me.wb.prompts.render(x), PROMPT, "stored values"),
        Foreign(
            p + "render",
            lambda me, x: me.wb.prompts.render(x, {"ada_company": "X"}, tone="y"),
            PROMPT,
            "given values",
        ),
    ]


def keyed_entries() -> list[Foreign]:
    v, k = "wb.variables.", "wb.api_keys."
    return [
        Foreign(v + "get", lambda me, x: me.wb.variables.get(x), KEY, missing=random_key),
        Foreign(
            v + "update",
            lambda me, x: me.wb.variables.update(x, value="Taken over", description="x"),
            KEY,
            missing=random_key,
        ),
        Foreign(v + "delete", lambda me, x: me.wb.variables.delete(x), KEY, missing=random_key),
        # "mistral": a provider nobody has a key for.
        Foreign(k + "get", lambda me, x: me.wb.api_keys.get(provider=x), PROVIDER, missing=mistral),
        Foreign(
            k + "deactivate",
            lambda me, x: me.wb.api_keys.deactivate(provider=x),
            PROVIDER,
            missing=mistral,
        ),
        Foreign(
            k + "reactivate",
            lambda me, x: me.wb.api_keys.reactivate(provider=x),
            PROVIDER,
            missing=mistral,
        ),
        Foreign(
            k + "delete",
            lambda me, x: me.wb.api_keys.delete(provider=x),
            PROVIDER,
            missing=mistral,
        ),
        # Private, but the one door to a plaintext key: walked although coverage skips it.
        Foreign(
            k + "_reveal_for_provider_call",
            lambda me, x: me.wb.api_keys._reveal_for_provider_call(provider=x),
            PROVIDER,
            missing=mistral,
        ),
    ]


RUN = "run_id"


def start_run(me: Rows, *, suite: str, prompt: str) -> object:
    # Waited for, so a run A is allowed to start ends before the test's savepoint is rolled back.
    run = me.wb.runs.start(suite=suite, prompt=prompt, target=offline(), progress=False)
    return run.wait(60)


def run_entries() -> list[Foreign]:
    r = "wb.runs."
    return [
        Foreign(
            r + "start",
            lambda me, x: start_run(me, suite=x, prompt=me.prompt_id),
            SUITE,
            "A's suite",
        ),
        Foreign(
            r + "start",
            lambda me, x: start_run(me, suite=me.suite_id, prompt=x),
            PROMPT,
            "A's prompt",
        ),
        Foreign(r + "get", lambda me, x: me.wb.runs.get(x), RUN),
        Foreign(r + "results_frame", lambda me, x: me.wb.runs.results_frame(x), RUN),
        Foreign(r + "tool_calls_frame", lambda me, x: me.wb.runs.tool_calls_frame(x), RUN),
        Foreign(r + "summary", lambda me, x: me.wb.runs.summary(x), RUN),
        Foreign(r + "attach", lambda me, x: me.wb.runs.attach(x, progress=False).wait(30), RUN),
        # A's own run is finished: A is told it cannot resume, B that it does not exist.
        Foreign(r + "resume", lambda me, x: me.wb.runs.resume(x, target=offline()), RUN),
        # Issue 12: studying runs. A's own compare of A's run with itself is refused as such.
        Foreign(r + "compare", lambda me, x: me.wb.runs.compare(x, me.run_id), RUN, "baseline"),
        Foreign(r + "compare", lambda me, x: me.wb.runs.compare(me.run_id, x), RUN, "candidate"),
        Foreign(r + "flaky", lambda me, x: me.wb.runs.flaky(x), RUN),
        Foreign(r + "pass_rates", lambda me, x: me.wb.runs.pass_rates(x), RUN),
        Foreign(r + "attempts", lambda me, x: me.wb.runs.attempts(x), RUN),
        Foreign(r + "transcript", lambda me, x: me.wb.runs.transcript(x, position=1), RUN),
        Foreign(r + "export", lambda me, x: me.wb.runs.export(x, format="csv"), RUN),
        # Issue 23: matrices. One cell, so A's own matrix plays one run, as start does.
        Foreign(
            r + "matrix",
            lambda me, x: start_matrix(me, suite=x, prompt=me.prompt_id),
            SUITE,
            "A's suite",
        ),
        Foreign(
            r + "matrix",
            lambda me, x: start_matrix(me, suite=me.suite_id, prompt=x),
            PROMPT,
            "A's prompt",
        ),
        Foreign(r + "matrix_get", lambda me, x: me.wb.runs.matrix_get(x).summary(), MATRIX),
    ]


MATRIX = "matrix_id"
RESULT = "result_id"


def missing_result() -> str:
    return str(2_000_000_000 + uuid.uuid4().int % 1_000_000)


def review_entries() -> list[Foreign]:
    """Issue 26: labels. A's result ids and runs are answered as missing ones."""
    v = "wb.reviews."

    def on_result(operation: str, call: Call, label: str = "") -> Foreign:
        return Foreign(v + operation, call, RESULT, label, missing=missing_result)

    return [
        Foreign(v + "queue", lambda me, x: me.wb.reviews.queue(x), RUN, "A's run"),
        on_result("queue", lambda me, x: me.wb.reviews.queue([int(x)]), "A's result"),
        on_result("label", lambda me, x: me.wb.reviews.label(int(x), "pass")),
        on_result("history", lambda me, x: me.wb.reviews.history(int(x))),
        on_result("item", lambda me, x: me.wb.reviews.item(int(x))),
        Foreign(v + "agreement", lambda me, x: me.wb.reviews.agreement(x), RUN),
        Foreign(v + "threshold_curve", lambda me, x: me.wb.reviews.threshold_curve(x), RUN),
    ]


def start_matrix(me: Rows, *, suite: str, prompt: str) -> object:
    made = me.wb.runs.matrix(suite=suite, prompts=[prompt], targets=[offline()])
    return made.wait(60)


def mistral() -> str:
    return "mistral"


def account_and_handle_entries() -> list[Foreign]:
    return [
        # A token names no user; someone else's is refused as one never issued (AuthError).
        Foreign(
            "wb.account.verify_email",
            lambda me, x: me.wb.account.verify_email(token=x),
            TOKEN,
            "A's pending token",
            missing=new_token,
            error=AuthError,
        ),
        Foreign(
            "wb.account.verify_email",
            lambda me, x: me.wb.account.verify_email(token=x),
            EXPIRED_TOKEN,
            "A's expired token",
            missing=new_token,
            error=AuthError,
        ),
        Foreign(
            "wb.export_scenarios",
            lambda me, x: me.wb.export_scenarios(scenario_ids=[me.scenario_id, x]),
            SCENARIO,
            "scenario_ids",
        ),
        Foreign(
            "wb.export_scenarios",
            lambda me, x: me.wb.export_scenarios(suite_ids=[x]),
            SUITE,
            "suite_ids",
        ),
        Foreign("frames.suite_frame", lambda me, x: frames.suite_frame(me.wb, x), SUITE, "handle"),
        Foreign(
            "frames.suite_frame",
            lambda me, x: frames.suite_frame(me.wb.suites, x),
            SUITE,
            "service",
        ),
        Foreign(
            "frames.scenario_turns_frame",
            lambda me, x: frames.scenario_turns_frame(me.wb, x),
            SCENARIO,
        ),
    ]


FOREIGN: list[Foreign] = [
    *scenario_entries(),
    *suite_entries(),
    *prompt_entries(),
    *keyed_entries(),
    *run_entries(),
    *review_entries(),
    *account_and_handle_entries(),
]


# ---------------------------------------------------------------- own-only operations


def a_strings(w: World) -> list[str]:
    """What of A's must never show in B's results: ids, names, keys, values."""
    a = w.a
    return [*a.scenario_ids, a.suite_id, a.prompt_id, a.variable_key, a.tag, a.provider]


def assert_none_of_a(w: World, shown: object) -> None:
    rendered = shown if isinstance(shown, str) else repr(shown)
    leaked = [value for value in a_strings(w) if value in rendered]
    assert not leaked, f"B's result shows A's {leaked}: {rendered[:500]}"


def check_scenarios_create(w: World) -> None:
    # Names are unique per user: A's name is free for B, and the row is B's.
    made = w.b.wb.scenarios.create(ScenarioCreate(name=w.a.scenario_name))
    assert made.id not in w.a.scenario_ids
    assert w.b.wb.scenarios.get_by_name(w.a.scenario_name).id == made.id


def check_scenarios_update_to_a_name(w: World) -> None:
    renamed = w.b.wb.scenarios.update(
        w.b.loose_id, ScenarioUpdate(name=w.a.scenario_name), expected_version=1
    )
    assert renamed.name == w.a.scenario_name


def check_scenarios_list(w: World) -> None:
    page = w.b.wb.scenarios.list(limit=None)
    assert {s.id for s in page} == w.b.scenario_ids
    assert page.total == len(w.b.scenario_ids)
    assert_none_of_a(w, page)
    searched = w.b.wb.scenarios.list(search=w.a.tag, status=["DRAFT", "PUBLISHED"], tags="smoke")
    assert searched.total == 0 and not searched.items


def check_suites_create(w: World) -> None:
    made = w.b.wb.suites.create(name=w.a.suite_name, scenario_ids=[w.b.loose_id])
    assert made.id != w.a.suite_id and made.scenario_ids == (w.b.loose_id,)


def check_suites_list(w: World) -> None:
    page = w.b.wb.suites.list(limit=None)
    assert [s.id for s in page] == [w.b.suite_id]
    assert page[0].scenario_count == 2
    assert_none_of_a(w, page)
    assert w.b.wb.suites.list(search=w.a.tag).total == 0


def check_prompts_create(w: World) -> None:
    made = w.b.wb.prompts.create(name=w.a.prompt_name, content="Hi {{ tone }}.")
    assert made.id != w.a.prompt_id


def check_prompts_list(w: World) -> None:
    page = w.b.wb.prompts.list(limit=None)
    assert [p.id for p in page] == [w.b.prompt_id]
    assert_none_of_a(w, page)
    assert w.b.wb.prompts.list(search=w.a.tag).total == 0


def check_prompts_render_own(w: World) -> None:
    # B's prompt names a placeholder only A has a variable for, and one both have.
    mine = w.b.wb.prompts.create(name="borrow", content="{{ tone }}")
    assert w.b.wb.prompts.render(mine.id) == "casual"
    needs_a = w.b.wb.prompts.create(name="needs A", content=f"{{{{ {w.a.variable_key} }}}}")
    with pytest.raises(ValidationError, match=w.a.variable_key):
        w.b.wb.prompts.render(needs_a.id)


def check_prompts_frame(w: World) -> None:
    frame = w.b.wb.prompts.frame()
    assert list(frame["id"]) == [w.b.prompt_id]
    assert_none_of_a(w, frame.to_dict("records"))


def check_variables_create(w: World) -> None:
    made = w.b.wb.variables.create(key=w.a.variable_key, value="Bob's own")
    assert w.b.wb.variables.get(w.a.variable_key) == made


def check_variables_list(w: World) -> None:
    listed = w.b.wb.variables.list()
    assert [v.key for v in listed] == sorted([w.b.variable_key, "tone"])
    assert_none_of_a(w, listed)
    assert w.b.wb.variables.list(search=w.a.tag.lower()) == []


def check_variables_as_dict(w: World) -> None:
    assert w.b.wb.variables.as_dict() == {w.b.variable_key: "Bob Corp", "tone": "casual"}


def check_variables_set_many(w: World) -> None:
    # A's key and a key both have: B's rows are written, A's stay (the snapshot proves it).
    stored = w.b.wb.variables.set_many({w.a.variable_key: "Bob's", "tone": "dry"})
    assert [(v.key, v.value) for v in stored] == [(w.a.variable_key, "Bob's"), ("tone", "dry")]
    assert w.a.wb.variables.as_dict()["tone"] == "formal"


def check_variables_frame(w: World) -> None:
    frame = w.b.wb.variables.frame()
    assert sorted(frame["key"]) == sorted([w.b.variable_key, "tone"])
    assert_none_of_a(w, frame.to_dict("records"))


def check_api_keys_set(w: World) -> None:
    view = w.b.wb.api_keys.set(provider=w.a.provider, api_key="sk-Bob-own-key", key_name="x")
    assert view.key_name == "x"
    assert w.b.wb.api_keys._reveal_for_provider_call(provider=w.a.provider) == "sk-Bob-own-key"
    assert w.a.wb.api_keys._reveal_for_provider_call(provider=w.a.provider).startswith("sk-Ada")


def check_api_keys_list(w: World) -> None:
    listed = w.b.wb.api_keys.list()
    assert [k.provider for k in listed] == [w.b.provider]
    assert_none_of_a(w, listed)


def check_api_keys_frame(w: World) -> None:
    frame = w.b.wb.api_keys.frame()
    assert list(frame["provider"]) == [w.b.provider]
    assert_none_of_a(w, frame.to_dict("records"))


def check_account_view(w: World) -> None:
    seen = w.b.wb.account.view()
    assert (seen.id, seen.email) == (w.b.wb.user.id, w.b.wb.user.email)


def check_change_password(w: World) -> None:
    w.b.wb.account.change_password(current_password=PASSWORD, new_password="a new secret 123")


def check_request_email_verification(w: World) -> None:
    sent: list[Message] = []
    assert w.b.wb.account.request_email_verification(sender=sent.append)
    assert [m.email for m in sent] == [w.b.wb.user.email]


def check_delete_account(w: World) -> None:
    w.b.wb.account.delete_account(password=PASSWORD)
    assert not w.b.wb.signed_in and w.a.wb.signed_in
    assert snapshot(w.db, w.b.wb.user)["public.Scenario"] == []


def check_sign_out(w: World) -> None:
    w.b.wb.sign_out()
    assert not w.b.wb.signed_in and w.a.wb.signed_in


def check_export_everything(w: World) -> None:
    exported = w.b.wb.export_scenarios(format="json")
    document = json.loads(exported)
    assert [s["name"] for s in document["scenarios"]] == ["Bob greeting", "Bob loose", "Bob refund"]
    assert [s["name"] for s in document["suites"]] == [w.b.suite_name]
    assert_none_of_a(w, exported)


def check_import_resolves_own_names(w: World) -> None:
    b = w.b.wb
    # A's scenario name is free for B; a suite naming it gets B's scenario of that name.
    created = b.import_scenarios({"format": FORMAT, "scenarios": [{"name": w.a.scenario_name}]})
    b_twin = created.scenario_ids[w.a.scenario_name]
    suite = {"name": "imported", "scenarios": [w.a.scenario_name]}
    result = b.import_scenarios({"format": FORMAT, "suites": [suite]})
    assert b.suites.get(result.suite_ids["imported"]).scenario_ids == (b_twin,)
    # A name only A has resolves to nothing.
    lonely = {"name": "lonely", "scenarios": ["Ada refund"]}
    with pytest.raises(ValidationError, match="no scenario named 'Ada refund'"):
        b.import_scenarios({"format": FORMAT, "suites": [lonely]})


def check_export_workspace(w: World) -> None:
    exported = w.b.wb.export_workspace(format="json")
    document = json.loads(exported)
    assert [p["name"] for p in document["prompts"]] == [w.b.prompt_name]
    assert "api_keys" not in document and w.b.provider not in exported
    assert_none_of_a(w, exported)


def check_import_workspace(w: World) -> None:
    b = w.b.wb
    # A's prompt name and variable key are free for B; suites resolve among B's scenarios only.
    document = {
        "format": WORKSPACE_FORMAT,
        "prompts": [{"name": w.a.prompt_name, "content": "Hi"}],
        "variables": [{"key": w.a.variable_key, "value": "B's own"}],
    }
    result = b.import_workspace(document)
    assert b.prompts.get(result.prompts[0][1]).name == w.a.prompt_name
    assert b.variables.get(w.a.variable_key).value == "B's own"
    lonely = {"format": WORKSPACE_FORMAT, "suites": [{"name": "x", "scenarios": ["Ada refund"]}]}
    with pytest.raises(ValidationError, match="no scenario named 'Ada refund'"):
        b.import_workspace(lonely)


def check_scenarios_frame(w: World) -> None:
    frame = frames.scenarios_frame(w.b.wb)
    assert set(frame["id"]) == w.b.scenario_ids
    assert_none_of_a(w, frame.to_dict("records"))


def check_scenarios_frame_method(w: World) -> None:
    frame = w.b.wb.scenarios.frame()
    assert set(frame["id"]) == w.b.scenario_ids
    assert_none_of_a(w, frame.to_dict("records"))
    assert w.b.wb.scenarios.frame(search=w.a.tag).empty


def check_prompts_frame_function(w: World) -> None:
    frame = frames.prompts_frame(w.b.wb)
    assert list(frame["id"]) == [w.b.prompt_id]


def check_variables_frame_function(w: World) -> None:
    frame = frames.variables_frame(w.b.wb)
    assert_none_of_a(w, frame.to_dict("records"))
    assert len(frame) == 2


def check_runs_list(w: World) -> None:
    listed = w.b.wb.runs.list()
    assert [r.id for r in listed] == [w.b.run_id]
    assert_none_of_a(w, [(r.id, r.suite_name, r.prompt_name) for r in listed])


def check_runs_frame(w: World) -> None:
    frame = w.b.wb.runs.frame()
    assert list(frame["id"]) == [w.b.run_id]
    assert_none_of_a(w, frame.drop(columns=["totals"]).to_dict("records"))


def check_runs_trend(w: World) -> None:
    frame = w.b.wb.runs.trend()
    assert list(frame["run_id"]) == [w.b.run_id]
    assert_none_of_a(w, frame.to_dict("records"))
    with pytest.raises(NotFound):  # A's suite name is not a suite of B's runs
        w.b.wb.runs.trend(suite=w.a.suite_name)


def check_runs_matrices(w: World) -> None:
    listed = w.b.wb.runs.matrices()
    assert [m.id for m in listed] == [w.b.matrix_id]
    assert_none_of_a(w, [(m.id, m.suite_name, m.run_ids) for m in listed])
    assert_none_of_a(w, listed[0].summary().to_dict("records"))


def check_studio(w: World) -> None:
    studio = w.b.wb.studio()
    shown = {row.summary.id for row in studio.scenarios.rows}
    assert shown == w.b.scenario_ids
    assert set(studio.suites.chooser.options) and set(studio.prompts.chooser.options)
    assert_none_of_a(w, [repr(studio.suites.chooser.options), repr(studio.prompts.chooser.options)])
    assert_none_of_a(w, [row.summary.name for row in studio.scenarios.rows])


def check_reviews_item_records(w: World) -> None:
    assert w.b.wb.reviews.item_records([int(w.a.result_id)]) == []  # A's result: left out
    [own] = w.b.wb.reviews.item_records([int(w.b.result_id)])
    assert_none_of_a(w, [own])


def check_runs_clear_cache(w: World) -> None:
    assert w.b.wb.runs.clear_cache() >= 1  # B's own entries; A's stay (the snapshot checks)


CREATES = "creates a row of the caller's; it names no existing row"
LISTS = "lists the caller's rows; it takes filters, never an id"
OWN_ACCOUNT = "acts on the caller's own account; the user is the handle's, never an argument"

OWN: list[Own] = [
    Own("wb.scenarios.create", CREATES, check_scenarios_create, "A's name"),
    Own(
        "wb.scenarios.update",
        "(in addition to its Foreign entries) names are unique per user only",
        check_scenarios_update_to_a_name,
        "B's own to A's name",
    ),
    Own("wb.scenarios.list", LISTS, check_scenarios_list),
    Own("wb.scenarios.frame", LISTS, check_scenarios_frame_method),
    Own("wb.suites.create", CREATES, check_suites_create, "A's name"),
    Own("wb.suites.list", LISTS, check_suites_list),
    Own("wb.prompts.create", CREATES, check_prompts_create, "A's name"),
    Own("wb.prompts.list", LISTS, check_prompts_list),
    Own(
        "wb.prompts.render",
        "(in addition to its Foreign entries) placeholders fill from the caller's variables",
        check_prompts_render_own,
        "B's prompt",
    ),
    Own("wb.prompts.frame", LISTS, check_prompts_frame),
    Own("wb.variables.create", CREATES, check_variables_create, "A's key"),
    Own("wb.variables.list", LISTS, check_variables_list),
    Own("wb.variables.as_dict", LISTS, check_variables_as_dict),
    Own(
        "wb.variables.set_many",
        "upserts by key within the caller's variables; a key is not an id of anyone else's",
        check_variables_set_many,
        "A's keys",
    ),
    Own("wb.variables.frame", LISTS, check_variables_frame),
    Own(
        "wb.api_keys.set",
        "upserts the caller's key for a provider; a provider is not an id of anyone else's",
        check_api_keys_set,
        "A's provider",
    ),
    Own("wb.api_keys.list", LISTS, check_api_keys_list),
    Own("wb.api_keys.frame", LISTS, check_api_keys_frame),
    Own("wb.account.view", OWN_ACCOUNT, check_account_view),
    Own("wb.account.change_password", OWN_ACCOUNT, check_change_password),
    Own("wb.account.request_email_verification", OWN_ACCOUNT, check_request_email_verification),
    Own("wb.account.delete_account", OWN_ACCOUNT, check_delete_account),
    Own("wb.sign_out", "ends the handle's own session", check_sign_out),
    Own("wb.export_scenarios", "(no ids) everything of the caller's", check_export_everything),
    Own(
        "wb.import_scenarios",
        "creates the caller's rows; suites name scenarios, resolved among the caller's",
        check_import_resolves_own_names,
    ),
    Own("wb.export_workspace", "(no ids) everything of the caller's", check_export_workspace),
    Own(
        "wb.import_workspace",
        "creates the caller's rows; suites name scenarios, resolved among the caller's",
        check_import_workspace,
    ),
    Own("wb.runs.list", LISTS, check_runs_list),
    Own(
        "wb.reviews.item_records",
        "reads the given results among the caller's only; others are left out, as gone ones",
        check_reviews_item_records,
    ),
    Own("wb.runs.frame", LISTS, check_runs_frame),
    Own("wb.runs.trend", LISTS, check_runs_trend),
    Own("wb.runs.matrices", LISTS, check_runs_matrices),
    Own("wb.studio", "editors over the caller's own services; lists only their rows", check_studio),
    Own("wb.runs.clear_cache", "deletes the caller's own cache entries", check_runs_clear_cache),
    Own("frames.scenarios_frame", LISTS, check_scenarios_frame),
    Own("frames.prompts_frame", LISTS, check_prompts_frame_function),
    Own("frames.variables_frame", LISTS, check_variables_frame_function),
]


# ---------------------------------------------------------------- coverage

# Public handle attributes that are neither operations nor services.
HANDLE_DATA = {
    "user": "the handle's own public profile (id, email, name)",
    "database": "where the handle is connected; in-kernel code is the user's own (DESIGN.md)",
    "signed_in": "a flag about the handle itself",
}
# Public functions of workbench.frames that read no rows themselves.
FRAME_HELPERS = {
    "typed_frame": "builds a DataFrame from records it is given",
    "service_of": "picks a service off a handle; reads nothing",
    "turn_records": "flattens turns it is given",
}


def is_operation(attribute: object) -> bool:
    wrapped = (staticmethod, classmethod, property, cached_property)
    return inspect.isfunction(attribute) or isinstance(attribute, wrapped)


def public_operations(handle: Workbench) -> tuple[set[str], list[str]]:
    """Every public operation reachable from `handle`, and what could not be classified."""
    found: set[str] = set()
    unknown: list[str] = []
    for name in (n for n in dir(Workbench) if not n.startswith("_")):
        attribute = inspect.getattr_static(Workbench, name)
        if inspect.isfunction(attribute):
            found.add(f"wb.{name}")
            continue
        value = getattr(handle, name)
        if isinstance(value, UserScopedService):
            service = type(value)
            found |= {
                f"wb.{name}.{member}"
                for member in dir(service)
                if not member.startswith("_")
                and is_operation(inspect.getattr_static(service, member))
            }
        elif name not in HANDLE_DATA:
            unknown.append(f"wb.{name}")
    for name, function in inspect.getmembers(frames, inspect.isfunction):
        if name.startswith("_") or function.__module__ != frames.__name__:
            continue
        if name in FRAME_HELPERS:
            continue
        if "source" in inspect.signature(function).parameters:
            found.add(f"frames.{name}")
        else:
            unknown.append(f"frames.{name}")
    return found, unknown


def test_every_public_operation_is_walked(wb: Workbench) -> None:
    operations, unknown = public_operations(wb)
    walked = {entry.operation for entry in FOREIGN} | {entry.operation for entry in OWN}
    assert not unknown, f"classify these in tests/test_scoping.py: {unknown}"
    missing = sorted(operations - walked)
    assert not missing, f"operations with no entry in the scoping walk: {missing}"
    # Every entry names something that exists (private ones included on purpose).
    for operation in walked - operations:
        owner, _, member = operation.rpartition(".")
        target: Any = frames if owner == "frames" else wb
        for part in owner.split(".")[1:]:
            target = getattr(target, part)
        assert callable(getattr(target, member, None)), f"stale walk entry: {operation}"


def test_every_table_is_snapshotted(db: Database) -> None:
    tables, owned = existing_tables(db), owned_rows(db)
    unknown, gone = sorted(tables - set(owned)), sorted(set(owned) - tables)
    assert not unknown, f"say which rows of these tables are a user's, in OWNED_ROWS: {unknown}"
    assert not gone, f"OWNED_ROWS names tables that do not exist: {gone}"


# ---------------------------------------------------------------- the walk


def outcome(entry: Foreign, caller: Rows, identifier: str) -> WorkbenchError | None:
    try:
        entry.call(caller, identifier)
    except WorkbenchError as error:
        return error
    return None


def described(error: WorkbenchError | None, identifier: str) -> tuple[object, ...]:
    """What a caller can observe of an error, with the identifier itself blanked out."""
    if error is None:
        return ("no error",)
    chain: list[str] = []
    cause: BaseException | None = error
    while cause is not None:
        chain.append(type(cause).__name__)
        cause = cause.__cause__ or (None if cause.__suppress_context__ else cause.__context__)
    problems = getattr(error, "problems", None)
    return (
        type(error),
        str(error).replace(identifier, BLANK),
        [p.replace(identifier, BLANK) for p in problems] if problems else None,
        chain,
    )


def as_param(entry: Foreign) -> Any:
    bug = pytest.mark.xfail(strict=True, reason=entry.known_bug) if entry.known_bug else ()
    return pytest.param(entry, id=entry.name, marks=bug)


@pytest.mark.parametrize("entry", [as_param(entry) for entry in FOREIGN])
def test_foreign_identifier_is_answered_as_missing(world: World, entry: Foreign) -> None:
    foreign, missing = getattr(world.a, entry.pick), entry.missing()
    before = snapshot(world.db, None)
    as_foreign = outcome(entry, world.b, foreign)
    as_missing = outcome(entry, world.b, missing)
    assert isinstance(as_missing, entry.error), f"a missing identifier gave {as_missing!r}"
    assert described(as_foreign, foreign) == described(as_missing, missing)
    assert_same(before, snapshot(world.db, None))
    # A's own call with the same identifier is answered otherwise: the identifier was real.
    as_owner = outcome(entry, world.a, foreign)
    assert described(as_owner, foreign) != described(as_missing, missing)


@pytest.mark.parametrize("entry", OWN, ids=lambda entry: entry.name)
def test_own_operation_never_reaches_a(world: World, entry: Own) -> None:
    assert entry.reason
    before = snapshot(world.db, world.a.wb.user)
    entry.check(world)
    assert_same(before, snapshot(world.db, world.a.wb.user))


# ---------------------------------------------------------------- rows a second writer crossed


@pytest.fixture
def crossed_item(world: World) -> World:
    """An item in B's suite naming A's scenario, as the web app (a second writer) could write."""
    with world.db.transaction() as session:
        session.add(
            ScenarioSuiteItem(
                suite_id=world.b.suite_id, scenario_id=world.a.loose_id, order_index=2
            )
        )
    return world


def test_export_never_names_a_foreign_scenario_in_a_suite(crossed_item: World) -> None:
    w = crossed_item
    document = json.loads(w.b.wb.export_scenarios(format="json"))
    assert document["suites"][0]["scenarios"] == ["Bob greeting", "Bob refund"]


def test_export_of_a_suite_never_names_a_foreign_scenario(crossed_item: World) -> None:
    w = crossed_item
    exported = w.b.wb.export_scenarios(suite_ids=[w.b.suite_id], format="json")
    assert_none_of_a(w, exported)


def test_suite_reads_never_show_a_foreign_scenario_in_a_suite(crossed_item: World) -> None:
    b = crossed_item.b
    assert b.wb.suites.get(b.suite_id).scenario_ids == (b.scenario_id, b.published_id)
    assert_none_of_a(crossed_item, b.wb.suites.items(b.suite_id))
    assert_none_of_a(crossed_item, b.wb.suites.frame(b.suite_id).to_dict("records"))


def test_removing_a_foreign_scenario_crossed_into_a_suite_is_answered_as_missing(
    crossed_item: World,
) -> None:
    b, theirs, missing = crossed_item.b, crossed_item.a.loose_id, random_id()
    with pytest.raises(NotFound) as foreign:
        b.wb.suites.remove(b.suite_id, theirs)
    with pytest.raises(NotFound) as absent:
        b.wb.suites.remove(b.suite_id, missing)
    assert str(foreign.value).replace(theirs, BLANK) == str(absent.value).replace(missing, BLANK)
