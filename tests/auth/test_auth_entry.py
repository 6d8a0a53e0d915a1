"""The public sign-in functions, end to end against a committed database."""

from __future__ import annotations

import gc
import json
import stat
from collections.abc import Callable
from datetime import timedelta

import pytest
from sqlalchemy import select, update
from sqlalchemy.engine import URL

import workbench
from workbench.auth import Message
from workbench.crypto.tokens import hash_token
from workbench.db.engine import Database, open_database
from workbench.db.migrate import upgrade
from workbench.db.models import Session
from workbench.errors import AuthError
from workbench.services.accounts.token_file import token_file
from workbench.timeutil import utcnow

from .conftest import HubStandIn

PASSWORD = "correct horse battery staple"


def saved_token() -> str:
    [token] = json.loads(token_file().read_text()).values()
    return str(token)


def session_hashes(database: Database) -> set[str]:
    with database.transaction() as session:
        return set(session.scalars(select(Session.token)))


def test_sign_up_returns_a_handle_and_saves_the_session_privately(url: str) -> None:
    wb = workbench.sign_up("Ada@Example.com", PASSWORD, "Ada", url=url)
    assert (wb.user.email, wb.user.name) == ("ada@example.com", "Ada")
    assert stat.S_IMODE(token_file().stat().st_mode) == 0o600
    assert session_hashes(wb.database) == {hash_token(saved_token())}


def test_the_token_never_shows_in_the_handle(url: str) -> None:
    wb = workbench.sign_up("ada@example.com", PASSWORD, "Ada", url=url)
    token = saved_token()
    assert token not in repr(wb) and token not in repr(vars(wb))


def test_a_new_kernel_resumes_the_saved_session_without_the_password(url: str) -> None:
    signed_up = workbench.sign_up("ada@example.com", PASSWORD, "Ada", url=url)
    resumed = workbench.resume(url=url)
    assert resumed.user == signed_up.user
    assert workbench.connect(url).user == signed_up.user


def test_sign_in_without_remember_saves_nothing(url: str) -> None:
    workbench.sign_up("ada@example.com", PASSWORD, "Ada", url=url, remember=False)
    wb = workbench.sign_in("ada@example.com", PASSWORD, url=url, remember=False)
    assert wb.signed_in and not token_file().exists()
    with pytest.raises(AuthError, match=r"No saved session .* workbench\.sign_in"):
        workbench.resume(url=url)


def test_sign_out_ends_the_session_row_and_the_saved_token(url: str) -> None:
    wb = workbench.sign_up("ada@example.com", PASSWORD, "Ada", url=url)
    token = saved_token()
    wb.sign_out()
    assert session_hashes(wb.database) == set()
    assert not token_file().exists()
    with pytest.raises(AuthError, match="signed out"):
        workbench.resume(url=url, token=token)


def test_a_signed_out_handle_reaches_no_service(url: str) -> None:
    wb = workbench.sign_up("ada@example.com", PASSWORD, "Ada", url=url)
    wb.sign_out()
    assert not wb.signed_in and "signed out" in repr(wb)
    assert wb.user.email == "ada@example.com"
    with pytest.raises(AuthError, match="This handle is signed out"):
        wb.account.view()
    with pytest.raises(AuthError, match="This handle is signed out"):
        wb.scenarios  # noqa: B018 - every service property is guarded, not just wb.account


def test_signing_out_one_kernel_keeps_a_later_kernels_saved_session(url: str) -> None:
    first = workbench.sign_up("ada@example.com", PASSWORD, "Ada", url=url)
    second = workbench.sign_in("ada@example.com", PASSWORD, url=url)
    first.sign_out()
    assert workbench.resume(url=url).user == second.user


def test_connect_without_any_way_to_sign_in_says_how(url: str) -> None:
    with pytest.raises(AuthError, match=r"Not signed in .* workbench\.sign_in\(email, password\)"):
        workbench.connect(url)


def test_an_expired_saved_session_is_refused_and_forgotten(url: str) -> None:
    wb = workbench.sign_up("ada@example.com", PASSWORD, "Ada", url=url)
    with wb.database.transaction() as session:
        session.execute(update(Session).values(expires_at=utcnow() - timedelta(seconds=1)))
    with pytest.raises(AuthError, match="The saved session was refused: This session expired"):
        workbench.connect(url)
    assert not token_file().exists()


def test_a_handle_stops_working_when_its_session_expires(url: str) -> None:
    from workbench.handle import Workbench
    from workbench.services.accounts.sessions import ActiveSession

    wb = workbench.sign_up("ada@example.com", PASSWORD, "Ada", url=url)
    past = ActiveSession("some-id", utcnow() - timedelta(seconds=1), "hash")
    expired = Workbench(wb.database, wb.user, past)
    assert not expired.signed_in
    with pytest.raises(AuthError, match="expired on"):
        expired.account.view()


def test_connect_under_jupyterhub_signs_in_the_hub_user(url: str, hub: HubStandIn) -> None:
    wb = workbench.connect(url)
    assert (wb.user.name, wb.user.email) == ("alice", "alice@jupyterhub.invalid")
    assert workbench.connect(url).user == wb.user
    assert wb.account.view().providers == ("jupyterhub",)


def test_connect_prefers_a_saved_session_to_the_hub_user(url: str, hub: HubStandIn) -> None:
    wb = workbench.sign_up("ada@example.com", PASSWORD, "Ada", url=url)
    assert workbench.connect(url).user == wb.user
    assert hub.authorizations == []


def test_connect_in_local_mode_signs_in_the_os_user_without_a_prompt(
    url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    from workbench.auth import _entry

    def embedded(given: str | None = None) -> Database:
        opened = open_database(url)
        return Database(opened.engine, opened.url, "the embedded server", local=True)

    monkeypatch.setattr(_entry, "open_database", embedded)
    monkeypatch.setenv("LOGNAME", "ada")
    wb = workbench.connect()
    assert (wb.user.name, wb.user.email) == ("ada", "ada@localhost")
    assert wb.account.view().providers == ("local",)


def test_password_reset_through_the_public_functions(url: str) -> None:
    wb = workbench.sign_up("ada@example.com", PASSWORD, "Ada", url=url)
    outbox: list[Message] = []
    workbench.request_password_reset("ada@example.com", url=url, sender=outbox.append)
    workbench.reset_password(outbox[0].token, "a brand new passphrase", url=url)
    with pytest.raises(AuthError, match="signed out"):
        workbench.resume(url=url)
    assert workbench.sign_in("ada@example.com", "a brand new passphrase", url=url).user == wb.user


def test_deleting_the_account_signs_the_handle_out_and_forgets_the_token(url: str) -> None:
    wb = workbench.sign_up("ada@example.com", PASSWORD, "Ada", url=url)
    wb.account.delete_account(password=PASSWORD)
    assert not wb.signed_in
    assert not token_file().exists()
    with pytest.raises(AuthError, match="Wrong email or password"):
        workbench.sign_in("ada@example.com", PASSWORD, url=url)


def test_sessions_on_two_databases_are_kept_apart(
    url: str, scratch_database: Callable[[], URL]
) -> None:
    other_url = scratch_database().render_as_string(hide_password=False)
    upgrade(open_database(other_url, check_schema=False))
    here = workbench.sign_up("ada@example.com", PASSWORD, "Ada", url=url)
    there = workbench.sign_up("ada@example.com", PASSWORD, "Ada", url=other_url)
    assert workbench.resume(url=url).user == here.user
    assert workbench.resume(url=other_url).user == there.user
    assert here.user.id != there.user.id


def test_failed_sign_ins_leave_no_database_connections_open(url: str) -> None:
    workbench.sign_up("ada@example.com", PASSWORD, "Ada", url=url, remember=False)
    probe = open_database(url)

    def connections() -> int:
        with probe.engine.connect() as conn:
            query = "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database()"
            return int(conn.exec_driver_sql(query).scalar_one())

    gc.disable()  # engines are cyclic: only an explicit close frees their connections at once
    try:
        before = connections()
        for _ in range(3):
            with pytest.raises(AuthError):
                workbench.connect(url)
            with pytest.raises(AuthError):
                workbench.sign_in("ada@example.com", "not the password", url=url)
        assert connections() == before
    finally:
        gc.enable()


def test_connect_marks_a_run_whose_kernel_died_as_interrupted(url: str) -> None:
    from sqlalchemy import text

    wb = workbench.sign_up("ada@example.com", PASSWORD, "Ada", url=url)
    scenario = wb.scenarios.create(
        workbench.ScenarioCreate(
            name="Greets",
            turns=[workbench.user("hi"), workbench.expect(workbench.must_contain("hi"))],
        )
    )
    suite = wb.suites.create(name="Smoke", scenario_ids=[scenario.id])
    prompt = wb.prompts.create(name="Plain", content="Be brief.")
    run = wb.runs.start(
        suite=suite.id, prompt=prompt.id, target=workbench.offline(), progress=False
    ).wait(60)
    # The kernel that played it "died": its run still says running, and its heartbeat is old.
    stale = (
        "UPDATE workbench.run SET status = 'running',"
        " heartbeat_at = heartbeat_at - interval '1 hour'"
    )
    status = "SELECT status FROM workbench.run WHERE id = :id"
    with wb.database.transaction() as session:
        session.execute(text(stale))
    workbench.connect(url, quiet=True)
    with wb.database.transaction() as session:
        assert session.scalar(text(status), {"id": run.id}) == "interrupted"
