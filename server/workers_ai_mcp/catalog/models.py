"""`ModelInfo`: one catalog row (`models/search` item) parsed once into typed facts.

The catalog gives properties as `[{"property_id": ..., "value": ...}]` with string values
(`"true"`, `"131072"`), except `price`, a list of `{unit, price, currency}`. This is the only
place that reads them.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from ..jsonvalues import as_dict, dicts

FLAG_PROPERTIES = ("beta", "async_queue", "function_calling", "reasoning", "vision", "partner", "realtime", "lora")
NUMBER_PROPERTIES = ("context_window", "max_input_tokens", "max_output_tokens", "output_dimensions")

TASKS = (
    "Text Generation",
    "Text Embeddings",
    "Text Classification",
    "Translation",
    "Summarization",
    "Image Classification",
    "Object Detection",
    "Image-to-Text",
    "Automatic Speech Recognition",
    "Text-to-Image",
    "Text-to-Speech",
    "Voice Activity Detection",
)


@dataclass(frozen=True)
class Price:
    """One price entry: `price` `currency` per `unit` (e.g. 0.29 USD per M input tokens)."""

    unit: str
    price: float
    currency: str = "USD"


@dataclass(frozen=True)
class ModelInfo:
    """What the catalog says about one model."""

    name: str
    task: str | None = None
    description: str = ""
    created_at: str = ""
    flags: frozenset[str] = frozenset()
    numbers: Mapping[str, int] = field(default_factory=dict[str, int])
    prices: tuple[Price, ...] = ()
    unpriced_units: tuple[str, ...] = ()  # price entries that are not numbers (kept to know a price exists)
    deprecation: date | None = None
    properties: Mapping[str, Any] = field(default_factory=dict[str, Any])

    @classmethod
    def from_row(cls, row: Mapping[str, Any]) -> ModelInfo:
        """Parse a `models/search` row (or a published model file)."""
        properties: dict[str, Any] = {}
        for prop in dicts(row.get("properties")):
            key = prop.get("property_id")
            if isinstance(key, str):
                properties[key] = prop.get("value")
        flags = frozenset(key for key in FLAG_PROPERTIES if str(properties.get(key, "")).lower() == "true")
        numbers = {key: int(str(properties[key])) for key in NUMBER_PROPERTIES if str(properties.get(key)).isdigit()}
        prices: list[Price] = []
        unpriced: list[str] = []
        for entry in dicts(properties.get("price")):
            unit, price = str(entry.get("unit", "")), entry.get("price")
            if isinstance(price, int | float) and not isinstance(price, bool):
                prices.append(Price(unit, float(price), str(entry.get("currency", "USD"))))
            else:
                unpriced.append(unit)
        task = as_dict(row.get("task")).get("name")
        return cls(
            name=str(row.get("name", "")),
            task=task if isinstance(task, str) else None,
            description=" ".join(str(row.get("description") or "").split()),
            created_at=str(row.get("created_at") or ""),
            flags=flags,
            numbers=numbers,
            prices=tuple(prices),
            unpriced_units=tuple(unpriced),
            deprecation=_date(properties.get("planned_deprecation_date")),
            properties=properties,
        )

    @property
    def author(self) -> str:
        """The second part of `@cf/<author>/<name>`."""
        parts = self.name.split("/")
        return parts[1] if len(parts) > 2 else ""

    @property
    def beta(self) -> bool:
        return "beta" in self.flags

    @property
    def batch(self) -> bool:
        """Whether the model takes asynchronous batches (`async_queue`)."""
        return "async_queue" in self.flags

    @property
    def vision(self) -> bool:
        return "vision" in self.flags

    @property
    def reasoning(self) -> bool:
        return "reasoning" in self.flags

    @property
    def function_calling(self) -> bool:
        return "function_calling" in self.flags

    @property
    def context_window(self) -> int | None:
        return self.numbers.get("context_window")

    def deprecated_by(self, day: date) -> bool:
        """Whether the model's planned deprecation date is on or before `day`."""
        return self.deprecation is not None and self.deprecation <= day

    def price_text(self) -> str:
        """`$0.29 per M input tokens; $2.25 per M output tokens`, or empty."""
        parts = [
            f"{'$' if p.currency == 'USD' else p.currency + ' '}{p.price:g} {p.unit}" for p in self.prices if p.unit
        ]
        return "; ".join(parts)


def _date(value: object) -> date | None:
    try:
        return date.fromisoformat(str(value)[:10]) if value else None
    except ValueError:
        return None
