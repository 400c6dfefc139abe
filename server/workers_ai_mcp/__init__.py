"""workers-ai-mcp: the Cloudflare Workers AI model catalog as MCP tools."""

__version__ = "0.1.0"
