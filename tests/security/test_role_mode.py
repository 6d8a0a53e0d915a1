"""With WORKBENCH_TEST_AS_ROLE the `wb` fixture really runs as its own role under the policies."""

from __future__ import annotations

import pytest
from sqlalchemy import text

from tests.security.as_role import RoleBoundDatabase, role_mode
from workbench.handle import Workbench


@pytest.mark.skipif(not role_mode(), reason="only under WORKBENCH_TEST_AS_ROLE=1 (.ci/run)")
def test_wb_runs_as_a_mapped_role_that_row_security_applies_to(
    wb: Workbench, other_wb: Workbench
) -> None:
    assert isinstance(wb.database, RoleBoundDatabase)
    with wb.database.transaction() as session:
        who = session.execute(
            text(
                "SELECT session_user, workbench.current_user_id(), "
                """row_security_active('"Scenario"')"""
            )
        ).one()
        other = session.execute(
            text('SELECT count(*) FROM "user" WHERE id = :id'), {"id": other_wb.user.id}
        ).scalar()
    assert tuple(who) == (wb.database.role, wb.user.id, True) and other == 0
