"""A tiny MCP server over stdio for the tests (the official SDK's MCPServer): orders tools."""

from __future__ import annotations

import json
import os
import time

from mcp.server.mcpserver import MCPServer
from mcp.server.mcpserver.exceptions import ToolError

server = MCPServer("orders")


@server.tool()
def lookup_order(order_id: str) -> str:
    """Look up an order by its id."""
    return json.dumps({"status": f"mcp {order_id}", "region": os.environ.get("REGION", "?")})


@server.tool()
def issue_refund(order_id: str) -> str:
    """Refund an order (always refused: a tool's own error, which the model should see)."""
    raise ToolError(f"refunds for {order_id} are closed")


@server.tool()
def slow_lookup(order_id: str) -> str:
    """Look up an order, very slowly (for cancelling a run while a call is in flight)."""
    time.sleep(30)
    return "late"


if __name__ == "__main__":
    server.run()
