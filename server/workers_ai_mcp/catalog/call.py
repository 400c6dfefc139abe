"""`ModelCall`: what one model call knows about its model, each fact looked up at most once.

A call needs the model's catalog entry (its price, its flags) and its schema (to build and check
the input, to price steps and tiles), in the tool and again in metering. The tool, or `WorkersAI`
when the tool needs neither, makes one `ModelCall` and hands it down, so nothing asks twice, and
the one error policy lives here: a schema that cannot be read now (or that a listed model does not
publish) lets the call go unchecked, a model Cloudflare says does not exist fails before anything is
sent, and a catalog entry that cannot be read is simply unknown (`info_error` says why).
"""

from __future__ import annotations

import logging
from typing import Any, Protocol

from ..client.errors import NotFoundError, WorkersAIError
from ..jsonvalues import as_dict
from .models import ModelInfo

logger = logging.getLogger(__name__)

_UNREAD: Any = object()


class CatalogSource(Protocol):
    """Where the facts come from: the process's cached catalog."""

    async def model_info(self, model: str) -> ModelInfo | None: ...

    async def model_schema(self, model: str) -> dict[str, Any]: ...


class ModelCall:
    """One call's model id (already checked) and its catalog entry and schema, read on first use."""

    __slots__ = ("_catalog", "_info", "_schema", "info_error", "model", "unpublished")

    def __init__(self, catalog: CatalogSource, model: str) -> None:
        self.model = model
        self._catalog = catalog
        self._info: ModelInfo | None = _UNREAD
        self._schema: dict[str, Any] | None = _UNREAD
        self.info_error: WorkersAIError | None = None
        self.unpublished = False  # the catalog lists the model but it publishes no schema (apertus, eurollm)

    async def info(self) -> ModelInfo | None:
        """The catalog entry, or None when the catalog does not list the model or cannot be read now."""
        if self._info is _UNREAD:
            try:
                self._info = await self._catalog.model_info(self.model)
            except WorkersAIError as exc:
                self._info, self.info_error = None, exc
        return self._info

    async def schema(self) -> dict[str, Any] | None:
        """The `{input, output}` schemas, or None when they cannot be read now: the call then goes unchecked.

        A catalog that is down or a token without catalog access must not stop a call the model may
        take; a model Cloudflare says does not exist raises `NotFoundError` (sending cannot help).
        """
        if self._schema is _UNREAD:
            try:
                self._schema = await self._catalog.model_schema(self.model)
            except NotFoundError:
                if await self.info() is None:
                    raise
                # Listed in the catalog, but no schema published: the call goes unchecked (and says so).
                self._schema, self.unpublished = None, True
            except WorkersAIError as exc:
                logger.warning("The schema of %s could not be read (%s); the input is sent unchecked", self.model, exc)
                self._schema = None
        return self._schema

    async def input_schema(self) -> dict[str, Any] | None:
        """The input schema, or None when it cannot be read now (see `schema`)."""
        schema = await self.schema()
        return None if schema is None else as_dict(schema.get("input"))
