"""A notebook saved with its widget state, after a key was entered in ApiKeyEditor, holds no key.

The notebook runs in a real kernel (nbclient, this venv's `python3` kernel) against the test
database, and is saved with the widget state nbclient recorded from the kernel's comm messages:
what JupyterLab stores under "Save Widget State Automatically".
"""

from __future__ import annotations

import os
import secrets
from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient
from sqlalchemy.engine import URL

from tests.conftest import insert_user
from workbench.db.engine import Database
from workbench.handle import Workbench

REPO = Path(__file__).resolve().parents[1]
SECRET = "workbench-test-master-secret"

SETUP = """\
import os
from workbench.db.engine import open_database
from workbench.handle import SignedInUser, Workbench
from workbench.widgets.api_keys import ApiKeyEditor

wb = Workbench(
    open_database(os.environ["NB_DATABASE_URL"]),
    SignedInUser(id=os.environ["NB_USER_ID"], email=os.environ["NB_USER_EMAIL"], name="Ada"),
)
editor = ApiKeyEditor(wb.api_keys)
editor
"""
# The key comes from the environment, as if typed: a literal here would be in the saved source.
ENTER_KEY = """\
editor.provider.value = "openai"
editor.key_name.value = "laptop-key-name"
editor.secret.value = os.environ["NB_TYPED_KEY"]
editor.save_button.click()
print(editor.status.value)
"""
SHOW = """\
display(editor.key_rows["openai"])
print(repr(editor), wb.api_keys.list())
wb.api_keys.frame()
"""


@pytest.fixture
def saved_notebook(
    committed_db: Database, migrated_url: URL, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> tuple[Path, str, Workbench]:
    user = insert_user(committed_db)
    key = f"sk-typed-{secrets.token_hex(16)}"
    for name, value in {
        "ENCRYPTION_KEY": SECRET,
        "NB_DATABASE_URL": migrated_url.render_as_string(hide_password=False),
        "NB_USER_ID": user.id,
        "NB_USER_EMAIL": user.email,
        "NB_TYPED_KEY": key,
        # The kernel imports the workbench under test, wherever this checkout is.
        "PYTHONPATH": os.pathsep.join(filter(None, [str(REPO), os.environ.get("PYTHONPATH")])),
    }.items():
        monkeypatch.setenv(name, value)
    notebook = nbformat.v4.new_notebook()
    notebook.cells = [nbformat.v4.new_code_cell(code) for code in (SETUP, ENTER_KEY, SHOW)]
    client = NotebookClient(
        notebook,
        kernel_name="python3",
        timeout=120,
        store_widget_state=True,
        resources={"metadata": {"path": str(tmp_path)}},
    )
    client.execute()
    path = tmp_path / "entered-a-key.ipynb"
    nbformat.write(notebook, path)
    return path, key, Workbench(committed_db, user)


def test_a_notebook_saved_after_entering_a_key_holds_the_widget_state_but_not_the_key(
    saved_notebook: tuple[Path, str, Workbench],
) -> None:
    path, key, wb = saved_notebook
    saved = path.read_text()
    # First, that the key really went through the widget into the database.
    assert "Saved the OpenAI key 'laptop-key-name'." in saved
    assert wb.api_keys._reveal_for_provider_call(provider="openai") == key
    state = nbformat.read(path, as_version=4).metadata["widgets"][
        "application/vnd.jupyter.widget-state+json"
    ]["state"]
    passwords = [m["state"] for m in state.values() if m["model_name"] == "PasswordModel"]

    assert passwords and all(p["value"] == "" for p in passwords)
    assert "laptop-key-name" in saved  # other fields' values were saved with the state
    assert key not in saved
