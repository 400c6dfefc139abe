"""Language tools: translate, summarize, classify_text."""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import BaseModel, Field

from ..catalog import languages
from ..catalog.model_input import ModelWire, Param, fill, wire_for
from ..client.errors import InvalidRequestError, ResponseDecodeError
from ..client.request import json_request
from ..jsonvalues import as_list
from .host.call_info import call_of
from .host.common import AppContext, add_inference_tool, model_param, state_of
from .host.registry import Registry
from .host.samples import Samples

# Whatever the model's schema takes: m2m100 takes codes ('fr') and names ('french') alike, indictrans2
# one of its codes ('hin_Deva'). The model's own schema decides; this only keeps out what no language is.
LanguageCode = Annotated[
    str,
    Field(
        min_length=2,
        max_length=40,
        pattern=r"^[A-Za-z][\w ()-]*$",
        description="ISO 639-1 code, English name or the model's own code: 'hi', 'Hindi', 'hin_Deva'.",
    ),
]
M2M100 = "@cf/meta/m2m100-1.2b"
# m2m100's schema: `text`, `target_lang` (required) and `source_lang` (default 'en'), plain strings.
TRANSLATE_KNOWN: dict[str, ModelWire] = {
    M2M100: ModelWire(
        params={"text": Param("text"), "source_lang": Param("source_lang"), "target_lang": Param("target_lang")}
    )
}
_TRANSLATE_NAMES = {
    "text": ("text",),
    "source_lang": ("source_lang", "source_language"),
    "target_lang": ("target_lang", "target_language"),
}


class Translation(BaseModel):
    """A translated text."""

    translated_text: str = Field(description="The text in the target language.")
    source_lang: str
    target_lang: str
    model: str
    call: dict[str, Any] | None = None


async def translate(
    text: Annotated[str, Field(min_length=1, max_length=20_000, description="The text to translate.")],
    target_lang: LanguageCode,
    ctx: AppContext,
    source_lang: Annotated[LanguageCode, Field(description="Language of `text`.")] = "en",
    model: Annotated[str | None, model_param()] = None,
) -> Translation:
    """Translate text between languages with a Workers AI translation model (m2m100 by default, 100 languages)."""
    state = state_of(ctx)
    chosen = model or state.settings.translate_model
    wire = await wire_for(state.ai, chosen, TRANSLATE_KNOWN, names=_TRANSLATE_NAMES)
    if "text" not in wire.params or "target_lang" not in wire.params:
        raise InvalidRequestError(
            f"{chosen} takes no `text` and target language; use a translation model such as {M2M100}."
        )
    values = {"text": text, "target_lang": _model_code(chosen, wire, "target_lang", target_lang)}
    if languages.find(source_lang) != languages.find("en") or "source_lang" in wire.params:
        values["source_lang"] = _model_code(chosen, wire, "source_lang", source_lang)
    inputs = fill(chosen, wire.params, values, hint=f", or use {M2M100}")
    result = await state.ai.run(chosen, json_request(inputs))
    data = result.object
    translated = data.get("translated_text")
    if not isinstance(translated, str):
        # indictrans2 answers `translations`, one per input text.
        pieces = [piece for piece in as_list(data.get("translations")) if isinstance(piece, str)]
        translated = "\n".join(pieces) if pieces else None
    if translated is None:
        raise ResponseDecodeError(f"{chosen} answered without a translation (no `translated_text` or `translations`).")
    return Translation(
        translated_text=translated,
        source_lang=source_lang,
        target_lang=target_lang,
        model=chosen,
        call=call_of(result.meta),
    )


def _model_code(model: str, wire: ModelWire, key: str, value: str) -> str:
    """The language in the model's own form (see `catalog.languages`), or a refusal naming the ones it knows."""
    param = wire.params.get(key)
    if param is None:
        return value
    code = languages.model_code(value, param.choices)
    if param.choices and code not in param.choices:
        raise InvalidRequestError(
            f"{model} does not translate {'into' if key == 'target_lang' else 'from'} {value!r}; it knows "
            f"{languages.names_of(param.choices)}."
        )
    return code


class Summary(BaseModel):
    summary: str
    model: str
    call: dict[str, Any] | None = None


class Label(BaseModel):
    label: str
    score: float


class TextLabels(BaseModel):
    labels: list[Label]
    model: str
    call: dict[str, Any] | None = None


async def summarize(
    text: Annotated[str, Field(min_length=1, max_length=100_000, description="The text to summarize.")],
    ctx: AppContext,
    max_length: Annotated[
        int | None, Field(ge=1, le=1024, description="Longest summary in tokens (model default 1024).")
    ] = None,
    model: Annotated[str | None, model_param()] = None,
) -> Summary:
    """Summarize a text with a Workers AI summarization model (BART large CNN by default, best for news-style prose)."""
    state = state_of(ctx)
    chosen = model or state.settings.summarize_model
    inputs: dict[str, object] = {"input_text": text}
    if max_length is not None:
        inputs["max_length"] = max_length
    result = await state.ai.run(chosen, inputs)
    summary = result.object.get("summary")
    if not isinstance(summary, str):
        raise ResponseDecodeError(
            f"{chosen} answered without a `summary`; use a summarization model such as the default."
        )
    return Summary(summary=summary, model=chosen, call=call_of(result.meta))


async def classify_text(
    text: Annotated[str, Field(min_length=1, max_length=20_000, description="The text to classify.")],
    ctx: AppContext,
    model: Annotated[str | None, model_param()] = None,
) -> TextLabels:
    """Classify a text with a Workers AI text classifier; the default (DistilBERT SST-2) scores sentiment."""
    state = state_of(ctx)
    chosen = model or state.settings.classify_text_model
    result = await state.ai.run(chosen, {"text": text})
    items = result.rows
    labels = [
        Label(label=item["label"], score=float(item["score"]))
        for item in items
        if isinstance(item.get("label"), str) and isinstance(item.get("score"), int | float)
    ]
    if not labels:
        raise ResponseDecodeError(
            f"{chosen} answered without labels and scores; for a reranker use rank_documents instead."
        )
    labels.sort(key=lambda label: label.score, reverse=True)
    return TextLabels(labels=labels, model=chosen, call=call_of(result.meta))


SAMPLES: Samples = {
    "translate": {"text": "hello", "target_lang": "fr"},
    "summarize": {
        "text": "Workers AI runs machine learning models on Cloudflare's network. It offers text, image and "
        "audio models behind one REST API, billed per use.",
        "max_length": 32,
    },
    "classify_text": {"text": "I love this."},
}


def register(server: Registry) -> None:
    """Add the language tools to `server`."""
    add_inference_tool(server, translate, title="Translate text")
    add_inference_tool(server, summarize, title="Summarize text")
    add_inference_tool(server, classify_text, title="Classify text")
