"""Serving the MCP server: stdio (with the one private SDK reach) and HTTP (legacy SSE, streamable HTTP)."""
