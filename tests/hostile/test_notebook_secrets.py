"""A notebook that uses keys and passwords every way the issue lists, saved with its widget
state, holds none of them; nor do the logs or the data directory.

The notebook runs in a real kernel (nbclient) against the test database, with `%xmode Verbose`
tracebacks, the arguments swapped, a key typed into `ApiKeyEditor` but never saved, and a key
saved through it. Secrets come from the environment, as if typed: a literal in a cell would be
in the saved source.
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Iterator
from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient
from sqlalchemy import delete
from sqlalchemy.engine import URL

from tests.conftest import insert_user
from workbench.db.engine import Database
from workbench.db.workbench_models import SignInFailure

REPO = Path(__file__).resolve().parents[2]

CELLS = [
    """\
import logging, os, time
logging.basicConfig(filename=os.path.join(os.environ["WORKBENCH_HOME"], "kernel.log"),
                    level=logging.DEBUG, force=True)
logging.getLogger("sqlalchemy.engine").setLevel(logging.INFO)  # every statement and parameter
import workbench
from workbench.db.engine import open_database
from workbench.handle import Workbench
from workbench.services.identity import SignedInUser
from workbench.widgets.api_keys import ApiKeyEditor
URL = os.environ["NB_DATABASE_URL"]
wb = Workbench(open_database(URL),
               SignedInUser(id=os.environ["NB_USER_ID"], email=os.environ["NB_EMAIL"], name="Ada"))
""",
    "%xmode Verbose",
    'wb.api_keys.set(provider="nope", api_key=os.environ["NB_KEY"])',
    'wb.api_keys.set(provider="openai", api_key=os.environ["NB_KEY"] + "\\x07")',
    'workbench.sign_in(os.environ["NB_PASSWORD"], "ada@example.com", url=URL, remember=False)',
    'workbench.sign_in("nobody@example.com", os.environ["NB_PASSWORD"], url=URL, remember=False)',
    'workbench.sign_up("ada@example.com", os.environ["NB_PASSWORD"][:5], "Ada", url=URL)',
    'workbench.reset_password("no-such-token", os.environ["NB_PASSWORD"], url=URL)',
    """wb.account.change_password(new_password=os.environ["NB_PASSWORD"],
                           current_password=os.environ["NB_PASSWORD"])""",
    'wb.account.delete_account(password=os.environ["NB_PASSWORD"])',
    # Typed, never saved: the field clears itself (1 s here; 60 s by default).
    """ApiKeyEditor.clear_after = 1.0
unsaved = ApiKeyEditor(wb.api_keys)
display(unsaved)
unsaved.secret.value = os.environ["NB_TYPED"]""",
    "time.sleep(3); print(unsaved.status.value)",
    # Typed and saved.
    """editor = ApiKeyEditor(wb.api_keys)
display(editor)
editor.provider.value = "openai"
editor.key_name.value = "laptop"
editor.secret.value = os.environ["NB_KEY"]
editor.save_button.click()
print(editor.status.value, repr(editor), wb.api_keys.list())
wb.api_keys.frame()""",
]


@pytest.fixture
def planted(
    committed_db: Database, migrated_url: URL, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[dict[str, str]]:
    user = insert_user(committed_db)
    values = {
        "NB_KEY": f"sk-Planted-{secrets.token_hex(12)}",
        "NB_TYPED": f"sk-Typed-{secrets.token_hex(12)}",
        "NB_PASSWORD": f"Pw-Planted-{secrets.token_hex(8)}",
    }
    home = tmp_path / "home"
    home.mkdir()
    for name, value in {
        **values,
        "ENCRYPTION_KEY": "workbench-test-master-secret",
        "NB_DATABASE_URL": migrated_url.render_as_string(hide_password=False),
        "NB_USER_ID": user.id,
        "NB_EMAIL": user.email,
        "WORKBENCH_HOME": str(home),
        "PYTHONPATH": os.pathsep.join(filter(None, [str(REPO), os.environ.get("PYTHONPATH")])),
    }.items():
        monkeypatch.setenv(name, value)
    yield values
    with committed_db.transaction() as session:
        session.execute(delete(SignInFailure))


def forms(secret: str) -> list[bytes]:
    """The secret as given, lower-cased, UTF-16 and hex: how it could sit in a file."""
    return [
        secret.encode(),
        secret.lower().encode(),
        secret.encode("utf-16-le"),
        secret.encode().hex().encode(),
    ]


def test_no_planted_secret_is_in_the_saved_notebook_the_logs_or_the_data_dir(
    planted: dict[str, str], tmp_path: Path
) -> None:
    notebook = nbformat.v4.new_notebook()
    notebook.cells = [nbformat.v4.new_code_cell(code) for code in CELLS]
    client = NotebookClient(
        notebook,
        kernel_name="python3",
        timeout=120,
        allow_errors=True,
        store_widget_state=True,
        resources={"metadata": {"path": str(tmp_path)}},
    )
    client.execute()
    path = tmp_path / "secrets.ipynb"
    nbformat.write(notebook, path)
    saved = path.read_text()
    # The cells really ran: verbose tracebacks with their arguments, the timer, the save.
    assert "Secret('***')" in saved and "ValidationError" in saved and "AuthError" in saved
    assert "cleared after 1 s without being saved" in saved
    assert "Saved the OpenAI key" in saved
    assert "PasswordModel" in saved  # the widget state was saved
    files = [path, *(p for p in (tmp_path / "home").rglob("*") if p.is_file())]
    assert any(p.name == "kernel.log" and p.stat().st_size > 0 for p in files)
    for file in files:
        content = file.read_bytes()
        for name, secret in planted.items():
            for form in forms(secret):
                assert form not in content, f"{name} found in {file.name}"
