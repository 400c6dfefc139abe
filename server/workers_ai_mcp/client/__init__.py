"""The async Workers AI client: HTTP and Cloudflare, nothing of MCP."""

from .answers import Answer
from .client import StreamResult, WorkersAIClient, create_http_client
from .errors import (
    APIConnectionError,
    APIStatusError,
    APITimeoutError,
    AuthenticationError,
    BadRequestError,
    ConfigurationError,
    DailyAllocationError,
    InvalidRequestError,
    NotFoundError,
    PermissionDeniedError,
    RateLimitError,
    ResponseDecodeError,
    ServerError,
    WorkersAIError,
)
from .model_ids import check_model_id
from .request import FilePart, Request
from .results import BinaryResult, JsonResult, ModelPage, ResponseMeta, RunResult
from .streaming import StreamEvent

__all__ = [
    "APIConnectionError",
    "Answer",
    "APIStatusError",
    "APITimeoutError",
    "AuthenticationError",
    "BadRequestError",
    "BinaryResult",
    "ConfigurationError",
    "DailyAllocationError",
    "FilePart",
    "InvalidRequestError",
    "JsonResult",
    "ModelPage",
    "NotFoundError",
    "PermissionDeniedError",
    "RateLimitError",
    "Request",
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
