"""The browser harness: one JupyterLab server per session, driven in headless Debian Chromium.

The server's kernels talk to the session's migrated test database (`DATABASE_URL`), keep their
files in a temporary `WORKBENCH_HOME`, and import the package from this checkout. JupyterLab
reads its settings from a temporary directory in which widget state is saved into notebooks and
news checks are off, so nothing reaches outside this machine and nothing in the venv changes.

Tests write a notebook with `write_notebook`, open and run it with `run_notebook_in_lab`, drive
widgets through the locator helpers, and read back what JupyterLab saved with `save_notebook`.
Browser tests never download a browser: they launch /usr/bin/chromium (Debian's `chromium`).
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import nbformat
import pytest
from playwright.sync_api import Browser, Locator, Page, Playwright, sync_playwright
from sqlalchemy.engine import URL

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless=new",
    "--no-sandbox",  # we run as root, where Chromium's sandbox refuses to start
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
REPO_ROOT = Path(__file__).resolve().parents[2]
TEST_ENCRYPTION_KEY = "browser-tests-encryption-key-not-a-secret"
LAB_START_TIMEOUT_S = 90
KERNEL_TIMEOUT_MS = 90_000
RUN_TIMEOUT_S = 120

# User settings JupyterLab reads from JUPYTERLAB_SETTINGS_DIR (plugin id → settings).
LAB_SETTINGS = {
    # Saved notebooks carry widget state, so tests can check what it does (and must not) hold.
    "@jupyter-widgets/jupyterlab-manager/plugin": {"saveState": True},
    # No "official Jupyter news?" toast over the page and no request to the internet.
    "@jupyterlab/apputils-extension/notification": {"fetchNews": "false", "checkForUpdates": False},
}


@dataclass(frozen=True)
class LabServer:
    """A running JupyterLab: where to point the browser and where its notebooks live."""

    base_url: str
    root_dir: Path
    log_path: Path

    def log_tail(self, lines: int = 40) -> str:
        """The end of the server's log, for failure messages."""
        text = self.log_path.read_text(encoding="utf-8", errors="replace")
        return "\n".join(text.splitlines()[-lines:])


# --- the server ---------------------------------------------------------------------------


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def _write_lab_settings(settings_dir: Path) -> None:
    for plugin, values in LAB_SETTINGS.items():
        path = settings_dir / f"{plugin}.jupyterlab-settings"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(values), encoding="utf-8")


def _lab_environment(database_url: URL, scratch: Path) -> dict[str, str]:
    env = dict(os.environ)
    for name in ("settings", "workspaces", "config", "data", "runtime", "ipython", "home"):
        (scratch / name).mkdir()
    _write_lab_settings(scratch / "settings")
    pythonpath = [str(REPO_ROOT), *filter(None, [env.get("PYTHONPATH")])]
    env.update(
        DATABASE_URL=database_url.render_as_string(hide_password=False),
        WORKBENCH_HOME=str(scratch / "home"),
        ENCRYPTION_KEY=TEST_ENCRYPTION_KEY,
        # Kernels import this checkout even where the venv's install points elsewhere (CI).
        PYTHONPATH=os.pathsep.join(pythonpath),
        JUPYTERLAB_SETTINGS_DIR=str(scratch / "settings"),
        JUPYTERLAB_WORKSPACES_DIR=str(scratch / "workspaces"),
        JUPYTER_CONFIG_DIR=str(scratch / "config"),
        JUPYTER_DATA_DIR=str(scratch / "data"),
        JUPYTER_RUNTIME_DIR=str(scratch / "runtime"),
        IPYTHONDIR=str(scratch / "ipython"),
        PYTHONUNBUFFERED="1",
    )
    return env


def _lab_command(port: int, root_dir: Path) -> list[str]:
    return [
        sys.executable,
        "-m",
        "jupyterlab",
        "--allow-root",  # CI and this machine run as root
        "--no-browser",
        "--IdentityProvider.token=",
        "--PasswordIdentityProvider.hashed_password=",
        "--ServerApp.disable_check_xsrf=True",
        "--ServerApp.ip=127.0.0.1",
        f"--ServerApp.port={port}",
        "--ServerApp.port_retries=0",
        f"--ServerApp.root_dir={root_dir}",
        "--LabApp.extension_manager=readonly",  # the PyPI manager would query the internet
    ]


def _get_json(url: str, method: str = "GET") -> object:
    request = urllib.request.Request(url, method=method)
    with urllib.request.urlopen(request, timeout=5) as response:
        body = response.read()
    return json.loads(body) if body else None


def _wait_until_up(process: subprocess.Popen[bytes], lab: LabServer) -> None:
    deadline = time.monotonic() + LAB_START_TIMEOUT_S
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"JupyterLab exited with {process.returncode}:\n{lab.log_tail()}")
        try:
            _get_json(f"{lab.base_url}/api/status")
            return
        except (urllib.error.URLError, ConnectionError, TimeoutError):
            time.sleep(0.25)
    raise RuntimeError(f"JupyterLab gave no answer in {LAB_START_TIMEOUT_S}s:\n{lab.log_tail()}")


def shutdown_kernels(lab: LabServer) -> None:
    """Shut down every kernel the server runs (kernels live in their own process sessions)."""
    kernels = _get_json(f"{lab.base_url}/api/kernels")
    assert isinstance(kernels, list)
    for kernel in kernels:
        _get_json(f"{lab.base_url}/api/kernels/{kernel['id']}", method="DELETE")


def _stop(process: subprocess.Popen[bytes], lab: LabServer) -> None:
    # A server that is already gone has no kernels left to ask about.
    with contextlib.suppress(urllib.error.URLError, ConnectionError, TimeoutError):
        shutdown_kernels(lab)
    if process.poll() is None:
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait(timeout=15)


@pytest.fixture(scope="session")
def lab_server(migrated_url: URL) -> Iterator[LabServer]:
    """JupyterLab on a free port, kernels pointed at the session's test database."""
    with tempfile.TemporaryDirectory(prefix="wb-lab-") as scratch_name:
        scratch = Path(scratch_name)
        root_dir = scratch / "notebooks"
        root_dir.mkdir()
        port = _free_port()
        lab = LabServer(f"http://127.0.0.1:{port}", root_dir, scratch / "lab.log")
        with lab.log_path.open("wb") as log:
            process = subprocess.Popen(
                _lab_command(port, root_dir),
                cwd=root_dir,
                env=_lab_environment(migrated_url, scratch),
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,  # one process group to end at teardown
            )
            try:
                _wait_until_up(process, lab)
                yield lab
            finally:
                _stop(process, lab)


# --- the browser --------------------------------------------------------------------------


# Module scope, not session: while Playwright's sync API is open, its event loop counts as
# running in this thread, so every later test that calls asyncio.run() (the runs tests) would
# fail with "cannot be called from a running event loop".
@pytest.fixture(scope="module")
def playwright_driver() -> Iterator[Playwright]:
    if not CHROMIUM.exists():
        reason = f"{CHROMIUM} is missing: install Debian's package (apt-get install chromium)"
        if os.environ.get("CI"):
            pytest.fail(f"browser tests must run in CI, but {reason}")
        pytest.skip(reason)
    with sync_playwright() as driver:
        yield driver


@pytest.fixture(scope="module")
def chromium(playwright_driver: Playwright) -> Iterator[Browser]:
    """Debian's Chromium, headless; Playwright's own browser downloads are never used."""
    browser = playwright_driver.chromium.launch(
        executable_path=str(CHROMIUM), args=CHROMIUM_ARGS, headless=True
    )
    yield browser
    browser.close()


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Iterator[None]:
    # Lets `browser_page` see whether the test failed, to keep a screenshot of that moment.
    report = yield
    item.stash.setdefault(_FAILED, False)
    if report.failed:
        item.stash[_FAILED] = True
    return report


_FAILED = pytest.StashKey[bool]()


@pytest.fixture
def browser_page(
    request: pytest.FixtureRequest,
    chromium: Browser,
    lab_server: LabServer,
    tmp_path: Path,
) -> Iterator[Page]:
    """A fresh page; the test's kernels are shut down afterwards so the next test starts clean.

    When the test fails, a screenshot of the page is kept and its path printed with the report.
    """
    context = chromium.new_context(viewport={"width": 1280, "height": 1000})
    context.set_default_timeout(30_000)
    page = context.new_page()
    try:
        yield page
        if request.node.stash.get(_FAILED, False):
            screenshot = tmp_path / "failure.png"
            page.screenshot(path=screenshot)
            print(f"screenshot of the failing page: {screenshot}")
    finally:
        context.close()
        shutdown_kernels(lab_server)


# --- notebooks ----------------------------------------------------------------------------


def write_notebook(lab: LabServer, name: str, cells: list[str]) -> Path:
    """Write a Python notebook of code cells into the lab's root directory."""
    notebook = nbformat.v4.new_notebook()
    notebook.metadata["kernelspec"] = {
        "name": "python3",
        "display_name": "Python 3 (ipykernel)",
        "language": "python",
    }
    notebook.cells = [nbformat.v4.new_code_cell(source) for source in cells]
    path = lab.root_dir / name
    nbformat.write(notebook, path)
    return path


def _open_notebook(page: Page, lab: LabServer, name: str) -> None:
    # ?reset: start from an empty workspace, so earlier tests' notebooks are not reopened.
    page.goto(f"{lab.base_url}/lab/tree/{name}?reset")
    page.wait_for_selector(".jp-NotebookPanel .jp-Notebook", timeout=KERNEL_TIMEOUT_MS)
    page.wait_for_function(
        """() => {
            const name = document.querySelector('.jp-NotebookPanel .jp-Toolbar-kernelName');
            const status = document.querySelector('.jp-StatusBar-TextItem[title^="Change kernel"]');
            return name && !name.textContent.includes('No Kernel')
                && status && status.textContent.trim().endsWith('| Idle');
        }""",
        timeout=KERNEL_TIMEOUT_MS,
    )


_RUN_STATE_JS = """() => {
    const prompts = [...document.querySelectorAll(
        '.jp-NotebookPanel .jp-CodeCell .jp-InputArea-prompt')].map(p => p.textContent.trim());
    const status = document.querySelector('.jp-StatusBar-TextItem[title^="Change kernel"]');
    const idle = !!status && status.textContent.trim().endsWith('| Idle');
    return {prompts, idle};
}"""


def _cell_outputs(page: Page) -> str:
    texts = page.locator(".jp-NotebookPanel .jp-OutputArea-output").all_inner_texts()
    return "\n---\n".join(texts)


def _wait_for_run(page: Page) -> None:
    """Wait until every code cell has run; fail fast (with the outputs) if one raised."""
    deadline = time.monotonic() + RUN_TIMEOUT_S
    stalled_since: float | None = None
    while time.monotonic() < deadline:
        state = page.evaluate(_RUN_STATE_JS)
        prompts: list[str] = state["prompts"]
        done = all(p[1:-2].isdigit() for p in prompts)  # "[12]:"
        if done and state["idle"]:
            return
        # Run All stops at a cell that raised: the rest stay "[ ]:" while the kernel idles.
        # Only a state that persists counts, not the instant before the cells are queued.
        stalled = state["idle"] and not any("*" in p for p in prompts)
        stalled_since = (stalled_since or time.monotonic()) if stalled else None
        if stalled_since is not None and time.monotonic() - stalled_since > 3:
            raise AssertionError(f"a cell did not run; prompts {prompts}:\n{_cell_outputs(page)}")
        time.sleep(0.2)
    raise AssertionError(f"cells still running after {RUN_TIMEOUT_S}s:\n{_cell_outputs(page)}")


def run_notebook_in_lab(page: Page, lab: LabServer, notebook_path: Path | str) -> None:
    """Open the notebook in JupyterLab, wait for its kernel, run all cells and wait for them."""
    path = Path(notebook_path)
    name = path.relative_to(lab.root_dir) if path.is_absolute() else path
    _open_notebook(page, lab, name.as_posix())
    page.locator(".lm-MenuBar-itemLabel", has_text=re.compile(r"^Run$")).click()
    # Exactly this label: "Restart Kernel and Run All Cells…" is in the same menu.
    page.locator(".lm-Menu-itemLabel", has_text=re.compile(r"^Run All Cells$")).click()
    _wait_for_run(page)


def save_notebook(page: Page, lab: LabServer, notebook_path: Path | str) -> nbformat.NotebookNode:
    """Save the open notebook with Ctrl+S and return what JupyterLab wrote to disk."""
    path = Path(notebook_path)
    path = path if path.is_absolute() else lab.root_dir / path
    before = path.stat().st_mtime_ns
    page.keyboard.press("Control+s")
    page.wait_for_selector("#jp-main-dock-panel .lm-TabBar-tab.jp-mod-current:not(.jp-mod-dirty)")
    deadline = time.monotonic() + 15
    while path.stat().st_mtime_ns == before:
        if time.monotonic() > deadline:
            raise AssertionError(f"{path.name} was not saved within 15s")
        time.sleep(0.1)
    return nbformat.read(path, as_version=4)


# --- finding widgets ----------------------------------------------------------------------


def widget_button(page: Page, label: str) -> Locator:
    """The ipywidgets Button whose text is `label`."""
    return page.locator(".widget-button", has_text=label)


def _labelled_input(page: Page, kind: str, element: str, description: str | None) -> Locator:
    widgets = page.locator(f".{kind}")
    if description is not None:
        widgets = widgets.filter(has=page.locator(".widget-label", has_text=description))
    return widgets.locator(element)


def text_input(page: Page, description: str | None = None) -> Locator:
    """The <input> of a Text widget, optionally the one whose description is `description`."""
    return _labelled_input(page, "widget-text", 'input[type="text"]', description)


def password_input(page: Page, description: str | None = None) -> Locator:
    """The <input> of a Password widget (ipywidgets renders it as a `.widget-text`)."""
    return _labelled_input(page, "widget-text", 'input[type="password"]', description)


def dropdown_select(page: Page, description: str | None = None) -> Locator:
    """The <select> of a Dropdown widget."""
    return _labelled_input(page, "widget-dropdown", "select", description)


def widget_labels(page: Page) -> Locator:
    """Label widgets (and widget descriptions)."""
    return page.locator(".widget-label")


def widget_html(page: Page) -> Locator:
    """HTML and HTMLMath widgets."""
    return page.locator(".widget-html, .widget-htmlmath")


# --- the layout -----------------------------------------------------------------------------

LAYOUT_PROBLEMS_JS = """(root) => {
    const edge = root.getBoundingClientRect().right;
    const problems = [];
    for (const part of root.querySelectorAll('button, .widget-label, .widget-label-basic')) {
        if (part.offsetParent === null) continue;  // hidden (another tab)
        if (part.scrollWidth > part.clientWidth + 1)  // ellipsis: "Rem...", "Concurre..."
            problems.push('cut short: ' + (part.textContent.trim() || part.title));
    }
    for (const part of root.querySelectorAll('.jupyter-widgets, .widget-label, input, textarea')) {
        if (part.offsetParent === null) continue;
        if (part.getBoundingClientRect().right > edge + 1)
            problems.push('past the edge: ' + (part.className || part.tagName) + ' '
                          + (part.textContent || part.placeholder || '').trim().slice(0, 40));
    }
    return problems;
}"""


def layout_problems(output: Locator) -> list[str]:
    """What is wrong with the layout of the widgets shown in `output`: a button or label cut
    short with an ellipsis ("Rem...", "Concurre..."), a widget past the output's right edge.
    Hidden widgets (another tab) are not looked at."""
    found: list[str] = output.evaluate(LAYOUT_PROBLEMS_JS)
    return found


def screenshot_whole(page: Page, element: Locator, path: Path) -> None:
    """A picture of `element` whole: the page made tall enough for it first (at the same width,
    so the layout is the one tested), then back to its size."""
    size = page.viewport_size
    assert size is not None
    box = element.bounding_box()
    assert box is not None
    page.set_viewport_size({"width": size["width"], "height": int(box["height"]) + 400})
    element.scroll_into_view_if_needed()
    element.screenshot(path=str(path))
    page.set_viewport_size(size)
