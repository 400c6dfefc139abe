"""Tests of `workers_ai_mcp.spending`: prices, the budget and usage, the state store shared by processes."""
