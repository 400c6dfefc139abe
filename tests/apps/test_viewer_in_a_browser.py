"""The viewer as a person sees it: real tool results from an emulated session, in a host page in Chromium.

Each test makes a real call through an MCP session (the emulator upstream), hands the input and the
result to the viewer inside `tests/apps/host.html` (ext-apps' AppBridge on the host side), and checks
what is on screen: the image decoded at its real size, the boxes where the JSON puts them, the audio's
duration, the chart's bars. The page may ask for nothing outside the bridge. With
`VIEWER_SCREENSHOTS=<folder>` set, each view is also saved as a PNG (README's pictures).
"""

from __future__ import annotations

import base64
import os
import re
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from mcp import Client
from mcp.types import BlobResourceContents, CallToolResult, ResourceLink
from playwright.async_api import FrameLocator
from starlette.applications import Starlette

from support.apps import AppsClient
from support.media import data_uri, small_png, wav_bytes
from support.session import held_open, open_session
from workers_ai_mcp.settings import Settings

from .browser import ViewerHost, open_host

SEEDED_MODEL = "@cf/stabilityai/stable-diffusion-xl-base-1.0"  # an image model whose schema takes a seed


@pytest.fixture
async def client(settings: Settings, emulator_app: Starlette) -> AsyncIterator[Client]:
    async with held_open(open_session(settings, upstream=emulator_app, extensions=[AppsClient()])) as session:
        yield session


@pytest.fixture
async def host(client: Client) -> AsyncIterator[ViewerHost]:
    async with held_open(open_host(client)) as opened:
        yield opened
    assert opened.strays == [], "the viewer asked for something outside the bridge"


async def call(client: Client, name: str, arguments: dict[str, Any]) -> CallToolResult:
    result = await client.call_tool(name, arguments)
    assert not result.is_error, result.content
    return result


async def saved_bytes(client: Client, result: CallToolResult) -> bytes:
    (link,) = [block for block in result.content if isinstance(block, ResourceLink)]
    (contents,) = (await client.read_resource(str(link.uri))).contents
    assert isinstance(contents, BlobResourceContents)
    return base64.b64decode(contents.blob)


def png_size(data: bytes) -> tuple[int, int]:
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    return int.from_bytes(data[16:20], "big"), int.from_bytes(data[20:24], "big")


def mp3_seconds(data: bytes) -> float:
    """The length of a constant-bitrate MPEG-1 Layer III file, counted frame by frame after its ID3 tag."""
    offset = 0
    if data[:3] == b"ID3":
        size = data[6:10]
        offset = 10 + (size[0] << 21 | size[1] << 14 | size[2] << 7 | size[3])
    bitrates = [0, 32, 40, 48, 56, 64, 80, 96, 112, 128, 160, 192, 224, 256, 320]
    rates = [44100, 48000, 32000]
    frames = 0
    sample_rate = 44100
    while offset + 4 <= len(data) and data[offset] == 0xFF and data[offset + 1] & 0xE0 == 0xE0:
        bitrate = bitrates[data[offset + 2] >> 4] * 1000
        sample_rate = rates[(data[offset + 2] >> 2) & 0x3]
        padding = (data[offset + 2] >> 1) & 0x1
        offset += 144 * bitrate // sample_rate + padding
        frames += 1
    return frames * 1152 / sample_rate


async def screenshot(host: ViewerHost, name: str, *, height: int | None = None) -> None:
    folder = os.environ.get("VIEWER_SCREENSHOTS")
    if not folder:
        return
    path = str(Path(folder) / f"{name}.png")
    if height is None:
        await host.app.locator("main").screenshot(path=path)
        return
    box = await host.page.locator("#app").bounding_box()
    assert box is not None
    await host.page.screenshot(path=path, clip={"x": box["x"], "y": box["y"], "width": box["width"], "height": height})


async def test_a_generated_image_is_shown_at_its_real_size_with_its_prompt_and_seed(
    client: Client, host: ViewerHost
) -> None:
    arguments = {"prompt": "a red fox in the snow", "seed": 7, "model": SEEDED_MODEL}
    result = await call(client, "generate_image", arguments)
    width, height = png_size(await saved_bytes(client, result))

    app = await host.show(arguments, result)
    picture = app.locator("img[data-uri]")
    await picture.wait_for()
    assert await picture.evaluate("i => [i.naturalWidth, i.naturalHeight]") == [width, height]
    assert await app.locator("h1").inner_text() == "a red fox in the snow"
    assert "seed 7" in await app.locator("#facts").inner_text()
    await screenshot(host, "image")


async def test_regenerating_from_the_viewer_makes_a_new_image_through_the_host(
    client: Client, host: ViewerHost
) -> None:
    arguments = {"prompt": "a lighthouse at dusk", "seed": 1, "model": SEEDED_MODEL}
    app = await host.show(arguments, await call(client, "generate_image", arguments))
    await app.get_by_role("button", name="Regenerate with another seed").click()
    await (
        app.locator("#facts").filter(has_text=re.compile(r"seed \d+$"), has_not_text=re.compile(r"seed 1$")).wait_for()
    )
    outputs = [r for r in (await client.list_resources()).resources if str(r.uri).startswith("workers-ai://outputs/")]
    assert len(outputs) == 2


async def test_detections_are_drawn_as_boxes_where_the_result_puts_them_and_the_slider_hides_weak_ones(
    client: Client, host: ViewerHost, tmp_path: Path
) -> None:
    image = data_uri(small_png(320, 240), "image/png")
    result = await call(client, "detect_objects", {"image": image, "min_score": 0.1})
    objects = (result.structured_content or {})["objects"]
    assert objects

    app = await host.show({"image": image, "min_score": 0.1}, result)
    stage = app.locator("#stage")
    await stage.locator("img").wait_for()
    origin = await stage.evaluate(
        "s => { const r = s.querySelector('img').getBoundingClientRect(); return [r.x, r.y, r.width]; }"
    )
    scale = origin[2] / 320
    boxes = app.locator(".box")
    assert await boxes.count() == len(objects)
    for index, found in enumerate(objects):
        drawn = await boxes.nth(index).evaluate(
            "b => { const r = b.getBoundingClientRect(); return [r.x, r.y, r.width, r.height]; }"
        )
        box = found["box"]
        expected = [
            origin[0] + box["xmin"] * scale, origin[1] + box["ymin"] * scale,
            (box["xmax"] - box["xmin"]) * scale, (box["ymax"] - box["ymin"]) * scale,
        ]  # fmt: skip
        assert drawn == pytest.approx(expected, abs=1.5)
    await screenshot(host, "detections")

    least = sorted(found["score"] for found in objects)[-1]
    await app.locator("#score").fill(str(least))
    visible = [await boxes.nth(i).is_visible() for i in range(len(objects))]
    assert visible == [found["score"] >= least for found in objects]


async def test_generated_speech_plays_in_a_player_with_the_file_s_duration(client: Client, host: ViewerHost) -> None:
    arguments = {"text": "The quick brown fox jumps over the lazy dog, twice over."}
    result = await call(client, "text_to_speech", arguments)
    seconds = mp3_seconds(await saved_bytes(client, result))

    app = await host.show(arguments, result)
    player = app.locator("audio#player")
    await player.wait_for(state="attached")
    duration = await player.evaluate(
        "a => new Promise(ok => a.readyState >= 1 ? ok(a.duration)"
        " : a.addEventListener('loadedmetadata', () => ok(a.duration)))"
    )
    assert duration == pytest.approx(seconds, abs=0.05)
    await screenshot(host, "speech")


async def test_a_transcript_lists_its_segments_with_times_and_a_click_seeks_the_recording(
    client: Client, host: ViewerHost
) -> None:
    recording = data_uri(wav_bytes(25.0), "audio/wav")  # three 10 s segments
    result = await call(client, "transcribe_audio", {"audio": recording})
    segments = (result.structured_content or {})["segments"]

    app = await host.show({"audio": recording}, result)
    items = app.locator(".segments li")
    await items.first.wait_for()
    assert await items.count() == len(segments)
    assert segments[0]["text"] in await items.first.inner_text()
    await items.last.click()
    position = await app.locator("audio").evaluate("a => a.currentTime")  # it plays on from there
    assert segments[-1]["start"] <= position < segments[-1]["start"] + 1
    await screenshot(host, "transcript")


async def test_the_spending_chart_draws_one_bar_per_model_in_proportion_to_what_usage_reports(
    client: Client, host: ViewerHost
) -> None:
    await call(client, "generate_image", {"prompt": "a kite"})
    await call(client, "transcribe_audio", {"audio": data_uri(wav_bytes(2.0), "audio/wav")})
    await call(client, "chat", {"prompt": "Say hello."})
    result = await call(client, "usage", {})
    report = result.structured_content or {}

    app = await host.show({}, result)
    bars = app.locator("svg[data-window='Today'] rect[data-model]")
    await bars.first.wait_for()
    drawn = {
        await bar.get_attribute("data-model"): float(await bar.get_attribute("width") or 0) for bar in await bars.all()
    }
    spent = {m["model"]: m["cost_usd"] + m["fallback_usd"] for m in report["today"]["models"] if m["calls"]}
    assert set(drawn) == set(spent)
    largest = max(spent, key=lambda model: spent[model])
    for model, width in drawn.items():
        assert width == pytest.approx(max(1.0, drawn[largest] * spent[model] / spent[largest]), rel=0.02)
    measured = app.locator("svg[data-window='Today'] rect[data-measured]")
    priced = {m["model"]: m["cost_usd"] for m in report["today"]["models"] if m["calls"]}
    for index, model in enumerate(drawn):
        width = float(await measured.nth(index).get_attribute("width") or 0)
        assert width == pytest.approx(drawn[model] * priced[model] / spent[model], rel=0.02, abs=0.01)
    await screenshot(host, "spending")


async def test_a_failed_call_shows_its_sentence(client: Client, host: ViewerHost) -> None:
    failed = await client.call_tool("generate_image", {"prompt": "x", "model": "@cf/meta/llama-3.1-8b-instruct"})
    assert failed.is_error
    app: FrameLocator = await host.show({"prompt": "x"}, failed)
    await app.locator(".error").wait_for()
    assert (await app.locator(".error").inner_text()).strip()


async def test_the_test_host_catches_a_page_that_reaches_outside_the_bridge(client: Client) -> None:
    result = await call(client, "describe_image", {"image": data_uri(small_png(), "image/png")})
    async with open_host(client) as host:
        await host.page.evaluate(
            "([input, result]) => { window.startApp("  # not awaited: this page never initializes the bridge
            "'<html><head></head><body><img src=\"http://elsewhere.test/pixel.png\"></body></html>',"
            ' "img-src http://elsewhere.test", input, result); }',
            [{}, result.model_dump(mode="json", by_alias=True, exclude_none=True)],
        )
        for _ in range(100):  # at most 10 s for the frame to load and ask
            if host.strays:
                break
            await host.page.wait_for_timeout(100)
    assert host.strays == ["http://elsewhere.test/pixel.png"]


HOSTILE_HTML = (
    "<html><body><h1>Quarterly notes</h1><p>Revenue <b>grew</b>.</p>"
    "<p>&lt;script&gt;window.parent.postMessage('pwned', '*')&lt;/script&gt;"
    "&lt;img src=x onerror=alert(1)&gt;</p></body></html>"
)


async def test_converted_documents_are_rendered_as_markdown_and_nothing_in_them_becomes_markup(
    client: Client, host: ViewerHost
) -> None:
    documents = [
        data_uri(HOSTILE_HTML.encode(), "text/html"),
        data_uri(b"name,score\nada,1\ngrace,2\n", "text/csv"),
        data_uri(("# Long\n\n" + "A line of a long report.\n\n" * 2000).encode(), "text/html"),
    ]
    result = await call(client, "to_markdown", {"documents": documents})

    app = await host.show({"documents": documents}, result)
    rendered = app.locator(".markdown")
    await rendered.nth(2).wait_for()
    assert await rendered.count() == 3
    first = rendered.nth(0)
    assert "<script" in await first.inner_text() and "onerror" in await first.inner_text()
    assert await first.locator("script, img").count() == 0
    assert await rendered.nth(1).locator("td").count() >= 6  # the CSV's header and two rows
    assert (await rendered.nth(2).inner_text()).count("A line of a long report.") == 2000  # read whole
    await screenshot(host, "documents", height=560)
