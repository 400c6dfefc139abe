"""The output policy: previews, inline media per media mode, and the hard cap on a result's size."""

from __future__ import annotations

import base64
import io
from pathlib import Path
from typing import Any, cast

import pytest
from mcp.types import AudioContent, ContentBlock, ImageContent, ResourceLink, TextContent
from PIL import Image
from starlette.applications import Starlette

from support.media import Captured, decoded_size, noise_png, photo_jpeg, recording_upstream, small_png, write
from support.results import images_of, links_of, result_bytes, text_of
from support.session import open_session
from support.settings import make_settings as settings_for
from workers_ai_mcp.media.outputs import OutputStore
from workers_ai_mcp.media.previews import PreviewError, make_preview
from workers_ai_mcp.tools.host.media_blocks import cap_result, media_blocks, result_size
from workers_ai_mcp.tools.host.results import binary_media_result

MEBIBYTE = 1024 * 1024


def translucent_png(width: int, height: int) -> bytes:
    image = Image.linear_gradient("L").resize((width, height)).convert("RGBA")
    image.putalpha(128)
    out = io.BytesIO()
    image.save(out, "PNG")
    return out.getvalue()


def image_block(data: bytes, mime: str = "image/png") -> ImageContent:
    return ImageContent(type="image", data=base64.b64encode(data).decode(), mime_type=mime)


def link() -> ResourceLink:
    return ResourceLink(type="resource_link", uri="workers-ai://outputs/x.png", name="x.png", mime_type="image/png")


def test_an_image_that_already_fits_is_its_own_preview() -> None:
    image = small_png(200, 100)

    preview = make_preview(image, 300_000)

    assert preview == (image, "image/png", 200, 100)


def test_a_large_photo_is_scaled_to_the_long_side_and_fits_the_cap() -> None:
    preview = make_preview(photo_jpeg(3000, 2000), 300_000)

    assert len(preview.data) <= 300_000
    assert preview.mime_type == "image/jpeg"
    assert (preview.width, preview.height) == decoded_size(preview.data)
    assert max(preview.width, preview.height) <= 1024
    assert abs(preview.width / preview.height - 1.5) < 0.01


def test_a_tight_cap_shrinks_the_preview_until_it_fits() -> None:
    preview = make_preview(noise_png(1200, 900), 15_000)

    assert len(preview.data) <= 15_000
    assert preview.width < 1024


def test_previews_are_never_upscaled() -> None:
    out = io.BytesIO()
    Image.new("RGB", (100, 50), (1, 2, 3)).save(out, "BMP")  # a format clients may not show: re-encoded

    preview = make_preview(out.getvalue(), 300_000)

    assert (preview.width, preview.height) == (100, 50) == decoded_size(preview.data)
    assert preview.mime_type == "image/png"


def test_transparent_images_keep_their_transparency() -> None:
    preview = make_preview(translucent_png(1500, 1500), 300_000)

    assert preview.mime_type == "image/webp" and len(preview.data) <= 300_000
    with Image.open(io.BytesIO(preview.data)) as image:
        assert image.mode == "RGBA"


def test_bytes_that_are_not_an_image_give_no_preview() -> None:
    with pytest.raises(PreviewError):
        make_preview(b"not an image at all", 300_000)


def test_cap_result_shrinks_an_inline_image_and_keeps_the_text_and_link(tmp_path: Path) -> None:
    settings = settings_for(tmp_path)
    big = noise_png(700, 600)
    blocks: list[ContentBlock] = [TextContent(type="text", text="Saved x.png"), image_block(big), link()]
    assert result_size(blocks) > MEBIBYTE

    capped = cap_result(blocks, settings)

    assert result_size(capped) <= MEBIBYTE
    assert capped[0] == blocks[0] and link() in capped
    (shown,) = [b for b in capped if isinstance(b, ImageContent)]
    assert decoded_size(base64.b64decode(shown.data))[0] <= 700
    assert any(isinstance(b, TextContent) and "reduced" in b.text for b in capped)


def test_cap_result_drops_audio_that_cannot_fit(tmp_path: Path) -> None:
    settings = settings_for(tmp_path, max_result_bytes=100_000)
    sound = AudioContent(type="audio", data=base64.b64encode(b"\xff\xfb" * 60_000).decode(), mime_type="audio/mpeg")

    capped = cap_result([TextContent(type="text", text="Saved x.mp3"), sound, link()], settings)

    assert result_size(capped) <= 100_000
    assert not any(isinstance(b, AudioContent) for b in capped) and link() in capped


def test_cap_result_counts_structured_content_and_cuts_text_only_as_a_last_resort(tmp_path: Path) -> None:
    settings = settings_for(tmp_path, max_result_bytes=100_000)
    structured: dict[str, Any] = {"items": ["x" * 100] * 300}  # about 31 KB
    blocks: list[ContentBlock] = [TextContent(type="text", text="é" * 80_000), link()]

    capped = cap_result(blocks, settings, structured=structured)

    assert result_size(capped, structured) <= 100_000
    assert link() in capped
    text = cast(TextContent, capped[0]).text
    assert text.startswith("é" * 1000) and text.endswith("size cap]")


async def test_media_blocks_follow_the_media_mode(tmp_path: Path) -> None:
    image = photo_jpeg(1600, 1200)
    store = OutputStore(tmp_path / "outputs")
    saved = store.save(image, stem="photo", extension="jpg")

    preview = await media_blocks(saved, image, "image", settings_for(tmp_path))
    file_only = await media_blocks(saved, image, "image", settings_for(tmp_path, media_mode="file"))
    full = await media_blocks(saved, image, "image", settings_for(tmp_path, media_mode="full"))

    assert [type(b) for b in preview] == [TextContent, ImageContent, ResourceLink]
    assert decoded_size(base64.b64decode(cast(ImageContent, preview[1]).data)) == (1024, 768)
    assert [type(b) for b in file_only] == [TextContent, ResourceLink]
    assert base64.b64decode(cast(ImageContent, full[1]).data) == image
    for blocks in (preview, file_only, full):
        assert str(saved.path) in cast(TextContent, blocks[0]).text
        assert blocks[-1] == ResourceLink(
            type="resource_link", uri=saved.uri, name=saved.name, mime_type="image/jpeg", size=len(image)
        )


async def test_binary_media_result_saves_any_binary_answer_and_shows_what_it_can(tmp_path: Path) -> None:
    settings = settings_for(tmp_path)
    store = OutputStore(settings.output_dir)

    picture = await binary_media_result(store, settings, "@cf/some/painter", noise_png(1500, 1000), "image/png")
    sound = await binary_media_result(store, settings, "@cf/some/speaker", b"ID3" + bytes(5000), "audio/mpeg")
    other = await binary_media_result(store, settings, "@cf/some/writer", b"%PDF-1.7 ...", "application/pdf")

    assert [type(b) for b in picture] == [TextContent, ImageContent, ResourceLink]
    assert len(base64.b64decode(cast(ImageContent, picture[1]).data)) <= settings.preview_max_bytes
    assert [type(b) for b in sound] == [TextContent, AudioContent, ResourceLink]
    assert [type(b) for b in other] == [TextContent, ResourceLink]
    names = [cast(ResourceLink, blocks[-1]).name for blocks in (picture, sound, other)]
    assert [Path(name).suffix for name in names] == [".png", ".mp3", ".pdf"]
    assert (settings.output_dir / names[2]).read_bytes() == b"%PDF-1.7 ..."


async def test_full_mode_inlines_an_image_that_fits_under_the_hard_cap(tmp_path: Path, emulator_app: Starlette) -> None:
    path = write(tmp_path, "noise.png", noise_png(460, 460))  # about 630 KB: 840 KB as base64

    async with open_session(
        settings_for(tmp_path, media_mode="full"), upstream=recording_upstream(emulator_app, Captured())
    ) as client:
        result = await client.call_tool("detect_objects", {"image": str(path), "min_score": 0})

    assert not result.is_error, text_of(result)
    assert result_bytes(result) <= MEBIBYTE
    (shown,) = images_of(result)
    (saved,) = links_of(result)
    assert base64.b64decode(shown.data) == (tmp_path / "outputs" / saved.name).read_bytes()


async def test_full_mode_with_an_image_too_big_to_inline_still_stays_under_the_hard_cap(
    tmp_path: Path, emulator_app: Starlette
) -> None:
    path = write(tmp_path, "noise.png", noise_png(1400, 1000))  # about 4 MB

    async with open_session(
        settings_for(tmp_path, media_mode="full"), upstream=recording_upstream(emulator_app, Captured())
    ) as client:
        result = await client.call_tool("detect_objects", {"image": str(path), "min_score": 0})

    assert not result.is_error, text_of(result)
    assert result_bytes(result) <= MEBIBYTE
    assert "too large to show inline" in text_of(result)
    (shown,) = images_of(result)
    assert len(base64.b64decode(shown.data)) <= 300_000
    assert decoded_size((tmp_path / "outputs" / links_of(result)[0].name).read_bytes()) == (1400, 1000)


async def test_a_result_cap_below_the_preview_cap_still_holds(tmp_path: Path, emulator_app: Starlette) -> None:
    path = write(tmp_path, "noise.png", noise_png(900, 900))
    settings = settings_for(tmp_path, max_result_bytes=100_000)

    async with open_session(settings, upstream=recording_upstream(emulator_app, Captured())) as client:
        result = await client.call_tool("detect_objects", {"image": str(path), "min_score": 0})

    assert not result.is_error, text_of(result)
    assert result_bytes(result) <= 100_000
    assert result.structured_content and result.structured_content["objects"]
    (shown,) = images_of(result)
    assert decoded_size(base64.b64decode(shown.data))[0] < 900
    assert len(links_of(result)) == 1


async def test_preview_mode_plays_a_few_seconds_of_audio_inline_and_links_anything_longer(tmp_path: Path) -> None:
    settings = settings_for(tmp_path)
    store = OutputStore(settings.output_dir)

    short = await binary_media_result(store, settings, "@cf/some/speaker", b"ID3" + bytes(20_000), "audio/mpeg")
    long = await binary_media_result(store, settings, "@cf/some/speaker", b"ID3" + bytes(46_000), "audio/mpeg")

    assert [type(b) for b in short] == [TextContent, AudioContent, ResourceLink]
    assert [type(b) for b in long] == [TextContent, ResourceLink]
    assert "too long to play inline" in cast(TextContent, long[0]).text
