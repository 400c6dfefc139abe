"""The Workers AI account as the tools use it: the catalog, model inputs, pricing, spending and inference.

Layer order (imports point down only): tools → account → client; tools → media. This package
knows Cloudflare's catalog and prices but not MCP; `inference.WorkersAI` is the one object tools
call for inference (guard → client → settle). Submodules are imported where used, so that
importing one of them (`defaults` from settings) stays cheap.
"""
