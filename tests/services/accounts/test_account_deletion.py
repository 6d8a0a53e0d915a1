from __future__ import annotations

import pytest
from sqlalchemy import func, select, text

import workbench
from workbench.db.engine import Database
from workbench.db.models import (
    Prompt,
    Scenario,
    ScenarioSuite,
    User,
    UserApiKey,
    Variable,
    Verification,
)
from workbench.errors import AuthError, ValidationError
from workbench.handle import Workbench
from workbench.services.accounts import AccountService
from workbench.services.accounts.credentials import SignedIn
from workbench.services.accounts.external import local_user

from .conftest import PASSWORD, Outbox

# Every table with a foreign key to "user", read from the catalog so later tables are covered.
USER_REFERENCES = text(
    """SELECT c.conrelid::regclass::text, a.attname FROM pg_constraint c
       JOIN pg_attribute a ON a.attrelid = c.conrelid AND a.attnum = c.conkey[1]
       WHERE c.contype = 'f' AND c.confrelid = '"user"'::regclass"""
)


def owned_rows(db: Database, user_id: str) -> dict[str, int]:
    with db.transaction() as session:
        counts = {
            table: session.scalar(
                text(f'SELECT count(*) FROM {table} WHERE "{column}" = :id'), {"id": user_id}
            )
            or 0
            for table, column in session.execute(USER_REFERENCES)
        }
        counts["user"] = session.scalar(select(func.count()).where(User.id == user_id)) or 0
        counts["verification"] = (
            session.scalar(select(func.count()).where(Verification.value == user_id)) or 0
        )
    return counts


def give_rows(db: Database, signed_in: SignedIn, outbox: Outbox) -> None:
    user_id = signed_in.user.id
    with db.transaction() as session:
        session.add_all(
            [
                Scenario(user_id=user_id, name="greeting"),
                ScenarioSuite(user_id=user_id, name="smoke"),
                Prompt(user_id=user_id, name="system", content="Be brief."),
                Variable(user_id=user_id, key="tone", value="dry"),
                UserApiKey(user_id=user_id, provider="openai", key_name="k", encrypted_key="x"),
            ]
        )
    AccountService(db, user_id).request_email_verification(sender=outbox)
    give_run(Workbench(db, signed_in.user))


def give_run(wb: Workbench) -> None:
    """A finished run (its ledger, result and tool-call rows), a scenario with tools (its
    extension rows) and a response-cache entry."""
    turns = [workbench.user("hi"), workbench.expect(workbench.must_contain("hi"))]
    scenario = wb.scenarios.create(workbench.ScenarioCreate(name="played", turns=turns))
    with_tools = workbench.ScenarioCreate(
        name="acts", tools=[workbench.tool("lookup", returns=1)],
        turns=[workbench.user("go"), workbench.expect(workbench.called("lookup"))],
    )  # fmt: skip
    wb.scenarios.create(with_tools)
    suite = wb.suites.create(name="played", scenario_ids=[scenario.id])
    prompt = wb.prompts.create(name="played", content="Be brief.")
    target = workbench.offline()
    wb.runs.start(suite=suite.id, prompt=prompt.id, target=target, progress=False, cache=True).wait(
        60
    )


def test_deleting_an_account_removes_all_its_rows_and_nothing_of_anyone_else(
    db: Database, ada: SignedIn, bob: SignedIn, outbox: Outbox
) -> None:
    give_rows(db, ada, outbox)
    give_rows(db, bob, outbox)
    bobs_before = owned_rows(db, bob.user.id)
    assert all(owned_rows(db, ada.user.id).values())  # every table held something of Ada's
    AccountService(db, ada.user.id).delete_account(password=PASSWORD)
    assert set(owned_rows(db, ada.user.id).values()) == {0}
    assert owned_rows(db, bob.user.id) == bobs_before


def test_deleting_needs_the_right_password_and_keeps_everything_otherwise(
    db: Database, ada: SignedIn
) -> None:
    account = AccountService(db, ada.user.id)
    with pytest.raises(ValidationError, match="password is required"):
        account.delete_account()
    with pytest.raises(AuthError, match="Wrong email or password"):
        account.delete_account(password="not the password")
    assert owned_rows(db, ada.user.id)["user"] == 1


def test_a_password_less_account_is_deleted_by_confirming_its_email(db: Database) -> None:
    user = local_user(db, os_user="ada")
    account = AccountService(db, user.id)
    with pytest.raises(ValidationError, match="Confirm with email='ada@localhost'"):
        account.delete_account(email="someone@else.com")
    account.delete_account(email="Ada@localhost")
    assert set(owned_rows(db, user.id).values()) == {0}


def test_deleting_tells_the_handle_it_is_signed_out(db: Database, ada: SignedIn) -> None:
    told: list[bool] = []
    AccountService(db, ada.user.id, on_deleted=lambda: told.append(True)).delete_account(
        password=PASSWORD
    )
    assert told == [True]
