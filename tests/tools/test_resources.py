"""resources/list and resources/read through a real MCP session: what a host can browse, and the outputs sandbox."""

from __future__ import annotations

import base64
import json
import os
from pathlib import Path

import pytest
from mcp import Client, MCPError
from mcp.types import INVALID_PARAMS, BlobResourceContents, TextResourceContents

from support.media import small_png
from support.results import links_of
from workers_ai_mcp.settings import Settings


def outputs_of(settings: Settings) -> Path:
    settings.output_dir.mkdir(parents=True, exist_ok=True)
    return settings.output_dir


async def not_found(client: Client, uri: str) -> str:
    """The message of the "resource not found" error reading `uri` must give."""
    with pytest.raises(MCPError) as raised:
        await client.read_resource(uri)
    assert raised.value.error.code == INVALID_PARAMS, raised.value.error  # not -32603 (internal error)
    message = raised.value.error.message
    assert message and len(message) < 400 and "Error" not in message
    return message


async def test_a_fresh_server_lists_the_catalog_and_usage_and_both_read_as_listed(mcp_client: Client) -> None:
    listed = {str(r.uri): r for r in (await mcp_client.list_resources()).resources}
    assert {"workers-ai://models", "workers-ai://usage"} <= set(listed)
    for uri in ("workers-ai://models", "workers-ai://usage"):
        assert listed[uri].mime_type == "application/json" and listed[uri].name
        (content,) = (await mcp_client.read_resource(uri)).contents
        assert isinstance(content, TextResourceContents)
        json.loads(content.text)


async def test_generated_files_are_listed_newest_first_with_their_real_types_and_sizes(
    mcp_client: Client, settings: Settings
) -> None:
    image = await mcp_client.call_tool("generate_image", {"prompt": "a red cube"})
    speech = await mcp_client.call_tool("text_to_speech", {"text": "Hello there"})
    (png_link,) = links_of(image)
    (mp3_link,) = links_of(speech)
    folder = outputs_of(settings)
    os.utime(folder / png_link.name, (1_000_000, 1_000_000))  # the image is the older of the two
    listed = [
        r for r in (await mcp_client.list_resources()).resources if str(r.uri).startswith("workers-ai://outputs/")
    ]
    assert [str(r.uri) for r in listed] == [str(mp3_link.uri), str(png_link.uri)]
    assert [(r.mime_type, r.size) for r in listed] == [
        ("audio/mpeg", (folder / mp3_link.name).stat().st_size),
        ("image/png", (folder / png_link.name).stat().st_size),
    ]


async def test_reading_an_output_gives_its_real_mime_type_blob_for_media_text_for_json(
    mcp_client: Client, settings: Settings
) -> None:
    folder = outputs_of(settings)
    png = small_png()
    (folder / "cube.png").write_bytes(png)
    (folder / "speech.mp3").write_bytes(b"ID3\x04\x00" + bytes(200))
    (folder / "vectors.json").write_text('{"vectors": [[0.5]]}')
    (folder / "subtitles.vtt").write_text("WEBVTT\n")

    (blob,) = (await mcp_client.read_resource("workers-ai://outputs/cube.png")).contents
    assert isinstance(blob, BlobResourceContents) and blob.mime_type == "image/png"
    assert base64.b64decode(blob.blob) == png
    (mp3,) = (await mcp_client.read_resource("workers-ai://outputs/speech.mp3")).contents
    assert isinstance(mp3, BlobResourceContents) and mp3.mime_type == "audio/mpeg"
    (vectors,) = (await mcp_client.read_resource("workers-ai://outputs/vectors.json")).contents
    assert isinstance(vectors, TextResourceContents) and vectors.mime_type == "application/json"
    assert json.loads(vectors.text) == {"vectors": [[0.5]]}
    (vtt,) = (await mcp_client.read_resource("workers-ai://outputs/subtitles.vtt")).contents
    assert isinstance(vtt, TextResourceContents) and vtt.mime_type == "text/vtt"


async def test_a_symlink_in_the_output_folder_is_neither_read_nor_listed(
    mcp_client: Client, settings: Settings, tmp_path: Path
) -> None:
    secret = tmp_path / "secret.txt"
    secret.write_text("root:x:0:0:the secret\n")
    (outputs_of(settings) / "passwd.txt").symlink_to(secret)
    (outputs_of(settings) / "key.png").symlink_to(secret)
    for name in ("passwd.txt", "key.png"):
        message = await not_found(mcp_client, f"workers-ai://outputs/{name}")
        assert "symbolic link" in message and "secret" not in message.replace("secret.txt", "")
    listed = [str(r.uri) for r in (await mcp_client.list_resources()).resources]
    assert not any("passwd" in uri or "key.png" in uri for uri in listed)


async def test_hidden_names_unknown_types_folders_and_missing_files_are_not_found(
    mcp_client: Client, settings: Settings
) -> None:
    folder = outputs_of(settings)
    (folder / ".partial-abc.png").write_bytes(small_png())
    (folder / "script.sh").write_text("echo hi\n")
    (folder / "album.png").mkdir()
    for name, expected in [
        (".partial-abc.png", "not the name of a generated file"),
        ("script.sh", "not the name of a generated file"),
        ("%2e%2e%2fsecret.png", "Unknown resource"),  # the SDK refuses traversal itself
        ("missing.png", "There is no generated file named 'missing.png'"),
        ("album.png", "is a folder"),
    ]:
        assert expected in await not_found(mcp_client, f"workers-ai://outputs/{name}")
    listed = [str(r.uri) for r in (await mcp_client.list_resources()).resources]
    assert not [uri for uri in listed if uri.startswith("workers-ai://outputs/")]


async def test_an_unknown_resource_uri_is_not_found(mcp_client: Client) -> None:
    await not_found(mcp_client, "workers-ai://nothing-here")


async def test_an_output_over_the_media_cap_is_refused_by_name_of_the_setting_and_not_listed(
    mcp_client: Client, settings: Settings
) -> None:
    huge = outputs_of(settings) / "huge.png"
    with huge.open("wb") as handle:
        handle.truncate(3 * 1024**3)  # sparse: 3 GiB on paper, nothing on disk
    message = await not_found(mcp_client, "workers-ai://outputs/huge.png")
    assert "WORKERS_AI_MCP_MAX_INPUT_BYTES" in message and "3072.0 MiB" in message
    listed = [str(r.uri) for r in (await mcp_client.list_resources()).resources]
    assert "workers-ai://outputs/huge.png" not in listed


async def every_page(client: Client) -> list[tuple[list[str], str | None]]:
    """Each resources/list page's URIs and the cursor it gave, following cursors to the end."""
    pages: list[tuple[list[str], str | None]] = []
    cursor: str | None = None
    while True:
        listed = await client.list_resources(cursor=cursor, cache_mode="bypass")
        pages.append(([str(r.uri) for r in listed.resources], listed.next_cursor))
        cursor = listed.next_cursor
        if cursor is None:
            return pages


def make_outputs(settings: Settings, count: int) -> None:
    folder = outputs_of(settings)
    for index in range(count):
        path = folder / f"out-{index:03d}.json"
        path.write_text("{}")
        os.utime(path, (1_000_000 + index, 1_000_000 + index))


async def test_every_output_is_listed_newest_first_in_pages_of_fifty(mcp_client: Client, settings: Settings) -> None:
    make_outputs(settings, 120)
    pages = await every_page(mcp_client)
    sizes = [len(uris) for uris, _ in pages]
    listed = [uri for uris, _ in pages for uri in uris]
    outputs = [uri.removeprefix("workers-ai://outputs/") for uri in listed if uri.startswith("workers-ai://outputs/")]
    assert outputs == [f"out-{index:03d}.json" for index in range(119, -1, -1)]
    assert len(listed) == len(set(listed)) and sizes[:-1] == [50] * (len(sizes) - 1)


async def test_a_file_added_between_pages_shifts_no_later_page(mcp_client: Client, settings: Settings) -> None:
    make_outputs(settings, 70)
    first = await mcp_client.list_resources(cache_mode="bypass")
    assert first.next_cursor is not None
    (outputs_of(settings) / "newer.json").write_text("{}")  # newest of all: it sorts before the first page
    second = await mcp_client.list_resources(cursor=first.next_cursor, cache_mode="bypass")
    seen = [str(r.uri) for r in first.resources + second.resources]
    assert len(seen) == len(set(seen)) and "workers-ai://outputs/out-000.json" in seen
    assert "workers-ai://outputs/newer.json" not in seen
    assert "workers-ai://outputs/newer.json" in [str(r.uri) for r in (await mcp_client.list_resources()).resources]


async def test_a_cursor_whose_resource_was_deleted_asks_to_list_again(mcp_client: Client, settings: Settings) -> None:
    make_outputs(settings, 70)
    first = await mcp_client.list_resources(cache_mode="bypass")
    last = str(first.resources[-1].uri).removeprefix("workers-ai://outputs/")
    (outputs_of(settings) / last).unlink()
    with pytest.raises(MCPError) as raised:
        await mcp_client.list_resources(cursor=first.next_cursor, cache_mode="bypass")
    assert raised.value.error.code == INVALID_PARAMS
    assert "list again" in raised.value.error.message
