"""The emulator's own model catalog: names, tasks, properties and schemas (written here, not copied)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from . import schemas_language as lang
from . import schemas_media as media
from .model_spec import (
    IMAGE_CLASSIFICATION,
    IMAGE_TO_TEXT,
    OBJECT_DETECTION,
    SPEECH_RECOGNITION,
    SUMMARIZATION,
    TEXT_CLASSIFICATION,
    TEXT_EMBEDDINGS,
    TEXT_GENERATION,
    TEXT_TO_IMAGE,
    TEXT_TO_SPEECH,
    TRANSLATION,
    VOICE_ACTIVITY,
    Kind,
    ModelSpec,
    Task,
)
from .schemas_text import (
    TextGenOptions,
    openai_style_input,
    openai_style_output,
    text_generation_input,
    text_generation_output,
)

JsonObj = dict[str, Any]


def _p(property_id: str, value: Any) -> JsonObj:
    return {"property_id": property_id, "value": value}


def _price(*units: tuple[str, float]) -> JsonObj:
    return _p("price", [{"unit": unit, "price": price, "currency": "USD"} for unit, price in units])


def _tokens(inp: float, out: float) -> JsonObj:
    return _price(("per M input tokens", inp), ("per M output tokens", out))


BETA = _p("beta", "true")
ASYNC = _p("async_queue", "true")


def _llm(name: str, summary: str, created: str, opts: TextGenOptions, *props: JsonObj) -> ModelSpec:
    return ModelSpec(
        name,
        "text-generation",
        TEXT_GENERATION,
        summary,
        created,
        text_generation_input(opts),
        text_generation_output(opts),
        props,
    )


def _embedder(size: str, dims: int, price: float) -> ModelSpec:
    summary = f"BAAI general embedding ({size}): text to a {dims}-dimensional vector"
    props = (ASYNC, _price(("per M input tokens", price)), _p("max_input_tokens", "512"))
    props += (_p("output_dimensions", str(dims)),)
    return ModelSpec(
        f"@cf/baai/bge-{size.lower()}-en-v1.5",
        "embeddings",
        TEXT_EMBEDDINGS,
        summary,
        "2023-11-07 15:43:58.042",
        lang.embeddings_input(),
        lang.embeddings_output(),
        props,
        dims,
    )


def _task_model(
    name: str,
    kind: Kind,
    task: Task,
    summary: str,
    created: str,
    schemas: tuple[Callable[[], JsonObj], Callable[[], JsonObj]],
    *props: JsonObj,
) -> ModelSpec:
    return ModelSpec(name, kind, task, summary, created, schemas[0](), schemas[1](), props)


_LLAMA_31 = TextGenOptions(max_chars=131072)
_LLAMA_FP8 = TextGenOptions(json_mode=True)
_LLAMA_33 = TextGenOptions(json_mode=True, wide_penalties=True, unit_top_p=True, async_batch=True)
_GPT_OSS = TextGenOptions(json_mode=True, wide_penalties=True, unit_top_p=True, content_parts=True)

_MODELS: tuple[ModelSpec, ...] = (
    _llm(
        "@cf/meta/llama-3.3-70b-instruct-fp8-fast",
        "Llama 3.3 70B, fp8, tuned for speed",
        "2024-12-06 17:09:18.338",
        _LLAMA_33,
        ASYNC,
        _p("context_window", "24000"),
        _tokens(0.29, 2.25),
        _p("function_calling", "true"),
    ),
    _llm(
        "@cf/meta/llama-3.1-8b-instruct-fp8",
        "Llama 3.1 8B quantized to fp8",
        "2024-07-25 18:02:41.000",
        _LLAMA_FP8,
        _p("context_window", "32000"),
        _tokens(0.15, 0.29),
    ),
    _llm(
        "@cf/meta/llama-3.1-8b-instruct",
        "Llama 3.1 8B instruction-tuned",
        "2024-07-18 22:53:33.000",
        _LLAMA_31,
        _p("context_window", "7968"),
        _tokens(0.28, 0.83),
    ),
    _llm(
        "@cf/mistral/mistral-7b-instruct-v0.1",
        "Mistral 7B instruction-tuned",
        "2023-11-07 15:43:58.042",
        _LLAMA_31,
        _p("context_window", "2824"),
        _tokens(0.11, 0.19),
    ),
    _llm(
        "@cf/meta/llama-3.2-11b-vision-instruct",
        "Llama 3.2 11B with image input",
        "2024-09-25 05:36:04.547",
        TextGenOptions(max_chars=131072, vision=True),
        _p("context_window", "128000"),
        _p("vision", "true"),
        _tokens(0.049, 0.68),
    ),
    _llm(
        "@hf/thebloke/deepseek-coder-6.7b-base-awq",
        "DeepSeek Coder 6.7B base, AWQ (deprecated)",
        "2024-02-06 18:16:27.183",
        _LLAMA_31,
        BETA,
        _p("context_window", "4096"),
        _p("planned_deprecation_date", "2025-10-01"),
    ),
    ModelSpec(
        "@cf/openai/gpt-oss-120b",
        "openai-chat",
        TEXT_GENERATION,
        "OpenAI open-weight reasoning model, 120B",
        "2025-08-05 10:27:29.131",
        openai_style_input(_GPT_OSS),
        openai_style_output(),
        (
            _p("context_window", "128000"),
            _tokens(0.35, 0.75),
            _p("function_calling", "true"),
            _p("reasoning", "true"),
        ),
    ),
    _embedder("Base", 768, 0.067),
    _embedder("Small", 384, 0.02),
    _embedder("Large", 1024, 0.2),
    _task_model(
        "@cf/baai/bge-reranker-base",
        "reranker",
        TEXT_CLASSIFICATION,
        "Scores how relevant each context is to a query",
        "2025-02-14 12:28:19.009",
        (lang.reranker_input, lang.reranker_output),
        _price(("per M input tokens", 0.0031)),
        _p("max_input_tokens", "512"),
    ),
    _task_model(
        "@cf/meta/m2m100-1.2b",
        "translation",
        TRANSLATION,
        "Many-to-many multilingual translation",
        "2023-09-25 19:21:11.898",
        (lang.translation_input, lang.translation_output),
        ASYNC,
        _tokens(0.34, 0.34),
        _p("languages", "english, chinese, french, spanish, arabic, russian, german, japanese, portuguese, hindi"),
    ),
    _task_model(
        "@cf/facebook/bart-large-cnn",
        "summarization",
        SUMMARIZATION,
        "BART encoder-decoder for summaries",
        "2024-02-27 18:28:11.833",
        (lang.summarization_input, lang.summarization_output),
        BETA,
        _p("max_input_tokens", "1024"),
    ),
    _task_model(
        "@cf/huggingface/distilbert-sst-2-int8",
        "text-classification",
        TEXT_CLASSIFICATION,
        "DistilBERT sentiment (SST-2), int8",
        "2023-09-25 19:21:11.898",
        (lang.text_classification_input, lang.label_scores_output),
        _price(("per M input tokens", 0.026)),
    ),
    _task_model(
        "@cf/microsoft/resnet-50",
        "image-classification",
        IMAGE_CLASSIFICATION,
        "ResNet-50 ImageNet classifier",
        "2023-09-25 19:21:11.898",
        (media.image_input, lang.label_scores_output),
        _price(("per inference request", 0.0000025)),
    ),
    _task_model(
        "@cf/facebook/detr-resnet-50",
        "object-detection",
        OBJECT_DETECTION,
        "DETR object detector (COCO labels)",
        "2024-02-27 17:43:51.922",
        (media.image_input, media.detection_output),
        BETA,
        _price(("per inference request", 0.0000025)),
    ),
    _task_model(
        "@cf/llava-hf/llava-1.5-7b-hf",
        "image-to-text",
        IMAGE_TO_TEXT,
        "LLaVA 1.5 7B image description",
        "2024-05-01 18:00:39.971",
        (media.image_to_text_input, media.image_to_text_output),
        BETA,
        _tokens(0.0, 0.0),
    ),
    _task_model(
        "@cf/openai/whisper-large-v3-turbo",
        "asr-whisper-turbo",
        SPEECH_RECOGNITION,
        "Whisper large v3 turbo speech recognition",
        "2024-05-22 00:02:18.656",
        (media.whisper_turbo_input, media.whisper_turbo_output),
        _price(("per audio minute", 0.00051)),
    ),
    _task_model(
        "@cf/openai/whisper",
        "asr-whisper",
        SPEECH_RECOGNITION,
        "Whisper speech recognition",
        "2023-09-25 19:21:11.898",
        (media.whisper_input, media.whisper_output),
        _price(("per audio minute", 0.00045)),
    ),
    _task_model(
        "@cf/openai/whisper-tiny-en",
        "asr-whisper",
        SPEECH_RECOGNITION,
        "Whisper tiny, English only",
        "2024-04-22 20:59:02.731",
        (media.whisper_input, media.whisper_output),
        BETA,
    ),
    _task_model(
        "@cf/deepgram/nova-3",
        "asr-nova",
        SPEECH_RECOGNITION,
        "Deepgram Nova-3 speech to text",
        "2025-06-05 16:05:15.199",
        (media.nova_input, media.nova_output),
        _price(("per audio minute", 0.0052)),
        _p("partner", "true"),
    ),
    _task_model(
        "@cf/pipecat-ai/smart-turn-v2",
        "vad",
        VOICE_ACTIVITY,
        "Detects the end of a speaker's turn",
        "2025-08-04 10:08:04.219",
        (media.vad_input, media.vad_output),
        _price(("per audio minute", 0.00034)),
    ),
    _task_model(
        "@cf/black-forest-labs/flux-1-schnell",
        "text-to-image-json",
        TEXT_TO_IMAGE,
        "FLUX.1 [schnell] text to image",
        "2024-08-29 16:37:39.541",
        (media.flux_input, media.flux_output),
        _price(("per 512 by 512 tile", 0.0000528), ("per step", 0.0001056)),
    ),
    _task_model(
        "@cf/stabilityai/stable-diffusion-xl-base-1.0",
        "text-to-image-png",
        TEXT_TO_IMAGE,
        "Stable Diffusion XL base",
        "2023-11-10 10:54:43.694",
        (media.sdxl_input, media.png_output),
        BETA,
        _price(("per step", 0.0)),
    ),
    _task_model(
        "@cf/deepgram/aura-1",
        "tts-mp3",
        TEXT_TO_SPEECH,
        "Deepgram Aura context-aware text to speech",
        "2025-08-27 01:18:18.880",
        (media.aura_input, media.mp3_output),
        _price(("per 1k characters", 0.015)),
        _p("partner", "true"),
    ),
    _task_model(
        "@cf/myshell-ai/melotts",
        "tts-json",
        TEXT_TO_SPEECH,
        "MeloTTS multi-lingual text to speech",
        "2024-07-19 15:51:04.819",
        (media.melotts_input, media.melotts_output),
        _price(("per audio minute", 0.0002)),
    ),
)

MODELS: dict[str, ModelSpec] = {spec.name: spec for spec in _MODELS}


def find(name: str) -> ModelSpec | None:
    return MODELS.get(name)
