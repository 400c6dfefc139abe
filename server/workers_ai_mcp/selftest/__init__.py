"""`workers-ai-mcp selftest`: every tool called once through a real MCP session, with sample arguments."""
