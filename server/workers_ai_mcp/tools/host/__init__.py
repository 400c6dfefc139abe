"""Our layer between the MCP SDK and the tools.

The registry, the tool class (argument errors, error translation, protocol fitting), results
(content blocks, caps, links) and progress: what every tool needs, written once.
"""
