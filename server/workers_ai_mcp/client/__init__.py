"""The async Workers AI client: HTTP and Cloudflare, nothing of MCP."""

from .client import StreamResult, WorkersAIClient, create_http_client
from .errors import (
    APIConnectionError,
    APIStatusError,
    APITimeoutError,
    AuthenticationError,
    BadRequestError,
    ConfigurationError,
    InvalidRequestError,
    NotFoundError,
    PermissionDeniedError,
    RateLimitError,
    ResponseDecodeError,
    ServerError,
    WorkersAIError,
)
from .model_ids import check_model_id
from .results import BinaryResult, JsonResult, ModelPage, ResponseMeta, RunResult
from .streaming import StreamEvent

__all__ = [
    "APIConnectionError",
    "APIStatusError",
    "APITimeoutError",
    "AuthenticationError",
    "BadRequestError",
    "BinaryResult",
    "ConfigurationError",
    "InvalidRequestError",
    "JsonResult",
    "ModelPage",
    "NotFoundError",
    "PermissionDeniedError",
    "RateLimitError",
    "ResponseDecodeError",
    "ResponseMeta",
    "RunResult",
    "ServerError",
    "StreamEvent",
    "StreamResult",
    "WorkersAIClient",
    "WorkersAIError",
    "check_model_id",
    "create_http_client",
]
