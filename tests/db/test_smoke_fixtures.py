from sqlalchemy import select

from workbench.db.models import User
from workbench.handle import Workbench


def test_each_test_sees_its_own_user_only(wb: Workbench, other_wb: Workbench) -> None:
    with wb.database.transaction() as session:
        emails = set(session.scalars(select(User.email)))
    assert emails == {wb.user.email, other_wb.user.email}
