"""MCP servers as a run's tool source (issue 20): `workbench.mcp_stdio(command, *args, env=...)`.

The run starts the server (the official `mcp` SDK, the `mcp` extra: `pip install
'workbench[mcp]'`) over stdio, offers its tools to the model and really calls them. A scenario's
mocks still win by name (and a run's live Python functions over both). A failing call (the
server's `is_error`, a timeout, a broken connection) is an error result the model receives, as
for any tool. Servers are stopped when the run ends, on cancel or error too: they live in the
run's own coroutine (`open_servers`), whose exit closes them.

`env` is passed to the server only and never shown (`repr` leaves it out): it may hold keys.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
from collections.abc import AsyncIterator, Callable, Mapping, Sequence
from contextlib import AsyncExitStack, asynccontextmanager
from dataclasses import dataclass, field
from typing import Any

from workbench.errors import ConfigError

CALL_TIMEOUT_S = 60.0
START_TIMEOUT_S = 30.0


@dataclass(frozen=True)
class McpStdio:
    """An MCP server the run starts over stdio. Build it with `workbench.mcp_stdio(...)`."""

    command: str
    args: tuple[str, ...] = ()
    env: Mapping[str, str] | None = field(default=None, repr=False, compare=False)
    call_timeout_s: float = CALL_TIMEOUT_S


def mcp_stdio(
    command: str, *args: str, env: Mapping[str, str] | None = None, timeout_s: float = 60.0
) -> McpStdio:
    """An MCP server as a `tools=` source: `wb.runs.start(..., tools=mcp_stdio("python",
    "server.py"))`, or in a list with a dict of live functions. `timeout_s` bounds each call."""
    return McpStdio(str(command), tuple(str(a) for a in args), dict(env) if env else None,
                    float(timeout_s))  # fmt: skip


@dataclass(frozen=True)
class McpTools:
    """The open servers' tools: definitions for the provider, and a caller per name."""

    definitions: dict[str, Mapping[str, Any]]
    callers: dict[str, Callable[..., Any]]


def _sdk() -> Any:
    try:
        import mcp
        import mcp.client.stdio
    except ImportError:
        raise ConfigError(
            "MCP servers need the official MCP SDK: pip install 'workbench[mcp]'"
        ) from None
    return mcp


@asynccontextmanager
async def open_servers(servers: Sequence[McpStdio]) -> AsyncIterator[McpTools]:
    """Start every server, list its tools; stop them all on the way out, whatever happened."""
    tools = McpTools({}, {})
    if not servers:
        yield tools
        return
    mcp = _sdk()
    async with AsyncExitStack() as stack:
        for server in servers:
            params = mcp.StdioServerParameters(
                command=server.command, args=list(server.args), env=server.env
            )
            read, write = await stack.enter_async_context(mcp.client.stdio.stdio_client(params))
            session = await stack.enter_async_context(mcp.ClientSession(read, write))
            async with asyncio.timeout(START_TIMEOUT_S):
                await session.initialize()
                listed = await session.list_tools()
            for item in listed.tools:
                if item.name in tools.definitions:
                    continue  # the first server offering a name answers it
                tools.definitions[item.name] = {
                    "name": item.name,
                    "description": item.description or "",
                    "parameters": dict(item.input_schema or {"type": "object"}),
                }
                tools.callers[item.name] = _caller(session, item.name, server.call_timeout_s)
        yield tools


def _caller(session: Any, name: str, timeout_s: float) -> Callable[..., Any]:
    async def call(**arguments: Any) -> str:
        try:
            async with asyncio.timeout(timeout_s):
                result = await session.call_tool(name, arguments)
        except TimeoutError:
            raise TimeoutError(f"the MCP server gave no answer within {timeout_s:g} s") from None
        content = getattr(result, "content", None) or []
        text = "".join(str(getattr(part, "text", "")) for part in content)
        if getattr(result, "is_error", False):
            raise RuntimeError(text or "the MCP tool failed")
        return text

    return call


def list_tool_names(servers: Sequence[McpStdio]) -> set[str]:
    """The names the servers offer, asked at start (in a thread: a notebook's loop is running),
    so a check naming one of them is accepted before the run is written."""
    if not servers:
        return set()

    async def names() -> set[str]:
        async with open_servers(servers) as tools:
            return set(tools.definitions)

    with concurrent.futures.ThreadPoolExecutor(max_workers=1) as pool:
        try:
            return pool.submit(asyncio.run, names()).result(timeout=START_TIMEOUT_S * 2)
        except ConfigError:
            raise
        except Exception as failure:
            first = " ".join([servers[0].command, *servers[0].args])[:200]
            raise ConfigError(
                f"An MCP server did not start or list its tools ({type(failure).__name__}: "
                f"{str(failure)[:300]}); check the command ({first!r}) runs on its own."
            ) from None
