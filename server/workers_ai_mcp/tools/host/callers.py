"""The caller of every request, set once where each request enters the server (a server middleware).

Over HTTP with OAuth, the gate (`transports/http/oauth_guard.py`) puts the SDK's `AuthenticatedUser`
in the request's ASGI scope, and the SDK hands that HTTP request to the handler as
`ServerRequestContext.request`, whichever transport (streamable HTTP, stateful or stateless, or SSE)
carried the message. That is read here rather than the SDK's `get_access_token()`, whose context
variable only reaches code running in the HTTP request's own task (a stateful session's handlers run
in the session's). Every request without one (stdio, HTTP with the static token or none) is the local
user's. The caller (`spending/caller.py`) then holds for the whole request: the tool, the spending
guard around its model calls, a resource read, and the tasks made by the request. The requests that
read nothing of a user's (listing tools, resources and prompts, a ping) skip it, so that a start which
only lists imports none of the spending layer.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from mcp.server.auth.middleware.bearer_auth import AuthenticatedUser
from mcp.server.context import CallNext, HandlerResult, ServerRequestContext

if TYPE_CHECKING:  # imported with the first request that may read or spend a user's money
    from ...spending.caller import Caller

DEFAULT_ADMIN_SCOPE = "workers-ai:admin"
# Requests that read nothing of any user's: answered without knowing the caller.
ANONYMOUS = frozenset(
    {"initialize", "ping", "tools/list", "resources/list", "resources/templates/list", "prompts/list"}
)


def caller_of(ctx: ServerRequestContext[Any, Any]) -> Caller:
    """The user of the request: the OAuth token's subject (an admin with the admin scope), else the local user."""
    from ...spending.caller import LOCAL, Caller, user_of

    scope: object = getattr(ctx.request, "scope", None)
    user: object = scope.get("user") if isinstance(scope, dict) else None  # pyright: ignore[reportUnknownMemberType, reportUnknownVariableType]
    if not isinstance(user, AuthenticatedUser):
        return LOCAL
    token = user.access_token
    settings = getattr(ctx.lifespan_context, "settings", None)
    admin_scope = getattr(settings, "oauth_admin_scope", DEFAULT_ADMIN_SCOPE)
    return Caller(user_of(token.subject, token.client_id), admin=admin_scope in token.scopes)


async def callers(ctx: ServerRequestContext[Any, Any], call_next: CallNext) -> HandlerResult:
    """Server middleware: run the request as its caller."""
    if ctx.method in ANONYMOUS or ctx.request_id is None:  # a notification reads and spends nothing
        return await call_next(ctx)
    from ...spending.caller import acting_as

    with acting_as(caller_of(ctx)):
        return await call_next(ctx)
