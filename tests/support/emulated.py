"""Model ids the emulator serves, and which of the requests it recorded ran a model."""

from __future__ import annotations

from workers_ai_mcp.emulator import EmulatorState, RecordedRequest

API = "/client/v4/accounts/test-account/ai"
LLAMA_33 = "@cf/meta/llama-3.3-70b-instruct-fp8-fast"
LLAMA_FP8 = "@cf/meta/llama-3.1-8b-instruct-fp8"
BGE_BASE = "@cf/baai/bge-base-en-v1.5"
M2M = "@cf/meta/m2m100-1.2b"
BART = "@cf/facebook/bart-large-cnn"
DEPRECATED = "@cf/qwen/qwen1.5-7b-chat-awq"  # planned_deprecation_date 2025-10-01 in the published catalog


def model_calls(state: EmulatorState) -> list[RecordedRequest]:
    """Requests that ran a model (directly or through the gateway), not catalog reads."""
    return [r for r in state.requests if "/ai/run/" in r.path or "/workers-ai/" in r.path]


def catalog_reads(state: EmulatorState) -> list[RecordedRequest]:
    return [r for r in state.requests if "/ai/models/" in r.path]
