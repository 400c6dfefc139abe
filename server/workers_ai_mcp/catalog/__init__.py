"""What Workers AI models are and what they take.

The catalog and its caches, deprecations, input and output schemas, chat shapes, schema checks
and schema-driven request builders. Knows Cloudflare's catalog, but neither prices nor MCP;
submodules are imported where used.
"""
