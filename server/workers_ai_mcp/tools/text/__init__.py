"""Text generation tools: chat, complete, respond.

Over 300 lines: the three tools share their result models, argument types and answer handling, and
`chat`'s signature alone (every argument an assistant may pass, each typed and bounded) is a quarter of
it; what each argument becomes lives in `request.py`, `alternatives.py`, `affinity.py` and `lora.py`.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from mcp.types import CallToolResult, ContentBlock, TextContent
from pydantic import BaseModel, ConfigDict, Field

from ...catalog.chat_tools import functions, openai_calls
from ...catalog.thinking import Thinking
from ...client import APIStatusError, JsonResult, RunResult, StreamEvent
from ...client.answers import Usage, token_usage
from ...client.errors import InvalidRequestError, ResponseDecodeError
from ...defaults import BY_FIELD
from ..host.call_info import CallInfo, call_of
from ..host.common import AppContext, add_inference_tool, model_param, state_of
from ..host.progress import StreamProgress, progress_token
from ..host.registry import Registry
from ..host.samples import Samples
from . import alternatives
from .affinity import session_affinity
from .answers import (
    bounded,
    check_json_schema,
    json_value,
    nothing_returned,
    text_answer,
    trimmed_output,
    usage_field,
)
from .lora import check_lora
from .request import build_request

# Message and prompt lengths follow the Llama 3.1 schema (131072 characters).
MAX_TEXT = 131_072
# Cloudflare code for "no such model": that must surface, not trigger the /ai/run fallback of `complete`.
NO_SUCH_MODEL = 5007
# Cloudflare's codes for "no such route" (7000) and "method not allowed" (7003): `complete` then runs the model.
NO_ROUTE = (7000, 7003)


UNPUBLISHED = (
    "{model} publishes no input schema, so the conversation was sent unchecked in the classic Workers AI "
    "form (messages on /ai/run)."
)


class ChatMessage(BaseModel):
    role: Literal["system", "user", "assistant", "tool"]
    content: str = Field(default="", max_length=MAX_TEXT)
    # A tool round trip, as OpenAI-shaped models take it (tests/recorded/tools/round_trip_messages.json).
    tool_calls: list[dict[str, Any]] | None = Field(default=None, max_length=128)  # assistant turns: its calls
    tool_call_id: str | None = Field(default=None, max_length=200)  # tool turns: the call answered
    name: str | None = Field(default=None, max_length=200)  # tool turns: the tool's name


class ChatResult(BaseModel):
    model_config = ConfigDict(serialize_by_alias=True)

    text: str
    model: str
    usage: Usage | None = usage_field()
    finish_reason: str | None = None
    json_value: dict[str, Any] | list[Any] | None = Field(default=None, alias="json", description="Parsed JSON.")
    tool_calls: list[dict[str, Any]] | None = None
    reasoning: str | None = None
    call: dict[str, Any] | None = None


class Completion(BaseModel):
    text: str
    model: str
    usage: Usage | None = usage_field()
    finish_reason: str | None = None
    call: dict[str, Any] | None = None


class RespondResult(BaseModel):
    text: str
    model: str
    usage: Usage | None = usage_field()
    output: list[dict[str, Any]] = Field(description="Raw output items, long strings cut.")
    reasoning: str | None = None
    call: dict[str, Any] | None = None


MaxTokens = Annotated[int, Field(ge=1, le=8192, description="Most tokens to generate.")]
Temperature = Annotated[float | None, Field(ge=0, le=5, description="Randomness, 0-5.")]
Lora = Annotated[str | None, Field(max_length=200, description="LoRA adapter id or name.")]


def conversation(prompt: str | None, messages: list[ChatMessage] | None, system: str | None) -> list[dict[str, Any]]:
    """The turns of the call, system first; exactly one of `prompt` and `messages` must be given."""
    if prompt is None and messages is None:
        raise InvalidRequestError("Neither was given: give either prompt (one message) or messages (a conversation).")
    if prompt is not None and messages is not None:
        raise InvalidRequestError("Give either prompt (one user message) or messages (a conversation), not both.")
    turns: list[dict[str, Any]] = [{"role": "system", "content": system}] if system is not None else []
    if messages is not None:
        return turns + [message.model_dump(exclude_none=True) for message in messages]
    return [*turns, {"role": "user", "content": prompt}]


async def chat(
    ctx: AppContext,
    prompt: Annotated[str | None, Field(min_length=1, max_length=MAX_TEXT, description="One user message.")] = None,
    messages: Annotated[
        list[ChatMessage] | None, Field(min_length=1, max_length=500, description="Turns, oldest first.")
    ] = None,
    system: Annotated[str | None, Field(max_length=MAX_TEXT, description="System message.")] = None,
    images: Annotated[
        list[str] | None,
        Field(max_length=8, description="Image paths, URLs or data URIs."),
    ] = None,
    max_tokens: MaxTokens = 1024,
    temperature: Temperature = None,
    top_p: Annotated[float | None, Field(ge=0.001, le=1, description="Nucleus sampling.")] = None,
    top_k: Annotated[int | None, Field(ge=1, le=50, description="Top-k sampling.")] = None,
    seed: Annotated[int | None, Field(ge=1, le=9_999_999_999, description="Repeatable output.")] = None,
    repetition_penalty: Annotated[float | None, Field(ge=0, le=2, description="Penalize repeats.")] = None,
    frequency_penalty: Annotated[float | None, Field(ge=0, le=2, description="Penalize frequent tokens.")] = None,
    presence_penalty: Annotated[float | None, Field(ge=0, le=2, description="Penalize used tokens.")] = None,
    json_schema: Annotated[dict[str, Any] | None, Field(description="JSON Schema the answer follows.")] = None,
    thinking: Annotated[Thinking | None, Field(description="off or a level (reasoning models).")] = None,
    tools: Annotated[
        list[dict[str, Any]] | None,
        Field(max_length=128, description="Functions: {name, description, parameters}."),
    ] = None,
    tool_choice: Annotated[str | None, Field(max_length=64, description="auto, none, required or a tool.")] = None,
    cache_ttl: Annotated[int | None, Field(ge=0, le=2_592_000, description="AI Gateway cache seconds.")] = None,
    lora: Lora = None,
    model: Annotated[str | None, model_param()] = None,
) -> Annotated[CallToolResult, ChatResult]:
    turns = conversation(prompt, messages, system)
    if json_schema is not None:
        check_json_schema(json_schema)
    state = state_of(ctx)
    chosen = model or state.settings.chat_model
    sampling = {
        "temperature": temperature,
        "top_p": top_p,
        "top_k": top_k,
        "seed": seed,
        "repetition_penalty": repetition_penalty,
        "frequency_penalty": frequency_penalty,
        "presence_penalty": presence_penalty,
    }
    request = await build_request(
        state,
        chosen,
        turns,
        max_tokens=max_tokens,
        sampling=sampling,
        images=images or (),
        json_schema=json_schema,
        thinking=thinking,
        tools=functions(tools or []),
        tool_choice=tool_choice,
        lora=lora,
    )
    shape, body, call = request.shape, request.body, request.call
    if state.settings.reject_if_busy:
        body = {**body, "options": {"rejectIfBusy": True}}  # beside the input, as Cloudflare documents it
    affinity = session_affinity(ctx)
    progress = StreamProgress(ctx, total=max_tokens) if progress_token(ctx) is not None else None
    async with alternatives.when_busy(state, chosen):
        if progress is not None and shape.streams and json_schema is None:  # JSON mode does not stream
            if shape.route == "v1":
                streamed = await state.ai.stream_v1(
                    "chat/completions", body, progress.on_event, call=call, cache_ttl=cache_ttl, affinity=affinity
                )
            else:
                streamed = await state.ai.stream_run(
                    call, body, progress.on_event, cache_ttl=cache_ttl, affinity=affinity
                )
            answer, meta = streamed.answer(), streamed.meta
        else:
            if shape.route == "v1":
                result: JsonResult | RunResult = await state.ai.v1(
                    "chat/completions", body, call=call, cache_ttl=cache_ttl, affinity=affinity
                )
            else:
                result = await state.ai.run(call, body, cache_ttl=cache_ttl, affinity=affinity)
            answer, meta = text_answer(result, chosen), result.meta
    if progress is not None and not (shape.streams and json_schema is None):
        await progress.on_event(StreamEvent(answer.text))  # answered once: one notification with the whole text
    tool_calls = openai_calls(answer.tool_calls)
    if not answer.text.strip() and not tool_calls:
        raise nothing_returned(chosen, answer.reasoning, CallInfo.from_meta(meta).cost_usd)
    usage = token_usage(answer.usage)
    if progress is not None:
        await progress.finish(usage)
    found = ChatResult(
        text=answer.text,
        model=chosen,
        usage=usage,
        finish_reason=answer.finish_reason,
        json=json_value(answer, want_json=json_schema is not None),
        tool_calls=tool_calls or None,
        reasoning=bounded(answer.reasoning),
        call=call_of(meta),
    )
    text = found.model_dump_json(exclude={"reasoning"})  # in structured content only: it can be long
    blocks: list[ContentBlock] = [TextContent(type="text", text=text)]
    if call.unpublished:
        blocks.append(TextContent(type="text", text=UNPUBLISHED.format(model=chosen)))
    return CallToolResult(content=blocks, structured_content=found.model_dump(mode="json"))


chat.__doc__ = (
    f"Chat with a text-generation model ({BY_FIELD['chat_model'].model} by default). Give `prompt` or `messages`."
)


async def complete(
    prompt: Annotated[str, Field(min_length=1, max_length=MAX_TEXT, description="Text to continue, as is.")],
    ctx: AppContext,
    max_tokens: MaxTokens = 256,
    temperature: Temperature = None,
    lora: Lora = None,
    model: Annotated[str | None, model_param()] = None,
) -> Completion:
    """Continue a raw prompt without chat template (Llama 3.1 8B by default)."""
    state = state_of(ctx)
    chosen = model or state.settings.complete_model
    options: dict[str, Any] = {"max_tokens": max_tokens}
    if temperature is not None:
        options["temperature"] = temperature
    if lora is not None:  # adapters run on /ai/run, whose prompt form declares `lora`
        await check_lora(state, chosen, lora, await state.ai.prepare(chosen).info())
        adapted = await state.ai.run(chosen, {"prompt": prompt, "raw": True, "lora": lora, **options})
        answer = text_answer(adapted, chosen)
        return Completion(
            text=answer.text,
            model=chosen,
            usage=token_usage(answer.usage),
            finish_reason=answer.finish_reason,
            call=call_of(adapted.meta),
        )
    try:
        result = await state.ai.v1("completions", {"model": chosen, "prompt": prompt, **options})
    except APIStatusError as exc:
        if exc.code == NO_SUCH_MODEL or not (exc.status in (404, 405) or exc.code in NO_ROUTE):
            raise
        # Cloudflare does not document /v1/completions; where it is missing, run the model raw.
        fallback = await state.ai.run(chosen, {"prompt": prompt, "raw": True, **options})
        answer, meta = text_answer(fallback, chosen), fallback.meta
    else:
        answer, meta = text_answer(result, chosen), result.meta
    return Completion(
        text=answer.text,
        model=chosen,
        usage=token_usage(answer.usage),
        finish_reason=answer.finish_reason,
        call=call_of(meta),
    )


async def respond(
    input: Annotated[str, Field(min_length=1, max_length=MAX_TEXT, description="The request for the model.")],
    ctx: AppContext,
    instructions: Annotated[str | None, Field(max_length=MAX_TEXT, description="System-level guidance.")] = None,
    max_output_tokens: Annotated[
        int | None, Field(ge=1, le=32_768, description="Most tokens, reasoning included.")
    ] = None,
    model: Annotated[str | None, model_param()] = None,
) -> RespondResult:
    """Ask a reasoning model via the Responses API (gpt-oss-120b by default)."""
    state = state_of(ctx)
    chosen = model or state.settings.respond_model
    body: dict[str, Any] = {"model": chosen, "input": input}
    if instructions is not None:
        body["instructions"] = instructions
    if max_output_tokens is not None:
        body["max_output_tokens"] = max_output_tokens
    result = await state.ai.v1("responses", body, affinity=session_affinity(ctx))
    data = result.object
    if not isinstance(data.get("output"), list) and not isinstance(data.get("output_text"), str):
        raise ResponseDecodeError(f"{chosen} gave no Responses API output; use a gpt-oss model or the chat tool.")
    answer = text_answer(result, chosen)
    return RespondResult(
        text=answer.text,
        model=chosen,
        usage=token_usage(answer.usage),
        output=trimmed_output(data),
        reasoning=answer.reasoning or None,
        call=call_of(result.meta),
    )


SAMPLES: Samples = {
    "chat": {"prompt": "Say hi", "max_tokens": 16},
    "complete": {"prompt": "Once upon a time", "max_tokens": 16},
    "respond": {"input": "Say hi", "max_output_tokens": 16},
}


def register(server: Registry) -> None:
    """Add the text generation tools to `server`."""
    add_inference_tool(server, chat, title="Chat with a model")
    add_inference_tool(server, complete, title="Complete text")
    add_inference_tool(server, respond, title="Ask a reasoning model")
