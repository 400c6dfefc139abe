"""Tests of `workers_ai_mcp.tools.host`: the tool class, argument errors, schemas, protocol fitting, result blocks."""
