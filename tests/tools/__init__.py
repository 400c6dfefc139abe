"""Tests of `workers_ai_mcp.tools`: each tool family through a real MCP session, and the tool list."""
