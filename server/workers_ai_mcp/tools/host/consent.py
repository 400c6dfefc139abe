"""Spending consent asked of the person: the gate every tool call puts its expensive model calls to.

With `WORKERS_AI_MCP_CONFIRM_ABOVE_USD` set, `WorkersAI` hands each call estimated above it to the
gate of the tool call in progress (`inference.CALL_GATE`) before anything is sent. The gate here
asks the person through elicitation, in form mode, in the era the session speaks:
- up to 2025-11-25, an `elicitation/create` request in the middle of the tool call;
- on 2026-07-28 (no server-to-client requests), the tool call answers an `InputRequiredResult`
  carrying the same form; the client retries the call with the person's answer (`input_responses`)
  and the sealed `request_state` the SDK binds to this very call, and the call then runs from the start.
The form says which tool, which model, the estimate and the budget left; the person accepts,
declines (nothing is sent) or accepts for the rest of the session (the box `remember`), where there is
a session to remember it in: the client's connection on 2025-11-25 and older; on 2026-07-28, the
server process when it serves one client's stream (stdio), not over HTTP, whose requests stand alone.
A client that declares no form elicitation gets a refusal naming the setting and the estimate.
"""

from __future__ import annotations

import weakref
from typing import Any

from mcp.server.elicitation import AcceptedElicitation, render_elicitation_schema
from mcp.server.mcpserver import Context
from mcp.shared.exceptions import MCPError
from mcp.types import ElicitRequest, ElicitRequestFormParams, ElicitResult, InputRequiredResult
from mcp_types.version import MODERN_PROTOCOL_VERSIONS
from pydantic import BaseModel, Field

from ...inference import CONFIRM_SETTING, ConsentRefusedError, PlannedCall, WorkersAI
from ...spending.ledger import usd
from ...state import AppState

CONSENT_KEY = "workers_ai_mcp_consent"  # the key of our request in `inputRequests` / `inputResponses`
CONSENT_STATE = "consent"  # our `requestState`: sealed and bound to this call by the SDK


class Consent(BaseModel):
    """The form the person answers; accepting with `remember` covers the rest of the session."""

    remember: bool = Field(
        default=False,
        title="Do not ask again in this session",
        description="Accept every call above the threshold for the rest of this session.",
    )


class Once(BaseModel):
    """The form where there is no session to remember an answer in (2026-07-28 over HTTP)."""


class InputNeeded(Exception):
    """Raised through the tool to answer the call with `result` (an input-required round, 2026-07-28)."""

    def __init__(self, result: InputRequiredResult) -> None:
        super().__init__("input required")
        self.result = result


class ProcessSession:
    """The one session of a server process that serves one client's stream (stdio, in memory)."""


class Memory:
    """The sessions whose person accepted every call for the rest of the session, by identity."""

    def __init__(self) -> None:
        self._kept: dict[int, weakref.ref[Any]] = {}
        self.process = ProcessSession()

    def allows(self, session: object) -> bool:
        kept = self._kept.get(id(session))
        return kept is not None and kept() is session

    def keep(self, session: object) -> None:
        key = id(session)
        self._kept[key] = weakref.ref(session, lambda _: self._kept.pop(key, None))


# One memory per server (its `WorkersAI`), gone with it.
MEMORIES: weakref.WeakKeyDictionary[WorkersAI, Memory] = weakref.WeakKeyDictionary()


def memory_of(state: AppState) -> Memory:
    memory = MEMORIES.get(state.ai)
    if memory is None:
        memory = MEMORIES[state.ai] = Memory()
    return memory


def is_modern(ctx: Context[Any]) -> bool:
    return ctx.protocol_version in MODERN_PROTOCOL_VERSIONS


def session_of(ctx: Context[Any], memory: Memory) -> object | None:
    """What "this session" is for the call, or None when nothing outlives the request."""
    if not is_modern(ctx):
        return ctx.request_context.session.client_params  # one object per client connection
    if ctx.headers is None:  # stdio or in memory: the process serves this one client
        return memory.process
    return None


def can_elicit_forms(ctx: Context[Any]) -> bool:
    """Whether the client declared form elicitation (an empty `elicitation` object means form)."""
    caps = ctx.client_capabilities
    if caps is None or caps.elicitation is None:
        return False
    return caps.elicitation.form is not None or caps.elicitation.url is None


class SessionGate:
    """The gate of one tool call: asks the person about each call above the threshold."""

    every_call = False

    def __init__(self, ctx: Context[Any], tool: str, title: str) -> None:
        self.ctx = ctx
        self.tool = tool
        self.title = title

    async def __call__(self, planned: PlannedCall) -> None:
        state: AppState = self.ctx.request_context.lifespan_context
        memory = memory_of(state)
        session = session_of(self.ctx, memory)
        if session is not None and memory.allows(session):
            return
        if is_modern(self.ctx):
            action, remember = self._modern_answer(planned, session)
        else:
            action, remember = await self._legacy_answer(planned, session)
        if action != "accept":
            verb = "declined" if action == "decline" else "dismissed the question about"
            raise ConsentRefusedError(
                f"The person {verb} this call of {planned.model} (estimated at {planned.cost_words}); nothing was sent."
            )
        if session is not None and remember:
            memory.keep(session)

    def message(self, planned: PlannedCall) -> str:
        """What the person is asked: the tool, the model, the estimate, the budget left."""
        budget = f" Budget left: {usd(planned.budget_left_usd)}." if planned.budget_left_usd is not None else ""
        threshold = state_settings(self.ctx).confirm_above_usd
        return (
            f"{self.title} ({self.tool}) will run {planned.model} on Cloudflare Workers AI, billed to your "
            f"account: estimated {planned.cost_words}, above your limit for asking ({CONFIRM_SETTING}="
            f"{threshold:g}).{budget} Send it?"
        )

    def _modern_answer(self, planned: PlannedCall, session: object | None) -> tuple[str, bool]:
        responses = self.ctx.input_responses or {}
        answer = responses.get(CONSENT_KEY)
        if self.ctx.request_state == CONSENT_STATE and isinstance(answer, ElicitResult):
            return answer.action, answer.action == "accept" and (answer.content or {}).get("remember") is True
        if not can_elicit_forms(self.ctx):
            raise ConsentRefusedError(self.cannot_ask(planned))
        form = render_elicitation_schema(Consent if session is not None else Once)
        params = ElicitRequestFormParams(message=self.message(planned), requested_schema=form)
        raise InputNeeded(
            InputRequiredResult(input_requests={CONSENT_KEY: ElicitRequest(params=params)}, request_state=CONSENT_STATE)
        )

    async def _legacy_answer(self, planned: PlannedCall, session: object | None) -> tuple[str, bool]:
        if not can_elicit_forms(self.ctx):
            raise ConsentRefusedError(self.cannot_ask(planned))
        try:
            if session is None:
                answer = await self.ctx.elicit(self.message(planned), Once)
                return answer.action, False
            asked = await self.ctx.elicit(self.message(planned), Consent)
            return asked.action, isinstance(asked, AcceptedElicitation) and asked.data.remember
        except (MCPError, ValueError) as exc:
            raise ConsentRefusedError(
                f"Consent for this call of {planned.model} (estimated at {planned.cost_words}) could not be "
                f"asked: the client answered the question with an error ({type(exc).__name__}); nothing was sent."
            ) from None

    def cannot_ask(self, planned: PlannedCall) -> str:
        threshold = state_settings(self.ctx).confirm_above_usd
        return (
            f"This call of {planned.model} is estimated at {planned.cost_words}, above {CONFIRM_SETTING}="
            f"{threshold:g}, so it needs the person's consent, and this host cannot ask for it (it declares no "
            f"form elicitation); nothing was sent. Ask the user to raise or unset {CONFIRM_SETTING}, or to use "
            "a host that supports elicitation."
        )


def state_settings(ctx: Context[Any]) -> Any:
    state: AppState = ctx.request_context.lifespan_context
    return state.settings
