"""`CallInfo`: what one model call used and cost, and what AI Gateway said about it, for tool results."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, Field

from ...client import ResponseMeta
from ...spending.metering import CallMeta


class CallInfo(BaseModel):
    """Usage, estimated cost and AI Gateway status of the call behind a result."""

    usage: dict[str, float] | None = Field(
        default=None,
        description="Tokens (prompt_tokens, completion_tokens) or the unit the model is priced in "
        "(steps, tiles, audio_minutes, characters, requests).",
    )
    usage_estimated: bool = Field(
        default=False, description="True when tokens were counted as about 4 characters each (none reported)."
    )
    cost_usd: float | None = Field(
        default=None,
        description="The call's cost: the neurons the answer reported, else the catalog price for the usage; "
        "null when neither is known.",
    )
    cost_basis: Literal["neurons", "price", "estimate"] | None = Field(
        default=None,
        description="Where the cost comes from: neurons (reported by Cloudflare, what it bills), price (the "
        "catalog price for the measured usage), estimate (neither: counted_usd is a fallback amount).",
    )
    price_known: bool = Field(default=False, description="Whether the catalog lists a price for this model.")
    gateway_cache_status: str | None = Field(
        default=None, description="AI Gateway cache status (HIT: answered from the cache, not billed; MISS)."
    )
    gateway_log_id: str | None = Field(default=None, description="AI Gateway log id of the request.")
    counted_usd: float | None = Field(
        default=None, description="What usage and budgets count for this call: the cost, else the fallback amount."
    )
    spending_note: str | None = Field(
        default=None, description="Why the cost counts as a fallback amount, or that spending is kept in memory."
    )

    @classmethod
    def from_meta(cls, meta: ResponseMeta) -> CallInfo:
        """The call info a result carries (usage and cost when the call was metered)."""
        metered = meta if isinstance(meta, CallMeta) else CallMeta()
        return cls(
            usage=metered.usage,
            usage_estimated=metered.usage_estimated,
            cost_usd=None if metered.cost_usd is None else round(metered.cost_usd, 8),
            cost_basis=_basis(metered),
            price_known=metered.price_known,
            gateway_cache_status=meta.gateway_cache_status,
            gateway_log_id=meta.gateway_log_id,
            counted_usd=None if metered.counted_usd is None else round(metered.counted_usd, 8),
            spending_note=metered.spending_note,
        )

    @property
    def note(self) -> str:
        """One sentence for text results: the cost, or that no price is known (and the spending note)."""
        if self.cost_usd is not None:
            prefix = "answered from the AI Gateway cache; " if self.gateway_cache_status == "HIT" else ""
            if self.cost_basis == "neurons":
                text = f"Cost: {prefix}${self.cost_usd:.6f} (the neurons Cloudflare reported)."
            else:
                text = f"Estimated cost: {prefix}${self.cost_usd:.6f} (the catalog price for the usage)."
        elif not self.price_known:
            text = "No price is listed for this model in the catalog, so its cost is not estimated."
        else:
            text = "The cost could not be estimated (the answer did not say how much was used)."
        return f"{text} {self.spending_note}" if self.spending_note else text


def _basis(meta: CallMeta) -> Literal["neurons", "price", "estimate"] | None:
    """The metering's basis, or "estimate" for a metered call counted at the fallback amount."""
    if meta.cost_basis == "neurons" or meta.cost_basis == "price":
        return meta.cost_basis
    return "estimate" if meta.counted_usd is not None else None


def call_of(meta: ResponseMeta) -> dict[str, Any]:
    """The compact form tool results carry as `call`: usage, estimated cost, gateway status, when known."""
    info = CallInfo.from_meta(meta)
    data = info.model_dump(exclude_none=True)
    if not info.usage_estimated:
        data.pop("usage_estimated")
    if info.counted_usd == info.cost_usd:
        data.pop("counted_usd", None)  # said only when it differs: a fallback amount
    return data
