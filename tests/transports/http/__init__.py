"""Tests of `workers_ai_mcp.transports.http`: streamable HTTP, legacy SSE, the gate, and limits under abuse."""
