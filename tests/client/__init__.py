"""Tests of `workers_ai_mcp.client`: HTTP to Workers AI and the AI Gateway, errors, retries, caps."""
