"""The Starlette app: routes under `/client/v4`, the AI Gateway shape at the root, error envelopes."""

from __future__ import annotations

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route

from . import catalog, documents, finetunes, openai_compat, search
from .envelope import CloudflareError, cloudflare_error_handler, error_body
from .gateway import through_gateway
from .middleware import EmulatorMiddleware
from .run import run_model
from .state import EmulatorState

EMULATOR_TOKEN = "emulator-token"
_ACCOUNT = "/client/v4/accounts/{account_id}"
_INSTANCE = f"{_ACCOUNT}/ai-search/instances/{{instance}}"
# Gateway URLs are `{gateway base}/{account}/{gateway}/workers-ai/...`; the real base ends in `/v1`,
# and a client pointed at the emulator may keep or drop it, so both shapes are served.
_GATEWAYS = ("/v1/{account_id}/{gateway_id}/workers-ai", "/{account_id}/{gateway_id}/workers-ai")
_OPENAI = {
    "chat/completions": openai_compat.chat_completions,
    "completions": openai_compat.completions,
    "embeddings": openai_compat.embeddings,
    "responses": openai_compat.responses,
}


def _routes() -> list[BaseRoute]:
    routes: list[BaseRoute] = [
        Route(f"{_ACCOUNT}/ai/run/{{model:path}}", run_model, methods=["POST"]),
        Route(f"{_ACCOUNT}/ai/models/search", catalog.search_models, methods=["GET"]),
        Route(f"{_ACCOUNT}/ai/models/schema", catalog.model_schema, methods=["GET"]),
        Route(f"{_ACCOUNT}/tokens/verify", catalog.verify_token, methods=["GET"]),
        Route(f"{_ACCOUNT}/ai/finetunes", finetunes.account_finetunes, methods=["GET"]),
        Route(f"{_ACCOUNT}/ai/finetunes/public", finetunes.public_finetunes, methods=["GET"]),
        Route("/client/v4/user/tokens/verify", catalog.verify_token, methods=["GET"]),
        Route(f"{_ACCOUNT}/ai/tomarkdown", documents.transform, methods=["POST"]),
        Route(f"{_ACCOUNT}/ai/tomarkdown/supported", documents.supported, methods=["GET"]),
        Route(f"{_ACCOUNT}/ai-search/instances", search.list_instances, methods=["GET"]),
        Route(f"{_INSTANCE}/search", search.search, methods=["POST"]),
        Route(f"{_INSTANCE}/chat/completions", search.chat_completions, methods=["POST"]),
    ]
    routes += [Route(f"{_ACCOUNT}/ai/v1/{path}", handler, methods=["POST"]) for path, handler in _OPENAI.items()]
    for gateway in _GATEWAYS:  # the OpenAI paths and `run/` must come before the catch-all `{model:path}`
        routes += [Route(f"{gateway}/v1/{path}", through_gateway(h), methods=["POST"]) for path, h in _OPENAI.items()]
        routes += [
            Route(f"{gateway}/run/{{model:path}}", through_gateway(run_model), methods=["POST"]),
            Route(f"{gateway}/{{model:path}}", through_gateway(run_model), methods=["POST"]),
        ]
    return routes


async def _not_found(_request: Request, _exc: Exception) -> Response:
    return JSONResponse(error_body(7000, "No route for that URI"), 404)


async def _method_not_allowed(request: Request, exc: Exception) -> Response:
    headers = exc.headers if isinstance(exc, HTTPException) else None
    return JSONResponse(error_body(7001, f"{request.method} not supported for requested URI."), 405, headers)


def create_emulator_app(state: EmulatorState | None = None, *, token: str | None = EMULATOR_TOKEN) -> Starlette:
    """The emulator as an ASGI app; `token=None` accepts any bearer token. State is at `app.state.emulator`."""
    state = state or EmulatorState()
    app = Starlette(
        routes=_routes(),
        middleware=[Middleware(EmulatorMiddleware, state=state, token=token)],
        exception_handlers={
            CloudflareError: cloudflare_error_handler,
            404: _not_found,
            405: _method_not_allowed,
        },
    )
    app.state.emulator = state
    return app
