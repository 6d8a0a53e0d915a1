"""`connect()` says who it signed in as, and `sign_up` in local mode does not take over later
kernels unless asked to (`remember=True`)."""

from __future__ import annotations

import pytest

import workbench
from workbench.db.engine import Database, open_database

PASSWORD = "correct horse battery staple"


@pytest.fixture
def local_url(url: str, monkeypatch: pytest.MonkeyPatch) -> str:
    """The test database, presented to the sign-in functions as the embedded one."""
    from workbench.auth import _entry

    def embedded(given: str | None = None) -> Database:
        opened = open_database(url)
        return Database(opened.engine, opened.url, "the embedded server", local=True)

    monkeypatch.setattr(_entry, "open_database", embedded)
    monkeypatch.setenv("LOGNAME", "ada")
    return url


def test_the_local_default_user_is_signed_in_silently_and_shown_in_the_repr(
    local_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    wb = workbench.connect()
    assert capsys.readouterr().out == ""
    assert "user='ada@localhost'" in repr(wb)


def test_local_sign_up_does_not_take_over_later_kernels_by_default(
    local_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    workbench.sign_up("grace@example.com", PASSWORD, "Grace")
    assert workbench.connect().user.email == "ada@localhost"
    assert capsys.readouterr().out == ""


def test_a_remembered_session_is_announced_with_the_way_back(
    local_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    workbench.sign_up("grace@example.com", PASSWORD, "Grace", remember=True)
    wb = workbench.connect()
    assert wb.user.email == "grace@example.com" and "grace@example.com" in repr(wb)
    [line] = capsys.readouterr().out.splitlines()
    assert line.startswith("workbench: signed in as Grace <grace@example.com> on ")
    assert "resuming a saved session" in line and "wb.sign_out()" in line
    wb.sign_out()
    assert workbench.connect(quiet=True).user.email == "ada@localhost"
    assert capsys.readouterr().out == ""


def test_on_a_shared_server_sign_up_remembers_and_connect_says_so(
    url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    workbench.sign_up("grace@example.com", PASSWORD, "Grace", url=url)
    assert workbench.connect(url).user.email == "grace@example.com"
    assert "signed in as Grace <grace@example.com>" in capsys.readouterr().out
