"""The tools/list byte budgets, in one place: read by tests/tools/test_tools_list.py and bench/tools_size.py.

Every tool's schema costs the assistant context in every conversation, so the list has a ceiling
(DESIGN §10 allows 28 KB for all tools and 14 KB for the text tools: both are held to that, the
documents, AI Search and adapter tools declaring no output schemas so as to fit). Sizes are bytes
of compact JSON: the whole `tools/list` result (`{"tools": [...]}`), and the list of the text tools
alone (those of `TEXT_FAMILIES`, the modules that register them, so that a new text tool counts
without being named here).
"""

from __future__ import annotations

TOOLS_LIST_BYTES = 28_000  # DESIGN §10's ceiling for all tools together
TEXT_TOOLS_BYTES = 14_000
TEXT_FAMILIES = frozenset({"text", "language", "embeddings", "generic", "catalog"})
