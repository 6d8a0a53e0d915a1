"""Running JupyterLab as `workbench lab`'s child: its settings, and stopping all of it.

JupyterLab runs in its own session (process group), so a Ctrl-C in the terminal reaches only
`workbench lab`, which then stops the lab with SIGTERM (SIGINT would make JupyterLab ask
"Shutdown this Jupyter server (y/[n])?" and wait). Kernels start in sessions of their own
(jupyter_client does that to interrupt them), so they are not in the lab's group: the lab shuts
them down itself on SIGTERM, and anything still alive afterwards is stopped here by pid.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
from collections.abc import Sequence
from pathlib import Path
from types import FrameType
from typing import Any

# The announcements plugin (the "news" pop-up and the update check) reads these settings.
# Written as default overrides: a setting the user changes in JupyterLab still wins.
NEWS_OFF = {
    "@jupyterlab/apputils-extension:notification": {"fetchNews": "false", "checkForUpdates": False}
}
GRACE_SECONDS = 15.0
"""How long JupyterLab gets to shut its kernels down before it is killed."""
STOP_SIGNALS = (signal.SIGTERM, signal.SIGINT, signal.SIGHUP)


def lab_config_dir(base: Path) -> Path:
    """A Jupyter config directory holding the workbench's default setting overrides."""
    labconfig = base / "labconfig"
    labconfig.mkdir(parents=True, exist_ok=True)
    overrides = labconfig / "default_setting_overrides.json"
    overrides.write_text(json.dumps(NEWS_OFF, indent=2) + "\n", encoding="utf-8")
    return base


def lab_environment(config: Path) -> dict[str, str]:
    """The child's environment: ours, with the override directory first on the config path."""
    env = dict(os.environ)
    rest = env.get("JUPYTER_CONFIG_PATH")
    env["JUPYTER_CONFIG_PATH"] = os.pathsep.join([str(config), *([rest] if rest else [])])
    return env


class _Stop(Exception):
    def __init__(self, signum: int) -> None:
        super().__init__(signum)
        self.signum = signum


def run_supervised(command: Sequence[str], env: dict[str, str]) -> int:
    """Run `command` in its own session; SIGTERM, SIGINT or SIGHUP stops it and its kernels.

    Returns the child's exit code, or 128 + the signal's number when stopped by one.
    """

    def stop(signum: int, frame: FrameType | None) -> None:
        raise _Stop(signum)

    previous: dict[signal.Signals, Any] = {}
    process = subprocess.Popen(list(command), env=env, start_new_session=True)
    try:
        for signum in STOP_SIGNALS:
            previous[signum] = signal.signal(signum, stop)
        return process.wait()
    except _Stop as stopped:
        stop_tree(process)
        return 128 + stopped.signum
    finally:
        for signum, handler in previous.items():
            signal.signal(signum, handler)
        if process.poll() is None:  # any other way out (an error here) still stops the lab
            stop_tree(process)


def stop_tree(process: subprocess.Popen[Any]) -> None:
    """SIGTERM the lab's group, wait, SIGKILL what is left, then every descendant seen."""
    import psutil

    try:
        descendants = psutil.Process(process.pid).children(recursive=True)
    except psutil.NoSuchProcess:
        descendants = []
    _signal_group(process.pid, signal.SIGTERM)
    try:
        process.wait(timeout=GRACE_SECONDS)
    except subprocess.TimeoutExpired:
        _signal_group(process.pid, signal.SIGKILL)
        process.wait(timeout=GRACE_SECONDS)
    _signal_group(process.pid, signal.SIGKILL)  # helpers the lab left in its group
    alive = [p for p in descendants if p.is_running()]
    for child in alive:
        _quietly(child.terminate)
    _, still = psutil.wait_procs(alive, timeout=5)
    for child in still:
        _quietly(child.kill)
    psutil.wait_procs(still, timeout=5)


def _signal_group(pgid: int, signum: int) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):  # the group is gone already
        os.killpg(pgid, signum)


def _quietly(action: Any) -> None:
    import psutil

    with contextlib.suppress(psutil.NoSuchProcess):
        action()
