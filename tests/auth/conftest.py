"""Fixtures for the public sign-in functions: a committed database, a JupyterHub stand-in."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from sqlalchemy import delete

from workbench.db.engine import Database
from workbench.db.workbench_models import SignInFailure


@pytest.fixture
def url(committed_db: Database, isolated_home: Path) -> Iterator[str]:
    """The test database's URL, with real commits (emptied afterwards) and a private home."""
    yield committed_db.url.render_as_string(hide_password=False)
    with committed_db.transaction() as session:
        session.execute(delete(SignInFailure))


class HubStandIn:
    """What a JupyterHub answers on `GET /hub/api/user`: the model of the token's owner."""

    def __init__(self) -> None:
        self.users: dict[str, str] = {}  # token -> hub user name
        self.authorizations: list[str] = []
        self.body: bytes | None = None  # set to answer every request with these bytes
        stand_in = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                authorization = self.headers.get("Authorization", "")
                stand_in.authorizations.append(authorization)
                name = stand_in.users.get(authorization.removeprefix("token "))
                if self.path != "/hub/api/user" or (name is None and stand_in.body is None):
                    self.send_error(403 if self.path == "/hub/api/user" else 404)
                    return
                body = stand_in.body or json.dumps({"name": name, "kind": "user"}).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, format: str, *args: object) -> None:
                pass  # keep the test output quiet

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.api_url = f"http://127.0.0.1:{self.server.server_address[1]}/hub/api"


@pytest.fixture
def hub(monkeypatch: pytest.MonkeyPatch) -> Iterator[HubStandIn]:
    """A hub on loopback that knows token `alice-token`, with the hub's variables set."""
    stand_in = HubStandIn()
    stand_in.users["alice-token"] = "alice"
    thread = threading.Thread(target=stand_in.server.serve_forever, daemon=True)
    thread.start()
    monkeypatch.setenv("JUPYTERHUB_API_URL", stand_in.api_url)
    monkeypatch.setenv("JUPYTERHUB_API_TOKEN", "alice-token")
    yield stand_in
    stand_in.server.shutdown()
    stand_in.server.server_close()
    thread.join()
