"""The protocol surface through a real MCP session: unknown names and cursors are protocol errors, the
prompts are real, and the outputs template claims no MIME type it does not have."""

from __future__ import annotations

from pathlib import Path

import pytest
from mcp import Client, MCPError
from mcp.types import INVALID_PARAMS, PromptReference, ResourceTemplateReference, TextContent

from support.results import links_of
from support.session import open_session
from workers_ai_mcp.settings import Settings


async def test_an_unknown_tool_is_an_invalid_params_error_not_an_error_result(mcp_client: Client) -> None:
    with pytest.raises(MCPError) as raised:
        await mcp_client.call_tool("teleport", {})
    assert raised.value.error.code == INVALID_PARAMS
    assert "teleport" in raised.value.error.message


async def test_a_tool_left_out_by_tools_setting_is_unknown(settings: Settings) -> None:
    async with open_session(settings.model_copy(update={"tools": ["list_models"]})) as client:
        with pytest.raises(MCPError) as raised:
            await client.call_tool("chat", {"prompt": "hi"})
    assert raised.value.error.code == INVALID_PARAMS


async def test_an_unknown_prompt_is_an_invalid_params_error(mcp_client: Client) -> None:
    with pytest.raises(MCPError) as raised:
        await mcp_client.get_prompt("nope")
    assert raised.value.error.code == INVALID_PARAMS
    assert "nope" in raised.value.error.message


async def test_the_prompts_advertised_are_real_and_name_their_tools(mcp_client: Client) -> None:
    assert mcp_client.server_capabilities.prompts is not None
    prompts = {prompt.name: prompt for prompt in (await mcp_client.list_prompts()).prompts}
    assert set(prompts) == {"transcribe_and_summarise", "describe_and_caption"}
    assert [a.name for a in prompts["transcribe_and_summarise"].arguments or []] == ["recording"]
    got = await mcp_client.get_prompt("describe_and_caption", {"image": "/tmp/cat.png"})
    (message,) = got.messages
    assert isinstance(message.content, TextContent)
    assert "/tmp/cat.png" in message.content.text and "describe_image" in message.content.text


async def test_prompts_whose_tools_are_left_out_are_not_offered(settings: Settings) -> None:
    async with open_session(settings.model_copy(update={"tools": ["describe_image"]})) as client:
        prompts = [prompt.name for prompt in (await client.list_prompts()).prompts]
    assert prompts == ["describe_and_caption"]


@pytest.mark.parametrize("listing", ["tools", "resources", "resource_templates", "prompts"])
async def test_a_cursor_no_page_gave_is_an_invalid_params_error(mcp_client: Client, listing: str) -> None:
    lister = getattr(mcp_client, f"list_{listing}")
    with pytest.raises(MCPError) as raised:
        await lister(cursor="bogus", cache_mode="bypass")
    assert raised.value.error.code == INVALID_PARAMS
    await lister(cache_mode="bypass")  # without a cursor, the whole list


async def test_the_outputs_template_claims_no_single_mime_type(mcp_client: Client) -> None:
    templates = {t.name: t for t in (await mcp_client.list_resource_templates()).resource_templates}
    assert templates["output"].mime_type is None
    assert templates["model_schema"].mime_type == "application/json"


@pytest.mark.parametrize(
    "uri",
    ["workers-ai://models/@cf/nobody/no-such-model", "workers-ai://nothing", "workers-ai://outputs/absent.png"],
)
async def test_every_unknown_uri_is_resource_not_found(mcp_client: Client, uri: str) -> None:
    with pytest.raises(MCPError) as raised:
        await mcp_client.read_resource(uri)
    assert raised.value.error.code == INVALID_PARAMS  # SDK 2.3's "resource not found", not -32603


MODEL_TEMPLATE = ResourceTemplateReference(type="ref/resource", uri="workers-ai://models/{+model}")


async def test_model_ids_complete_from_the_catalog(mcp_client: Client) -> None:
    assert mcp_client.server_capabilities.completions is not None
    completion = (await mcp_client.complete(MODEL_TEMPLATE, {"name": "model", "value": "BGE-base"})).completion
    assert "@cf/baai/bge-base-en-v1.5" in completion.values
    assert all("bge-base" in value for value in completion.values)
    assert completion.has_more is False and completion.total == len(completion.values)


async def test_an_empty_model_completes_to_at_most_a_hundred_catalog_ids(mcp_client: Client) -> None:
    completion = (await mcp_client.complete(MODEL_TEMPLATE, {"name": "model", "value": ""})).completion
    assert 0 < len(completion.values) <= 100
    assert all(value.startswith("@") for value in completion.values)
    assert completion.has_more == ((completion.total or 0) > 100)


OUTPUTS_TEMPLATE = ResourceTemplateReference(type="ref/resource", uri="workers-ai://outputs/{name}")


async def test_output_names_complete_from_the_generated_files(mcp_client: Client) -> None:
    image = await mcp_client.call_tool("generate_image", {"prompt": "a red cube"})
    speech = await mcp_client.call_tool("text_to_speech", {"text": "Hello there"})
    (png,) = links_of(image)
    (mp3,) = links_of(speech)
    everything = (await mcp_client.complete(OUTPUTS_TEMPLATE, {"name": "name", "value": ""})).completion
    assert set(everything.values) == {png.name, mp3.name}
    only_mp3 = (await mcp_client.complete(OUTPUTS_TEMPLATE, {"name": "name", "value": ".MP3"})).completion
    assert only_mp3.values == [mp3.name]


async def test_a_prompt_s_recording_completes_to_generated_audio_and_its_image_to_images(
    mcp_client: Client, settings: Settings
) -> None:
    await mcp_client.call_tool("generate_image", {"prompt": "a red cube"})
    await mcp_client.call_tool("text_to_speech", {"text": "Hello there"})
    recording = PromptReference(type="ref/prompt", name="transcribe_and_summarise")
    image = PromptReference(type="ref/prompt", name="describe_and_caption")
    audio = (await mcp_client.complete(recording, {"name": "recording", "value": ""})).completion.values
    images = (await mcp_client.complete(image, {"name": "image", "value": ""})).completion.values
    assert len(audio) == 1 and audio[0].endswith(".mp3") and Path(audio[0]).parent == settings.output_dir
    assert len(images) == 1 and images[0].endswith(".png") and Path(images[0]).is_file()


async def test_arguments_with_no_known_values_complete_to_nothing(mcp_client: Client) -> None:
    ref = ResourceTemplateReference(type="ref/resource", uri="workers-ai://models{?page}")
    assert (await mcp_client.complete(ref, {"name": "page", "value": "1"})).completion.values == []
