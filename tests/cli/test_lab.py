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

from workbench.cli.lab import copy_tutorials, tutorials_dir
from workbench.db.embedded import running_server_url, stop_server

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
        assert_saved_notebooks_hold_no_typed_password(port, target)
    finally:
        os.killpg(process.pid, signal.SIGTERM)
        process.wait(timeout=30)
        stop_server(home / "data" / "pg")


def assert_saved_notebooks_hold_no_typed_password(port: int, target: Path) -> None:
    """What the front end sends on save, with an unsaved key in a password widget's state."""
    typed = "sk-typed-but-never-saved-0123456789"
    state = {
        "model_name": "PasswordModel",
        "model_module": "@jupyter-widgets/controls",
        "state": {"value": typed, "description": "API key"},
    }
    widgets = {"application/vnd.jupyter.widget-state+json": {"state": {"m1": state}}}
    notebook = {
        "nbformat": 4,
        "nbformat_minor": 5,
        "metadata": {"widgets": widgets},
        "cells": [],
    }
    body = json.dumps({"type": "notebook", "format": "json", "content": notebook}).encode()
    request = urllib.request.Request(
        f"http://127.0.0.1:{port}/api/contents/keys.ipynb?token={TOKEN}", data=body, method="PUT"
    )
    with urllib.request.urlopen(request, timeout=30):
        pass
    saved = (target / "keys.ipynb").read_text()
    assert "PasswordModel" in saved and typed not in saved


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


def start_lab(tmp_path: Path) -> tuple[subprocess.Popen[bytes], int, Path]:
    home, target, port = tmp_path / "home", tmp_path / "tutorials", free_port()
    env = {k: v for k, v in os.environ.items() if k != "DATABASE_URL"}
    env.update(WORKBENCH_HOME=str(home), JUPYTER_TOKEN=TOKEN, JUPYTER_CONFIG_DIR=str(tmp_path))
    command = [sys.executable, "-m", "workbench.cli", "lab", "--no-browser", "--port", str(port)]
    process = subprocess.Popen(
        [*command, "--dir", str(target)],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    wait_for_contents(port, process)
    return process, port, home


def api(port: int, path: str, method: str = "GET") -> object:
    request = urllib.request.Request(
        f"http://127.0.0.1:{port}{path}?token={TOKEN}",
        method=method,
        data=b"{}" if method == "POST" else None,
    )
    with urllib.request.urlopen(request, timeout=30) as response:
        return json.load(response)


def port_is_free(port: int) -> bool:
    """Nothing listens on it, and a new server can take it (as JupyterLab would: SO_REUSEADDR,
    since the closed connections of the test linger in TIME_WAIT)."""
    with socket.socket() as probe:
        if probe.connect_ex(("127.0.0.1", port)) == 0:
            return False
    with socket.socket() as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind(("127.0.0.1", port))
            sock.listen()
        except OSError:
            return False
        return True


def test_sigterm_stops_jupyterlab_and_its_kernels_and_the_news_is_off(tmp_path: Path) -> None:
    import psutil

    process, port, home = start_lab(tmp_path)
    try:
        settings = api(port, "/lab/api/settings/@jupyterlab/apputils-extension:notification")
        assert isinstance(settings, dict)
        # Default overrides change the schema's defaults: a user's own choice still wins.
        defaults = settings["schema"]["properties"]
        assert defaults["fetchNews"]["default"] == "false"
        assert defaults["checkForUpdates"]["default"] is False
        api(port, "/api/kernels", method="POST")
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:  # the kernel process appears under the lab
            children = psutil.Process(process.pid).children(recursive=True)
            if any("ipykernel" in " ".join(child.cmdline()) for child in children):
                break
            time.sleep(0.5)
        else:
            raise AssertionError("no kernel process appeared within 60 s")
        lab_and_kernels = [p for p in children if p.is_running()]
        assert len(lab_and_kernels) >= 2

        os.kill(process.pid, signal.SIGTERM)  # the supervisor alone, as systemd or a hub would
        assert process.wait(timeout=60) == 128 + signal.SIGTERM

        _, alive = psutil.wait_procs(lab_and_kernels, timeout=10)
        assert alive == [], f"still running after workbench lab stopped: {alive}"
        assert port_is_free(port)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait(timeout=30)
        stop_server(home / "data" / "pg")
