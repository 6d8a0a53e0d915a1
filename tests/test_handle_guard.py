"""A handle stops working when its session ends, wherever it ended; so do its services."""

from __future__ import annotations

import pytest
from sqlalchemy import delete

import workbench
import workbench.handle
from workbench.db.engine import Database
from workbench.db.models import Session as SessionRow
from workbench.errors import AuthError
from workbench.handle import Workbench


@pytest.fixture
def signed_in(committed_db: Database, isolated_home: object) -> Workbench:
    url = committed_db.url.render_as_string(hide_password=False)
    return workbench.sign_up("guard@example.com", "correct horse battery", "Guard", url=url)


def test_a_service_kept_in_a_variable_refuses_after_sign_out(signed_in: Workbench) -> None:
    scenarios = signed_in.scenarios
    assert scenarios.list().total == 0
    signed_in.sign_out()
    with pytest.raises(AuthError, match="signed out"):
        scenarios.list()


def test_a_session_ended_elsewhere_stops_the_handle_at_its_next_check(
    signed_in: Workbench, committed_db: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    prompts = signed_in.prompts
    assert prompts.list().total == 0
    with committed_db.transaction() as session:  # what a password reset in another kernel does
        session.execute(delete(SessionRow).where(SessionRow.user_id == signed_in.user.id))
    monkeypatch.setattr(workbench.handle, "SESSION_RECHECK_SECONDS", 0.0)
    with pytest.raises(AuthError, match="signed out"):
        prompts.list()
    assert not signed_in.signed_in


def test_a_live_session_keeps_working_across_rechecks(
    signed_in: Workbench, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(workbench.handle, "SESSION_RECHECK_SECONDS", 0.0)
    for _ in range(3):
        assert signed_in.variables.list() == []
    assert signed_in.signed_in
