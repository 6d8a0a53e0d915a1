"""A real JupyterHub on loopback for tests: the docs' `jupyterhub_config.py`, its REST API, and
cells run in a user's kernel through the hub's proxy.

The config is the one docs/isolation.md gives, taken from the page itself, followed by settings
only a test needs (free ports, the hub's state database, the proxy's path, an admin token, a
scratch home per user, `--allow-root`). Docs and test cannot drift apart.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import subprocess
import time
import urllib.error
import urllib.request
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import psutil
import pytest
import websocket

REPO_ROOT = Path(__file__).resolve().parents[2]
DOCS_PAGE = REPO_ROOT / "docs" / "isolation.md"
CHP_CACHE = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / (
    "workbench-tests/chp"
)
START_TIMEOUT_S = 120  # the hub, or one user's server, on a loaded 2-core machine
STOP_TIMEOUT_S = 60
CELL_TIMEOUT_S = 120
PROXY = "configurable-http-proxy"
# The tests run as root; the lab's PyPI extension manager would query the internet.
SERVER_ARGS = ["--allow-root", "--LabApp.extension_manager=readonly"]


def docs_config() -> str:
    """The complete `jupyterhub_config.py` of docs/isolation.md, as the page prints it."""
    page = DOCS_PAGE.read_text(encoding="utf-8")
    blocks = re.findall(r"```python\n(.*?)```", page, flags=re.DOTALL)
    configs = [block for block in blocks if block.startswith("# jupyterhub_config.py")]
    assert len(configs) == 1, f"{DOCS_PAGE} should hold one jupyterhub_config.py block"
    return configs[0]


def configurable_http_proxy() -> str:
    """The proxy's executable: on PATH, else installed from npm into a cache kept between runs."""
    found = shutil.which(PROXY)
    cached = CHP_CACHE / "node_modules" / ".bin" / PROXY
    if found or cached.exists():
        return found or str(cached)
    npm, node = shutil.which("npm"), shutil.which("node")
    if npm is None or node is None:
        reason = "npm and node are needed to install configurable-http-proxy (apt-get install npm)"
        if os.environ.get("CI"):
            pytest.fail(f"the real-JupyterHub test must run in CI, but {reason}")
        pytest.skip(reason)
    CHP_CACHE.mkdir(parents=True, exist_ok=True)
    installed = subprocess.run(
        [npm, "install", "--prefix", str(CHP_CACHE), "--no-audit", "--no-fund", "--", PROXY],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert installed.returncode == 0 and cached.exists(), (
        f"npm install configurable-http-proxy failed:\n{installed.stdout}\n{installed.stderr}"
    )
    return str(cached)


@dataclass(frozen=True)
class HubSettings:
    """What the test adds to the docs' config: nothing here changes what the hooks do."""

    port: int
    hub_port: int
    proxy_api_port: int
    proxy_command: str
    state_db_url: str
    """The hub's own state (`postgresql+psycopg://`), a scratch database, not the workbench's."""
    scratch: Path
    admin_token: str

    def config_lines(self) -> str:
        admin = {"name": "workbench-test", "api_token": self.admin_token}
        scopes = ["admin:users", "admin:servers", "tokens", "access:servers"]
        return "\n".join(
            [
                "# --- test settings (tests/security/real_hub.py) ---",
                f"c.JupyterHub.bind_url = 'http://127.0.0.1:{self.port}'",
                f"c.JupyterHub.hub_bind_url = 'http://127.0.0.1:{self.hub_port}'",
                f"c.ConfigurableHTTPProxy.api_url = 'http://127.0.0.1:{self.proxy_api_port}'",
                f"c.ConfigurableHTTPProxy.command = [{self.proxy_command!r}]",
                f"c.JupyterHub.db_url = {self.state_db_url!r}",
                f"c.JupyterHub.cookie_secret_file = {str(self.scratch / 'cookie_secret')!r}",
                f"c.JupyterHub.services.append({admin!r})",
                "c.JupyterHub.load_roles.append({'name': 'workbench-test-admin', "
                f"'scopes': {scopes!r}, 'services': ['workbench-test']}})",
                f"c.SimpleLocalProcessSpawner.home_dir_template = "
                f"{str(self.scratch / 'home' / '{username}')!r}",
                f"c.Spawner.args = {SERVER_ARGS!r}",
                f"c.Spawner.start_timeout = {START_TIMEOUT_S}",
                f"c.Spawner.http_timeout = {START_TIMEOUT_S}",
                "",
            ]
        )


@dataclass
class RealHub:
    """A running hub: its public URL (the proxy), the admin token, its process and log."""

    base_url: str
    admin_token: str
    process: subprocess.Popen[bytes]
    log_path: Path
    processes: list[psutil.Process] = field(default_factory=list)

    def log_tail(self, lines: int = 60) -> str:
        text = self.log_path.read_text(encoding="utf-8", errors="replace")
        return "\n".join(text.splitlines()[-lines:])

    def api(self, method: str, path: str, body: object = None, token: str | None = None) -> Any:
        """One hub REST API call (`/hub/api/...`); a refusal fails with the hub's log tail."""
        status, answer = request(
            method, f"{self.base_url}/hub/api{path}", token or self.admin_token, body
        )
        assert status < 400, f"{method} {path} answered {status}: {answer}\n{self.log_tail()}"
        return answer

    def wait_until(self, what: str, done: Any, timeout_s: float = START_TIMEOUT_S) -> Any:
        """Poll `done()` until it returns something truthy; fail naming `what` otherwise."""
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                pytest.fail(f"the hub exited ({self.process.returncode}):\n{self.log_tail()}")
            result = done()
            if result:
                return result
            time.sleep(0.5)
        pytest.fail(f"{what}: not within {timeout_s:.0f} s. Hub log:\n{self.log_tail()}")

    def server(self, name: str) -> dict[str, Any] | None:
        """The user's default server as the hub reports it, None when there is none."""
        servers = self.api("GET", f"/users/{name}").get("servers") or {}
        server: dict[str, Any] | None = servers.get("")
        return server

    def start_server(self, name: str) -> None:
        self.api("POST", f"/users/{name}/server")
        self.wait_until(f"{name}'s server ready", lambda: (self.server(name) or {}).get("ready"))
        self.remember_processes()

    def stop_server(self, name: str, timeout_s: float = STOP_TIMEOUT_S) -> None:
        """Stop the server and wait until the hub has finished (post_stop_hook included)."""
        if self.server(name) is not None:
            self.api("DELETE", f"/users/{name}/server")
        self.wait_until(f"{name}'s server stopped", lambda: self.server(name) is None, timeout_s)

    def remember_processes(self) -> None:
        """Note the hub's descendants (proxy, servers, kernels) so teardown can end stragglers."""
        for child in psutil.Process(self.process.pid).children(recursive=True):
            if child not in self.processes:
                self.processes.append(child)

    def user_token(self, name: str) -> str:
        token: str = self.api("POST", f"/users/{name}/tokens", {"note": "test"})["token"]
        return token


def request(method: str, url: str, token: str, body: object = None) -> tuple[int, Any]:
    data = None if body is None else json.dumps(body).encode()
    headers = {"Authorization": f"token {token}", "Content-Type": "application/json"}
    req = urllib.request.Request(url, data=data, method=method, headers=headers)
    try:
        with urllib.request.urlopen(req, timeout=30) as response:
            raw = response.read()
            return response.status, json.loads(raw) if raw else None
    except urllib.error.HTTPError as error:
        return error.code, error.read().decode(errors="replace")


def start_hub(settings: HubSettings, environment: dict[str, str], extra: str = "") -> RealHub:
    """Write the docs' config (plus `extra`, more of the docs' lines) and the test settings,
    start the hub, wait for its API."""
    config = settings.scratch / "jupyterhub_config.py"
    text = "\n".join([docs_config(), extra, settings.config_lines()])
    config.write_text(text, encoding="utf-8")
    log_path = settings.scratch / "hub.log"
    with log_path.open("wb") as log:
        process = subprocess.Popen(
            ["jupyterhub", "-f", str(config)],
            cwd=settings.scratch,
            env=environment,
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # one process group to end at teardown
        )
    hub = RealHub(f"http://127.0.0.1:{settings.port}", settings.admin_token, process, log_path)
    try:
        hub.wait_until("the hub's API answering", lambda: _answers(f"{hub.base_url}/hub/api/"))
    except BaseException:
        stop_hub(hub, [])  # the fixture's teardown never runs for a hub that did not start
        raise
    hub.remember_processes()
    return hub


def _answers(url: str) -> bool:
    try:
        return request("GET", url, "")[0] == 200
    except (urllib.error.URLError, ConnectionError, TimeoutError):
        return False


def stop_hub(hub: RealHub, users: list[str]) -> None:
    """Stop every server (their post-stop hooks run), then the hub; kill whatever is left."""
    try:
        if hub.process.poll() is None:
            for name in users:
                hub.stop_server(name)
    finally:
        if hub.process.poll() is None:
            hub.remember_processes()
            os.killpg(hub.process.pid, signal.SIGTERM)  # the hub cleans up proxy and servers
            try:
                hub.process.wait(timeout=STOP_TIMEOUT_S)
            except subprocess.TimeoutExpired:
                os.killpg(hub.process.pid, signal.SIGKILL)
                hub.process.wait(timeout=STOP_TIMEOUT_S)
        for straggler in hub.processes:  # servers and kernels run in sessions of their own
            if straggler.is_running():
                straggler.kill()


class Kernel:
    """A python3 kernel in a user's server, reached through the hub's proxy with their token."""

    def __init__(self, hub: RealHub, user: str, token: str) -> None:
        self.hub, self.base = hub, f"{hub.base_url}/user/{user}/api/kernels"
        self.token = token
        status, model = request("POST", self.base, token, {"name": "python3"})
        assert status == 201, f"starting {user}'s kernel: {status} {model}\n{hub.log_tail()}"
        self.id = model["id"]
        self.session = uuid.uuid4().hex
        self.socket = websocket.create_connection(
            self.base.replace("http://", "ws://") + f"/{self.id}/channels",
            header=[f"Authorization: token {token}"],
            suppress_origin=True,
            timeout=CELL_TIMEOUT_S,
        )

    def run(self, code: str) -> Any:
        """Run a cell; its last line of output, parsed as JSON. A cell error fails the test."""
        msg_id = uuid.uuid4().hex
        header = {"msg_id": msg_id, "msg_type": "execute_request", "session": self.session}
        content = {"code": code, "silent": False, "store_history": False, "allow_stdin": False}
        self.socket.send(
            json.dumps(
                {
                    "header": {**header, "username": "test", "version": "5.3"},
                    "parent_header": {},
                    "metadata": {},
                    "content": {**content, "user_expressions": {}, "stop_on_error": True},
                    "channel": "shell",
                    "buffers": [],
                }
            )
        )
        return self._outcome(msg_id)

    def _outcome(self, msg_id: str) -> Any:
        output, replied, idle = "", False, False
        deadline = time.monotonic() + CELL_TIMEOUT_S
        while not (replied and idle):
            assert time.monotonic() < deadline, f"no reply in {CELL_TIMEOUT_S} s"
            message = json.loads(self.socket.recv())
            if message.get("parent_header", {}).get("msg_id") != msg_id:
                continue
            kind, content = message["msg_type"], message["content"]
            if kind == "stream":
                output += content["text"]
            elif kind == "error":
                pytest.fail("the cell failed:\n" + "\n".join(content["traceback"]))
            replied = replied or kind == "execute_reply"
            idle = idle or (kind == "status" and content["execution_state"] == "idle")
        return json.loads(output.strip().splitlines()[-1])

    def close(self) -> None:
        """Close the socket and shut the kernel down (else it outlives its stopped server)."""
        self.socket.close()
        request("DELETE", f"{self.base}/{self.id}", self.token)
