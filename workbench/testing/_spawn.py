"""`StandIn.spawn(...)`: the stand-in in its own process, for benchmarks (no shared core or GIL).

Options travel as JSON on the command line, so only JSON-safe ones work (no reply functions).
The child prints its port, serves until the parent stops it or `max_lifetime_s` passes, and dies
with its parent's pipe (stdin closed -> exit), so a crashed benchmark leaves no server behind.
"""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
import threading
import urllib.request
from typing import Any


class SpawnedStandIn:
    def __init__(self, options: dict[str, Any]) -> None:
        self.options = {"max_lifetime_s": 300.0, **options}
        self.host = str(self.options.get("host", "127.0.0.1"))
        self.port = 0
        self._process: subprocess.Popen[str] | None = None

    @property
    def base_url(self) -> str:
        return f"http://{self.host}:{self.port}"

    @property
    def openai_base_url(self) -> str:
        return self.base_url + "/v1"

    @property
    def pid(self) -> int | None:
        return self._process.pid if self._process else None

    def stats(self) -> dict[str, Any]:
        with urllib.request.urlopen(self.base_url + "/_stats", timeout=5) as answer:
            result: dict[str, Any] = json.load(answer)
        return result

    def reset(self) -> None:
        """Counts, peak and `first_request_at` cleared, as `StandIn.reset()`."""
        request = urllib.request.Request(self.base_url + "/_reset", data=b"", method="POST")
        with urllib.request.urlopen(request, timeout=5):
            pass

    def first_request_at(self) -> float | None:
        """The `time.time()` at which the first request since `reset()` arrived, if one did."""
        value = self.stats().get("first_request_at")
        return None if value is None else float(value)

    def __enter__(self) -> SpawnedStandIn:
        command = [sys.executable, "-m", "workbench.testing._spawn", json.dumps(self.options)]
        self._process = subprocess.Popen(
            command, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True
        )
        assert self._process.stdout is not None
        line = self._process.stdout.readline()
        if not line.strip().isdigit():
            self.__exit__()
            raise RuntimeError(f"the spawned stand-in did not start: {line!r}")
        self.port = int(line)
        return self

    def __exit__(self, *exc: object) -> None:
        process = self._process
        if process is None:
            return
        if process.stdin is not None:
            process.stdin.close()  # the child's watcher sees EOF and stops the server
        try:
            process.wait(10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(10)
        self._process = None


def main(argv: list[str]) -> None:
    from workbench.testing.standin import StandIn

    server = StandIn(**json.loads(argv[0]))

    async def run() -> None:
        loop = asyncio.get_running_loop()
        stopped = asyncio.Event()

        def watch_parent() -> None:
            sys.stdin.read()  # returns at EOF: the parent closed our stdin or died
            loop.call_soon_threadsafe(stopped.set)

        def ready() -> None:
            print(server.port, flush=True)
            threading.Thread(target=watch_parent, daemon=True).start()

        serving = asyncio.create_task(server.serve(ready))
        waiting = asyncio.create_task(stopped.wait())
        await asyncio.wait([serving, waiting], return_when=asyncio.FIRST_COMPLETED)
        if server._stop is not None:
            server._stop.set()
        await serving

    asyncio.run(run())


if __name__ == "__main__":
    main(sys.argv[1:])
