"""Model ids are checked against a strict pattern before any request is built."""

from __future__ import annotations

import pytest

from workers_ai_mcp.client import InvalidRequestError, check_model_id
from workers_ai_mcp.tools.host.advice import error_text


@pytest.mark.parametrize(
    "model",
    [
        "@cf/meta/llama-3.1-8b-instruct-fp8",
        "@cf/qwen/qwen1.5-0.5b-chat",
        "@hf/thebloke/deepseek-coder-6.7b-base-awq",
        "@cf/black-forest-labs/flux-1-schnell",
        "@cf/meta-llama/llama-2-7b-chat-hf-lora",
        "@cf/moondream/moondream3.1-9B-A2B",
        "@cf/openai/gpt-oss-120b",
    ],
)
def test_real_catalog_ids_are_accepted(model: str) -> None:
    assert check_model_id(model) == model


@pytest.mark.parametrize(
    "model",
    [
        "@cf/../../user/tokens",
        "@cf/meta/../../../user/tokens/verify",
        "@cf/meta/llama..x",
        "@cf/meta/llama%2F..",
        "@cf/meta/llama?x=1",
        "@cf/meta/llama#frag",
        "@cf/meta\\llama",
        "@cf/meta/llama 3",
        "@cf/meta/llama\n",
        "@cf/meta/llama/extra",
        "@cf/meta",
        "meta/llama-3",
        "@xx/meta/llama",
        "",
        "@cf//llama",
        "@cf/meta/-llama",
        "@cf/meta/" + "a" * 200,
    ],
)
def test_crafted_or_malformed_ids_are_refused_with_guidance(model: str) -> None:
    with pytest.raises(InvalidRequestError, match="ids look like @cf/<author>/<name>") as caught:
        check_model_id(model)
    assert "list_models" not in str(caught.value)  # the client names no tools; the tools word the next step
    assert error_text(caught.value).endswith("@cf/meta/llama-3.1-8b-instruct-fp8 (call list_models to find one).")
