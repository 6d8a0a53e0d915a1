"""`workbench lab`: JupyterLab on a writable copy of the tutorials, with the database ready."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

from workbench.db.embedded import running_server_url, stop_server
from workbench.lab import copy_tutorials, tutorials_dir

TOKEN = "lab-test-token"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def test_tutorials_are_copied_without_overwriting_the_users_edits(tmp_path: Path) -> None:
    shipped = sorted(path.name for path in tutorials_dir().glob("*.ipynb"))
    assert "01-getting-started.ipynb" in shipped
    edited = tmp_path / "01-getting-started.ipynb"
    edited.write_text("my own edits")
    copied = copy_tutorials(tmp_path)
    assert edited.read_text() == "my own edits"
    assert sorted(path.name for path in copied) == [n for n in shipped if n != edited.name]
    assert sorted(path.name for path in tmp_path.glob("*.ipynb")) == shipped


def test_workbench_lab_serves_the_tutorials_with_the_database_ready(tmp_path: Path) -> None:
    home, target, port = tmp_path / "home", tmp_path / "tutorials", free_port()
    env = {k: v for k, v in os.environ.items() if k != "DATABASE_URL"}
    env.update(WORKBENCH_HOME=str(home), JUPYTER_TOKEN=TOKEN, JUPYTER_CONFIG_DIR=str(tmp_path))
    command = [sys.executable, "-m", "workbench.cli", "lab", "--no-browser", "--port", str(port)]
    process = subprocess.Popen(
        [*command, "--dir", str(target)],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    try:
        listing = wait_for_contents(port, process)
        assert "01-getting-started.ipynb" in {item["name"] for item in listing["content"]}
        assert running_server_url(home / "data" / "pg") is not None  # started, and upgraded
    finally:
        os.killpg(process.pid, signal.SIGTERM)
        process.wait(timeout=30)
        stop_server(home / "data" / "pg")


def wait_for_contents(
    port: int, process: subprocess.Popen[bytes]
) -> dict[str, list[dict[str, str]]]:
    url = f"http://127.0.0.1:{port}/api/contents?token={TOKEN}"
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        if process.poll() is not None:
            output = process.stdout.read().decode() if process.stdout else ""
            raise AssertionError(f"workbench lab exited {process.returncode}:\n{output}")
        try:
            with urllib.request.urlopen(url, timeout=5) as response:
                return dict(json.load(response))
        except OSError:
            time.sleep(0.5)
    raise AssertionError("JupyterLab did not answer within 120 s")
