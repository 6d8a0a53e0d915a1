"""A verbose IPython traceback (`%xmode Verbose`) from any public call taking a secret hides it.

VerboseTB prints every frame's arguments with their current values and the variables of each
failing line; the public functions rebind their secret parameter to a `Secret` first.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator

import pytest
from IPython.core.ultratb import VerboseTB
from sqlalchemy import delete

import workbench
from workbench.crypto.secret import Secret
from workbench.db.engine import Database
from workbench.db.workbench_models import SignInFailure
from workbench.errors import WorkbenchError
from workbench.handle import Workbench

PLANTED = "Planted-Secret-4f7Q-zz9"


def verbose_traceback(call: Callable[[], object]) -> str:
    """The text IPython shows under `%xmode Verbose`, from the public call down."""
    try:
        call()
    except WorkbenchError:
        kind, value, traceback = sys.exc_info()
        assert kind is not None and traceback is not None
        # Skip this file's frames (helper, lambda): they are the notebook cell, the user's
        # own code with the secret in it; what must hide it is everything from the call down.
        while traceback.tb_next and traceback.tb_frame.f_code.co_filename == __file__:
            traceback = traceback.tb_next
        return VerboseTB(theme_name="nocolor").text(kind, value, traceback)
    raise AssertionError("the call was expected to fail")


def _take(api_key: str) -> None:
    raise WorkbenchError("boom")


def assert_hidden(text: str) -> None:
    assert "Secret('***')" in text  # the frames really were printed with their arguments
    assert PLANTED not in text and PLANTED.lower() not in text.lower()


def test_the_rendering_shows_arguments_so_the_check_is_real() -> None:
    assert PLANTED in verbose_traceback(lambda: _take(PLANTED))


def test_api_keys_set_hides_the_key(wb: Workbench) -> None:
    text = verbose_traceback(lambda: wb.api_keys.set(provider="nope", api_key=PLANTED))
    assert "_checked(" in text
    assert_hidden(text)


def test_a_key_with_a_control_character_is_hidden_too(wb: Workbench) -> None:
    assert_hidden(
        verbose_traceback(lambda: wb.api_keys.set(provider="openai", api_key=PLANTED + "\x07"))
    )


def test_change_password_and_delete_account_hide_both_passwords(wb: Workbench) -> None:
    assert_hidden(
        verbose_traceback(
            lambda: wb.account.change_password(new_password=PLANTED, current_password=PLANTED)
        )
    )
    assert_hidden(verbose_traceback(lambda: wb.account.change_password(new_password="short")))
    assert_hidden(verbose_traceback(lambda: wb.account.delete_account(password=PLANTED)))


@pytest.fixture
def url(committed_db: Database) -> Iterator[str]:
    yield committed_db.url.render_as_string(hide_password=False)
    with committed_db.transaction() as session:
        session.execute(delete(SignInFailure))


def test_sign_in_sign_up_and_reset_hide_the_password(url: str) -> None:
    for call in (
        lambda: workbench.sign_in("nobody@example.com", PLANTED, url=url, remember=False),
        lambda: workbench.sign_up("bad", PLANTED, "Ada", url=url, remember=False),
        lambda: workbench.sign_up("ada@example.com", "x" * 200, "Ada", url=url, remember=False),
        lambda: workbench.reset_password("not-a-token", PLANTED, url=url),
    ):
        assert_hidden(verbose_traceback(call))


def test_sign_in_with_swapped_arguments_hides_both(url: str) -> None:
    text = verbose_traceback(
        lambda: workbench.sign_in(PLANTED, "ada@example.com", url=url, remember=False)
    )
    assert PLANTED not in text and PLANTED.lower() not in text.lower()


def test_a_secret_is_masked_everywhere_it_could_print() -> None:
    secret = Secret(PLANTED)
    assert PLANTED not in f"{secret} {secret!r} {[secret]} {dict(k=secret)}"
    assert secret.reveal() == PLANTED and Secret.wrap(secret) is secret
    with pytest.raises(TypeError):
        import pickle

        pickle.dumps(secret)
