"""Cloudflare's V4 envelope, its error shapes, and the exception routes raise to produce them."""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

JsonObj = dict[str, Any]


def as_obj(value: Any) -> JsonObj | None:
    """The value as a JSON object, or None when it is anything else."""
    if isinstance(value, dict):
        return value  # pyright: ignore[reportUnknownVariableType]
    return None


def as_list(value: Any) -> list[Any] | None:
    if isinstance(value, list):
        return value  # pyright: ignore[reportUnknownVariableType]
    return None


class CloudflareError(Exception):
    """An error answer: HTTP status, Cloudflare code and message, and the envelope's `result`."""

    def __init__(
        self,
        status: int,
        code: int,
        message: str,
        *,
        result: Any = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.result = result

    def to_response(self) -> Response:
        return JSONResponse(error_body(self.code, self.message, self.result), self.status)


def success(result: Any) -> JsonObj:
    return {"result": result, "success": True, "errors": [], "messages": []}


def error_body(code: int, message: str, result: Any = None) -> JsonObj:
    return {"result": result, "success": False, "errors": [{"code": code, "message": message}], "messages": []}


def ok(result: Any) -> Response:
    return JSONResponse(success(result))


def bad_input(detail: str) -> CloudflareError:
    """400/5006 as the validator words it: `AiError: Bad input: Error: <detail>`, result `{}`."""
    return CloudflareError(400, 5006, f"AiError: Bad input: Error: {detail}", result={})


def no_such_model(model: str) -> CloudflareError:
    return CloudflareError(400, 5007, f"No such model {model} or task", result={})


def invalid_data(kind: str) -> CloudflareError:
    return CloudflareError(400, 5004, f"Invalid data type for base64 input: {kind}", result={})


def unauthorized() -> CloudflareError:
    return CloudflareError(401, 10000, "Authentication error")


async def cloudflare_error_handler(_request: Request, exc: Exception) -> Response:
    assert isinstance(exc, CloudflareError)
    return exc.to_response()


def fixed_value(schema: JsonObj) -> tuple[Any] | None:
    """`(value,)` when the schema allows one value first (its `const`, or its first `enum` member)."""
    if "const" in schema:
        return (schema["const"],)
    enum = as_list(schema.get("enum"))
    return (enum[0],) if enum else None
