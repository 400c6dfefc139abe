"""Lexical embeddings (signed feature hashing) and the reranker built on them.

Texts that share words get vectors with a higher cosine similarity, which is enough for
search and ranking tests to behave sensibly without a real model.
"""

from __future__ import annotations

import hashlib
import math
import re
from typing import Any

from .envelope import JsonObj

_WORD = re.compile(r"[a-z0-9]+")
# Function words count for little, as they do in trained embeddings.
_STOPWORDS = frozenset(
    str.split("a an and are as at be by for from has have in is it its of on or that the this to was were with")
)


def embed(text: str, dims: int, pooling: str = "mean") -> list[float]:
    """An L2-normalised vector of `dims` floats; `cls` pooling hashes differently, as real pooling modes differ."""
    vector = [0.0] * dims
    words = _WORD.findall(text.lower()) or [text]
    for word in words:
        digest = hashlib.blake2b(f"{pooling}:{word}".encode(), digest_size=8).digest()
        value = int.from_bytes(digest, "big")
        weight = 0.25 if word in _STOPWORDS else 1.0
        vector[value % dims] += weight if (value >> 63) & 1 else -weight
    norm = math.sqrt(sum(v * v for v in vector))
    if norm == 0.0:  # every word cancelled out; any fixed unit vector will do
        vector[0], norm = 1.0, 1.0
    return [v / norm for v in vector]


def embed_many(texts: list[str], dims: int, pooling: str) -> JsonObj:
    data = [embed(t, dims, pooling) for t in texts]
    return {"shape": [len(data), dims], "data": data, "pooling": pooling}


def cosine(a: list[float], b: list[float]) -> float:
    return sum(x * y for x, y in zip(a, b, strict=True))  # both are unit vectors


def rerank(query: str, contexts: list[str], top_k: int | None, dims: int = 768) -> list[dict[str, Any]]:
    """Contexts as `{id, score}` ordered best first; scores are the clamped cosine, so in [0, 1]."""
    q = embed(query, dims)
    scored = [{"id": i, "score": round(max(0.0, cosine(q, embed(c, dims))), 6)} for i, c in enumerate(contexts)]
    scored.sort(key=lambda item: (-item["score"], item["id"]))
    return scored[:top_k] if top_k else scored
