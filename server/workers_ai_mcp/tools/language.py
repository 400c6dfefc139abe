"""Language tools: translate, summarize, classify_text."""

from __future__ import annotations

from typing import Annotated

from mcp.server import MCPServer
from pydantic import BaseModel, Field

from ..client import JsonResult
from ..client.errors import ResponseDecodeError
from ..jsonvalues import as_dict
from ..state import AppState
from ._common import AppContext, add_inference_tool, model_param, state_of, tool_errors

LanguageCode = Annotated[
    str,
    Field(
        min_length=2,
        max_length=16,
        pattern=r"^[A-Za-z]{2,3}([_-][A-Za-z0-9]{2,8})?$",
        description="Language code such as 'en', 'fr', 'de', 'ja', or a name-like code the model knows.",
    ),
]


class Translation(BaseModel):
    """A translated text."""

    translated_text: str = Field(description="The text in the target language.")
    source_lang: str
    target_lang: str
    model: str


@tool_errors
async def translate(
    text: Annotated[str, Field(min_length=1, max_length=20_000, description="The text to translate.")],
    target_lang: LanguageCode,
    ctx: AppContext,
    source_lang: Annotated[LanguageCode, Field(description="Language of `text` (default 'en').")] = "en",
    model: Annotated[str | None, model_param("translation")] = None,
) -> Translation:
    """Translate text between languages with a Workers AI translation model (m2m100 by default, 100 languages)."""
    state = state_of(ctx)
    chosen = model or state.settings.translate_model
    result = await state.client.run(chosen, {"text": text, "source_lang": source_lang, "target_lang": target_lang})
    data = as_dict(result.data) if isinstance(result, JsonResult) else {}
    translated = data.get("translated_text")
    if not isinstance(translated, str):
        raise ResponseDecodeError(f"{chosen} answered without a translated_text; is it a translation model?")
    return Translation(translated_text=translated, source_lang=source_lang, target_lang=target_lang, model=chosen)


def register(server: MCPServer[AppState]) -> None:
    """Add the language tools to `server`."""
    add_inference_tool(server, translate, title="Translate text")
