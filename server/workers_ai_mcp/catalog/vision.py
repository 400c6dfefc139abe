"""Whether a text-generation model sees images, from its catalog entry and its input schema alone.

The input schema says *how* images travel (OpenAI `image_url` parts, or the model's own `image`
field) but not always *whether* the model looks at them: the llama-3.1 text models publish the same
`image` field as llama-3.2-11b-vision, and the twelve models sharing OpenAI's Chat Completions
schema all declare `image_url` parts. So the schema decides alone only where it is the model's own
(parts in a non-OpenAI schema: llama-4-scout, gemma-3, mistral-small-3.1); otherwise the catalog
entry must say so too: its `vision` property, or a description that speaks of images ("visual
recognition, image reasoning" for llama-3.2-11b-vision). `chat_input` applies the rule.
"""

from __future__ import annotations

import re

from .models import ModelInfo

_SPEAKS_OF_IMAGES = re.compile(r"\b(image|images|vision|visual|multimodal)\b", re.IGNORECASE)


def catalog_sees_images(info: ModelInfo | None) -> bool:
    """Whether the catalog entry says the model sees images (its `vision` flag, or its description)."""
    return info is not None and (info.vision or bool(_SPEAKS_OF_IMAGES.search(info.description)))


__all__ = ["catalog_sees_images"]
