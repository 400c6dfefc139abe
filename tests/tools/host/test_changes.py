"""Change notifications through real MCP sessions: a generated file changes the resource list, a billed
call changes `workers-ai://usage`, for 2025-era clients (resources/subscribe) and 2026-07-28 ones
(subscriptions/listen); the capabilities say so, and nothing else."""

from __future__ import annotations

import warnings
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import anyio
import httpx2
from mcp import Client
from mcp.client.subscriptions import ResourcesListChanged, ResourceUpdated, ServerEvent
from mcp.shared.exceptions import MCPDeprecationWarning
from mcp.types import ResourceListChangedNotification, ResourceUpdatedNotification
from starlette.applications import Starlette

from support.session import open_session
from workers_ai_mcp.app import create_server
from workers_ai_mcp.settings import Settings

USAGE = "workers-ai://usage"
TRANSLATE = {"text": "hello", "target_lang": "fr"}


class Notices:
    """The notifications a client received, in order."""

    def __init__(self) -> None:
        self.received: list[object] = []

    async def on_message(self, message: object) -> None:
        root = getattr(message, "root", message)
        if isinstance(root, ResourceListChangedNotification | ResourceUpdatedNotification):
            self.received.append(root)

    def list_changes(self) -> int:
        return sum(isinstance(notice, ResourceListChangedNotification) for notice in self.received)

    def updates(self) -> list[str]:
        return [notice.params.uri for notice in self.received if isinstance(notice, ResourceUpdatedNotification)]


@asynccontextmanager
async def legacy(settings: Settings, emulator_app: Starlette) -> AsyncIterator[tuple[Client, Notices]]:
    notices = Notices()
    async with open_session(settings, upstream=emulator_app, mode="legacy", message_handler=notices.on_message) as c:
        yield c, notices


async def subscribe(client: Client, uri: str) -> None:
    with warnings.catch_warnings():  # resources/subscribe is the 2025 era's: deprecated by the SDK, served here
        warnings.simplefilter("ignore", MCPDeprecationWarning)
        await client.subscribe_resource(uri)  # pyright: ignore[reportDeprecated]


async def unsubscribe(client: Client, uri: str) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", MCPDeprecationWarning)
        await client.unsubscribe_resource(uri)  # pyright: ignore[reportDeprecated]


async def test_a_2025_client_is_told_resources_change_and_may_subscribe_but_not_that_tools_do(
    settings: Settings, emulator_app: Starlette
) -> None:
    async with legacy(settings, emulator_app) as (client, _):
        capabilities = client.server_capabilities
    assert capabilities.resources is not None
    assert (capabilities.resources.list_changed, capabilities.resources.subscribe) == (True, True)
    assert capabilities.tools is not None and not capabilities.tools.list_changed


async def test_a_generated_file_sends_list_changed_before_the_answer(
    settings: Settings, emulator_app: Starlette
) -> None:
    async with legacy(settings, emulator_app) as (client, notices):
        await client.list_resources()
        await client.call_tool("list_models", {"search": "flux"})
        assert notices.list_changes() == 0  # nothing saved, nothing said
        result = await client.call_tool("generate_image", {"prompt": "a red cube"})
        assert not result.is_error
        assert notices.list_changes() == 1


async def test_every_connected_client_hears_of_a_file_another_generated(
    settings: Settings, emulator_app: Starlette
) -> None:
    server = create_server(settings, transport=httpx2.ASGITransport(app=emulator_app))
    watcher, maker = Notices(), Notices()
    async with (
        open_session(server, mode="legacy", message_handler=watcher.on_message) as watching,
        open_session(server, mode="legacy", message_handler=maker.on_message) as making,
    ):
        await watching.list_resources()
        await making.list_resources()
        await making.call_tool("text_to_speech", {"text": "Hello there"})
        with anyio.fail_after(10):
            while not watcher.list_changes():
                await anyio.sleep(0.01)
    assert maker.list_changes() == 1 and watcher.list_changes() == 1


async def test_a_client_that_never_looked_at_resources_is_not_told_of_new_files(
    settings: Settings, emulator_app: Starlette
) -> None:
    async with legacy(settings, emulator_app) as (client, notices):
        result = await client.call_tool("generate_image", {"prompt": "a red cube"})
    assert not result.is_error
    assert notices.list_changes() == 0


async def test_a_usage_subscriber_hears_of_billed_calls_only_until_it_unsubscribes(
    settings: Settings, emulator_app: Starlette
) -> None:
    async with legacy(settings, emulator_app) as (client, notices):
        await subscribe(client, USAGE)
        await subscribe(client, "workers-ai://models")  # allowed; never reported (the catalog is not watched)
        await client.call_tool("usage", {})  # free: usage unchanged
        assert notices.updates() == []
        await client.call_tool("translate", TRANSLATE)
        assert notices.updates() == [USAGE]
        await unsubscribe(client, USAGE)
        await client.call_tool("translate", TRANSLATE)
        assert notices.updates() == [USAGE]


async def test_a_model_filtered_usage_subscription_hears_of_that_model_s_calls(
    settings: Settings, emulator_app: Starlette
) -> None:
    translate_usage = f"{USAGE}?model=@cf/meta/m2m100-1.2b"
    async with legacy(settings, emulator_app) as (client, notices):
        await subscribe(client, translate_usage)
        await client.call_tool("translate", TRANSLATE)
        assert notices.updates() == [translate_usage]


async def test_a_2026_client_listening_hears_of_generated_files_and_usage(
    settings: Settings, emulator_app: Starlette
) -> None:
    events: list[ServerEvent] = []
    async with open_session(settings, upstream=emulator_app) as client:
        assert client.server_capabilities.resources is not None
        assert client.server_capabilities.resources.list_changed
        async with client.listen(resources_list_changed=True, resource_subscriptions=[USAGE]) as subscription:
            await client.call_tool("generate_image", {"prompt": "a red cube"})
            with anyio.fail_after(10):
                async for event in subscription:
                    events.append(event)
                    if len(events) == 2:
                        break
    assert ResourcesListChanged() in events
    assert ResourceUpdated(uri=USAGE) in events
