"""Our layer between the MCP SDK and the tools: what every tool needs, written once.

- `registry`: what tool modules register into; `tool`: the tool class (argument errors in
  sentences, every anticipated failure translated, the result cap, protocol fitting via `protocol`);
- `results`: the media output pipeline (`media_result`: save, show per the policy of
  `media_blocks`, link via `links`); `progress`: heartbeat and stream progress;
- `samples`: the words of each module's `SAMPLES`; `budgets`: the tools/list byte budget;
- `common`, `arguments`, `schemas`, `call_info`: shared annotations, argument errors, schema
  compaction, per-call notes.
"""
