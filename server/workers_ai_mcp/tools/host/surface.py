"""The protocol surface around the tools: the prompts offered, pages and cursors, model ids completed.

Only resources/list is paged (generated files accumulate): pages of `RESOURCE_PAGE` in the server's
order (fixed resources, then generated files newest first); the cursor is opaque (base64url of the
last URI given) and names a position that files added meanwhile do not move, since they come first.
A cursor that does not decode, or whose resource is gone, is -32602 (invalid params) with a sentence
saying to list again. The other lists are whole, so any cursor sent to them was not one of ours and
is refused the same way instead of being ignored. The prompts are real
ones, so that advertising the `prompts` capability is true; each chains tools an assistant would
otherwise have to discover. completion/complete offers catalog model ids for any `model` argument
(the resource templates' `workers-ai://models/{+model}` and `workers-ai://usage{?model}`), read through
the catalog's cache; generated file names for `workers-ai://outputs/{name}`; and, for the prompts'
`recording` and `image`, the paths of generated audio and images. At most 100 each, with `hasMore`.
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Awaitable, Callable, Collection
from typing import Annotated, Any, cast

import anyio
from mcp.server import MCPServer
from mcp.server.lowlevel.server import Server
from mcp.shared.exceptions import MCPError
from mcp.types import (
    INVALID_PARAMS,
    Completion,
    CompletionArgument,
    ListResourcesResult,
    PaginatedRequestParams,
    PromptReference,
    Resource,
    ResourceTemplateReference,
)
from pydantic import Field

from ...state import AppState

# The list requests that are never cut into pages.
WHOLE = ("tools/list", "resources/templates/list", "prompts/list")
RESOURCE_PAGE = 50  # resources per resources/list page


def check_cursors(lowlevel: Server[Any]) -> None:
    """Make every list request that is never paged refuse a cursor."""
    for method in WHOLE:
        entry = lowlevel.get_request_handler(method)
        if entry is None:
            continue
        lowlevel.add_request_handler(method, PaginatedRequestParams, _refusing_cursors(entry.handler))


def _refusing_cursors(handler: Any) -> Any:
    async def handle(ctx: Any, params: PaginatedRequestParams) -> Any:
        if params.cursor is not None:
            raise MCPError(code=INVALID_PARAMS, message="Invalid cursor: this list has no further pages.")
        return await handler(ctx, params)

    return handle


def page_resources(lowlevel: Server[Any], listed: Callable[[], Awaitable[list[Resource]]]) -> None:
    """Answer resources/list a page at a time, from the whole list `listed` gives in the server's order."""

    async def handle(ctx: Any, params: PaginatedRequestParams | None) -> ListResourcesResult:
        resources = await listed()
        start = _after(params.cursor, resources) if params is not None and params.cursor is not None else 0
        page = resources[start : start + RESOURCE_PAGE]
        more = start + RESOURCE_PAGE < len(resources)
        return ListResourcesResult(resources=page, next_cursor=_cursor(str(page[-1].uri)) if more else None)

    lowlevel.add_request_handler("resources/list", PaginatedRequestParams, handle)


def _cursor(uri: str) -> str:
    return base64.urlsafe_b64encode(json.dumps({"after": uri}).encode()).decode().rstrip("=")


def _after(cursor: str, resources: list[Resource]) -> int:
    """Where the page after `cursor` starts; -32602 for a cursor not ours or whose resource is gone."""
    try:
        decoded: object = json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
    except (binascii.Error, UnicodeDecodeError, ValueError):
        decoded = None
    after = cast(dict[str, object], decoded).get("after") if isinstance(decoded, dict) else None
    if not isinstance(after, str):
        raise MCPError(code=INVALID_PARAMS, message="Invalid cursor: it is not one this server gave; list again.")
    for index, resource in enumerate(resources):
        if str(resource.uri) == after:
            return index + 1
    raise MCPError(
        code=INVALID_PARAMS,
        message="Invalid cursor: the resource it continues after is no longer listed; list again from the start.",
    )


Recording = Annotated[str, Field(description="Path or https URL of the recording.")]
Image = Annotated[str, Field(description="Path or https URL of the image.")]


def transcribe_and_summarise(recording: Recording) -> str:
    """Transcribe a recording, then summarise what was said."""
    return (
        f"Transcribe the recording {recording} with the transcribe_audio tool. Then summarise the "
        "transcript with the summarize tool (or in your own words if it is short): the main points, "
        "decisions and open questions, and who said what where the transcript tells. Give the "
        "transcript's file path so I can read it in full."
    )


def describe_and_caption(image: Image) -> str:
    """Describe an image in detail and write a short caption for it."""
    return (
        f"Describe the image {image} with the describe_image tool: what it shows, its setting, text in it "
        "and anything notable. Then write a one-sentence caption suitable as alt text, and a title of at "
        "most six words."
    )


# Each prompt, with its title and the tools it asks for.
PROMPTS = (
    (transcribe_and_summarise, "Transcribe and summarise a recording", {"transcribe_audio"}),
    (describe_and_caption, "Describe and caption an image", {"describe_image"}),
)


def add_prompts(server: MCPServer[Any], tools: Collection[str]) -> None:
    """Offer the prompts whose tools the server lists (`--tools` may leave them out)."""
    for fn, title, needs in PROMPTS:
        if needs <= set(tools):
            server.prompt(name=fn.__name__, title=title)(fn)


COMPLETION_LIMIT = 100  # the most values completion/complete may carry
CATALOG_PAGES = 10  # pages of 100 read at most to complete a model id
OUTPUTS_SCANNED = 10_000  # generated files looked at, newest first, to complete a name or path


OUTPUTS_TEMPLATE = "workers-ai://outputs/{name}"
# Prompt arguments that name a file, and the kind of generated file that fits each.
FILE_ARGUMENTS = {("transcribe_and_summarise", "recording"): "audio/", ("describe_and_caption", "image"): "image/"}


def add_completions(server: MCPServer[Any], state: Callable[[], AppState | None]) -> None:
    """Complete every argument with a known set of values: a `model` from the catalog, a generated
    file's name in `workers-ai://outputs/{name}`, and a prompt's recording or image from the generated
    files of that kind (by path)."""

    @server.completion()
    async def complete(
        ref: PromptReference | ResourceTemplateReference, argument: CompletionArgument, context: Any
    ) -> Completion | None:
        current = state()
        if current is None:
            return None
        if argument.name == "model":
            return await model_completion(current, argument.value)
        if isinstance(ref, ResourceTemplateReference) and ref.uri == OUTPUTS_TEMPLATE and argument.name == "name":
            return await output_completion(current, argument.value, kind="", as_path=False)
        kind = FILE_ARGUMENTS.get((ref.name, argument.name)) if isinstance(ref, PromptReference) else None
        if kind is not None:
            return await output_completion(current, argument.value, kind=kind, as_path=True)
        return None


async def output_completion(state: AppState, typed: str, *, kind: str, as_path: bool) -> Completion:
    """Generated files of a MIME type starting with `kind`, newest first, whose name or path contains
    what was typed (case forgiven): their names, or their paths."""
    wanted = typed.strip().lower()
    saved = await anyio.to_thread.run_sync(
        lambda: state.outputs.newest(OUTPUTS_SCANNED, limit=state.settings.max_input_bytes)
    )
    values = [str(file.path) if as_path else file.name for file in saved if file.media_type.startswith(kind)]
    matching = [value for value in values if wanted in value.lower()]
    return Completion(
        values=matching[:COMPLETION_LIMIT], total=len(matching), has_more=len(matching) > COMPLETION_LIMIT
    )


async def model_completion(state: AppState, typed: str) -> Completion:
    """Catalog model ids containing what was typed (case forgiven), at most 100, sorted."""
    wanted = typed.strip().lower()
    names: list[str] = []
    for page in range(1, CATALOG_PAGES + 1):
        found = await state.ai.search_models(page=page, per_page=COMPLETION_LIMIT)
        names += [str(row.get("name", "")) for row in found.models]
        if found.count < found.per_page:
            break
    matching = sorted({name for name in names if name and wanted in name.lower()})
    return Completion(
        values=matching[:COMPLETION_LIMIT], total=len(matching), has_more=len(matching) > COMPLETION_LIMIT
    )
