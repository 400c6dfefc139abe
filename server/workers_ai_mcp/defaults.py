"""The one table of default models: which model each task tool uses when the call names none.

Settings read their defaults and variable names from here; the catalog tools, the deprecation
watch and the README's table all derive from it.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class DefaultModel:
    """One configurable default: the settings field, its variable, the model, and the tool that uses it."""

    field: str
    model: str
    tool: str
    task: str

    @property
    def env(self) -> str:
        return f"WORKERS_AI_MCP_{self.field.upper()}"


DEFAULTS: tuple[DefaultModel, ...] = (
    DefaultModel("chat_model", "@cf/meta/llama-3.3-70b-instruct-fp8-fast", "chat", "Text Generation"),
    DefaultModel("complete_model", "@cf/meta/llama-3.1-8b-instruct-fp8", "complete", "Text Generation"),
    DefaultModel("respond_model", "@cf/openai/gpt-oss-120b", "respond", "Text Generation"),
    DefaultModel("embed_model", "@cf/baai/bge-base-en-v1.5", "embed", "Text Embeddings"),
    DefaultModel("rank_model", "@cf/baai/bge-reranker-base", "rank_documents", "Text Classification"),
    DefaultModel("translate_model", "@cf/meta/m2m100-1.2b", "translate", "Translation"),
    DefaultModel("summarize_model", "@cf/facebook/bart-large-cnn", "summarize", "Summarization"),
    DefaultModel(
        "classify_text_model", "@cf/huggingface/distilbert-sst-2-int8", "classify_text", "Text Classification"
    ),
    DefaultModel("classify_image_model", "@cf/microsoft/resnet-50", "classify_image", "Image Classification"),
    DefaultModel("detect_model", "@cf/facebook/detr-resnet-50", "detect_objects", "Object Detection"),
    DefaultModel("describe_image_model", "@cf/llava-hf/llava-1.5-7b-hf", "describe_image", "Image-to-Text"),
    DefaultModel(
        "transcribe_model", "@cf/openai/whisper-large-v3-turbo", "transcribe_audio", "Automatic Speech Recognition"
    ),
    DefaultModel("image_model", "@cf/black-forest-labs/flux-1-schnell", "generate_image", "Text-to-Image"),
    DefaultModel("speech_model", "@cf/myshell-ai/melotts", "text_to_speech", "Text-to-Speech"),
)

BY_FIELD = {default.field: default for default in DEFAULTS}
