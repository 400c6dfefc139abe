"""A call's catalog entry and schema are read at most once, with one error policy, and metering reuses them."""

from __future__ import annotations

from typing import Any

import pytest

from workers_ai_mcp.catalog.call import ModelCall
from workers_ai_mcp.catalog.models import ModelInfo
from workers_ai_mcp.client import APIConnectionError, JsonResult, NotFoundError, PermissionDeniedError
from workers_ai_mcp.spending.metering import CallMeta, Spending

MODEL = "@cf/meta/llama-3.1-8b-instruct-fp8"
INFO = ModelInfo.from_row(
    {
        "name": MODEL,
        "properties": [
            {"property_id": "price", "value": [
                {"unit": "per M input tokens", "price": 0.29, "currency": "USD"},
                {"unit": "per M output tokens", "price": 2.25, "currency": "USD"},
            ]},
        ],
    }
)  # fmt: skip
SCHEMA: dict[str, Any] = {"input": {"type": "object", "properties": {"prompt": {"type": "string"}}}, "output": {}}


class Catalog:
    """A catalog that counts what it is asked, and fails as told."""

    def __init__(
        self, *, info_error: Exception | None = None, schema_error: Exception | None = None, listed: bool = True
    ) -> None:
        self.asked: list[str] = []
        self.info_error, self.schema_error, self.listed = info_error, schema_error, listed

    async def model_info(self, model: str) -> ModelInfo | None:
        self.asked.append("info")
        if self.info_error is not None:
            raise self.info_error
        return INFO if self.listed else None

    async def model_schema(self, model: str) -> dict[str, Any]:
        self.asked.append("schema")
        if self.schema_error is not None:
            raise self.schema_error
        return SCHEMA


async def test_the_entry_and_schema_are_read_once_however_often_they_are_asked_for() -> None:
    catalog = Catalog()
    call = ModelCall(catalog, MODEL)
    for _ in range(3):
        assert await call.info() is INFO
        assert await call.input_schema() == SCHEMA["input"]
    assert catalog.asked == ["info", "schema"]


async def test_an_unreadable_schema_lets_the_call_go_unchecked() -> None:
    call = ModelCall(Catalog(schema_error=PermissionDeniedError("no catalog access", status=403)), MODEL)
    assert await call.schema() is None


async def test_a_model_that_does_not_exist_fails_before_anything_is_sent() -> None:
    missing = NotFoundError("no such model", status=404, code=5007)
    call = ModelCall(Catalog(schema_error=missing, listed=False), MODEL)
    with pytest.raises(NotFoundError):
        await call.schema()


async def test_a_listed_model_that_publishes_no_schema_goes_unchecked_and_says_so() -> None:
    call = ModelCall(Catalog(schema_error=NotFoundError("no schema", status=404, code=5007)), MODEL)
    assert await call.schema() is None and call.unpublished


async def test_an_unreadable_entry_is_unknown_and_says_why() -> None:
    failure = APIConnectionError("down")
    call = ModelCall(Catalog(info_error=failure), MODEL)
    assert await call.info() is None and call.info_error is failure


async def test_metering_with_a_budget_reuses_what_the_tool_already_read() -> None:
    catalog = Catalog()
    call = ModelCall(catalog, MODEL)
    await call.info()
    await call.schema()  # as the chat tool does while building its request
    spending = Spending(max_cost_usd=1.0)

    async def send() -> JsonResult:
        return JsonResult({"response": "hi", "usage": {"prompt_tokens": 10, "completion_tokens": 2}})

    try:
        result = await spending.metered(call, {"prompt": "hello"}, send)
    finally:
        await spending.aclose()
    assert catalog.asked == ["info", "schema"]  # guard and settle asked the call, not the catalog
    assert isinstance(result.meta, CallMeta) and result.meta.price_known and result.meta.cost_usd


async def test_metering_after_a_failed_entry_look_up_counts_the_fallback_without_asking_again() -> None:
    catalog = Catalog(info_error=APIConnectionError("down"))
    spending = Spending(max_cost_usd=1.0)

    async def send() -> JsonResult:
        return JsonResult({"response": "hi"})

    try:
        first = await spending.metered(ModelCall(catalog, MODEL), {"prompt": "hello"}, send)
        await spending.metered(ModelCall(catalog, MODEL), {"prompt": "hello"}, send)
    finally:
        await spending.aclose()
    assert catalog.asked == ["info"]  # the next call within LOOKUP_RETRY_AFTER goes unpriced unasked
    assert isinstance(first.meta, CallMeta) and not first.meta.price_known
    assert first.meta.spending_note and "could not be read" in first.meta.spending_note
