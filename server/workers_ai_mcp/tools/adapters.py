"""list_finetunes: the LoRA adapters a model call can use (the account's and Cloudflare's public ones).

An adapter is passed by id or name as `lora` (run_model's input, and the text tools'); each is trained
for one base model, which this list names, so the assistant can pick the model that takes it.
"""

from __future__ import annotations

from typing import Annotated

from mcp.types import CallToolResult, TextContent
from pydantic import BaseModel, Field

from ..catalog.finetunes import adapters
from .host.common import CATALOG, AppContext, state_of
from .host.registry import Registry
from .host.samples import Samples


class Finetune(BaseModel):
    id: str
    name: str
    base_model: str = Field(description="The model this adapter runs on.")
    public: bool = Field(description="Published by Cloudflare rather than the account's own.")
    description: str | None = None


class Finetunes(BaseModel):
    """LoRA adapters, the account's first."""

    finetunes: list[Finetune]


async def list_finetunes(
    ctx: AppContext,
    base_model: Annotated[str | None, Field(max_length=160, description="Only adapters of this model.")] = None,
) -> CallToolResult:
    """List LoRA adapters (the account's and public ones): id, name and base model, for `lora`."""
    state = state_of(ctx)
    found = await adapters(state.ai.client, state.settings)
    rows = [
        Finetune(id=a.id, name=a.name, base_model=a.base_model, public=a.public, description=a.description)
        for a in found
        if base_model is None or a.base_model == base_model
    ]
    text = Finetunes(finetunes=rows).model_dump_json(exclude_none=True)
    return CallToolResult(content=[TextContent(type="text", text=text)])  # no output schema: tools/list stays small


SAMPLES: Samples = {"list_finetunes": {}}


def register(server: Registry) -> None:
    """Add list_finetunes to `server`."""
    server.add_tool(list_finetunes, title="List LoRA adapters", annotations=CATALOG, structured_output=False)
