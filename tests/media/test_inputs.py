"""`resolve_media`: every input form, the kind check, and one-sentence refusals."""

from __future__ import annotations

import base64
from collections.abc import Callable
from pathlib import Path
from urllib.parse import quote_from_bytes

import httpx2
import pytest

from support.media_inputs import Loopback, RecordingTransport
from workers_ai_mcp.client.errors import InvalidRequestError
from workers_ai_mcp.media.inputs import MediaInput, MediaInputError, resolve_media
from workers_ai_mcp.settings import Settings

SettingsFactory = Callable[..., Settings]

WEBM_HEAD = b"\x1a\x45\xdf\xa3\x9f\x42\x86\x81\x01\x42\xf7\x81\x01\x42\x82\x84webm\x42\x87" + b"\x00" * 64


@pytest.fixture
def settings(media_settings: SettingsFactory) -> Settings:
    return media_settings()


def _one_sentence(message: str) -> bool:
    return message.endswith(".") and ". " not in message.rstrip(".")


async def test_a_local_image_is_read_once_and_described_by_its_path(
    root: Path, png: bytes, settings: Settings, http: httpx2.AsyncClient, recorder: RecordingTransport
) -> None:
    (root / "cat.png").write_bytes(png)
    media = await resolve_media(str(root / "cat.png"), "image", settings=settings, http=http)
    assert media == MediaInput(data=png, media_type="image/png", source=f"file {root / 'cat.png'}")
    assert recorder.requests == []


async def test_a_home_relative_path_is_shown_with_a_tilde(
    tmp_path: Path,
    png: bytes,
    media_settings: SettingsFactory,
    http: httpx2.AsyncClient,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    home = tmp_path / "home"
    home.mkdir()
    (home / "cat.png").write_bytes(png)
    monkeypatch.setenv("HOME", str(home))
    media = await resolve_media("~/cat.png", "image", settings=media_settings(input_roots=[home]), http=http)
    assert media.source == "file ~/cat.png"


async def test_a_wav_file_resolves_as_audio(
    root: Path, wav: bytes, settings: Settings, http: httpx2.AsyncClient
) -> None:
    (root / "voice.wav").write_bytes(wav)
    media = await resolve_media("voice.wav", "audio", settings=settings, http=http)
    assert (media.media_type, media.data) == ("audio/wav", wav)


async def test_a_webm_recording_is_accepted_as_audio_with_its_container_type(
    root: Path, settings: Settings, http: httpx2.AsyncClient
) -> None:
    (root / "memo.webm").write_bytes(WEBM_HEAD)
    media = await resolve_media("memo.webm", "audio", settings=settings, http=http)
    assert media.media_type == "video/webm"


async def test_a_text_file_named_png_is_refused_as_not_an_image(
    root: Path, settings: Settings, http: httpx2.AsyncClient
) -> None:
    (root / "notes.png").write_text("shopping list: milk, eggs\n")
    with pytest.raises(MediaInputError) as refused:
        await resolve_media("notes.png", "image", settings=settings, http=http)
    message = str(refused.value)
    assert "is not an image (it looks like text/plain)" in message
    assert "pass a PNG, JPEG" in message
    assert _one_sentence(message)


async def test_an_image_passed_as_audio_is_refused_naming_what_it_is(
    root: Path, png: bytes, settings: Settings, http: httpx2.AsyncClient
) -> None:
    (root / "cat.mp3").write_bytes(png)
    with pytest.raises(MediaInputError, match=r"is not audio \(it looks like image/png\); pass an MP3, WAV"):
        await resolve_media("cat.mp3", "audio", settings=settings, http=http)


async def test_binary_data_of_no_known_format_is_called_unknown(
    root: Path, settings: Settings, http: httpx2.AsyncClient
) -> None:
    (root / "blob.png").write_bytes(bytes(range(256)))
    with pytest.raises(MediaInputError, match=r"it looks like unknown data"):
        await resolve_media("blob.png", "image", settings=settings, http=http)


async def test_an_svg_is_refused_with_advice_to_convert_it(
    root: Path, settings: Settings, http: httpx2.AsyncClient
) -> None:
    (root / "logo.svg").write_text('<svg xmlns="http://www.w3.org/2000/svg"/>')
    with pytest.raises(MediaInputError, match="is image/svg\\+xml, which the models cannot read; convert it"):
        await resolve_media("logo.svg", "image", settings=settings, http=http)


async def test_an_empty_file_and_an_empty_value_are_refused(
    root: Path, settings: Settings, http: httpx2.AsyncClient
) -> None:
    (root / "empty.png").write_bytes(b"")
    with pytest.raises(MediaInputError, match="is empty"):
        await resolve_media("empty.png", "image", settings=settings, http=http)
    with pytest.raises(MediaInputError, match="The image is empty; pass a file path, an http"):
        await resolve_media("   ", "image", settings=settings, http=http)


async def test_path_refusals_become_media_input_errors_that_tools_report(
    root: Path, png: bytes, settings: Settings, http: httpx2.AsyncClient
) -> None:
    (root / ".ssh").mkdir()
    (root / ".ssh" / "id_rsa.png").write_bytes(png)
    with pytest.raises(InvalidRequestError, match=r"hidden file or folder \(\.ssh\)") as refused:
        await resolve_media(".ssh/id_rsa.png", "image", settings=settings, http=http)
    assert isinstance(refused.value, MediaInputError)
    assert _one_sentence(str(refused.value))


async def test_a_data_uri_is_decoded_and_sniffed(png: bytes, settings: Settings, http: httpx2.AsyncClient) -> None:
    uri = "data:image/png;base64," + base64.b64encode(png).decode()
    media = await resolve_media(uri, "image", settings=settings, http=http)
    assert media == MediaInput(data=png, media_type="image/png", source="data URI")


async def test_a_data_uri_declaring_another_image_type_resolves_to_the_sniffed_type(
    png: bytes, settings: Settings, http: httpx2.AsyncClient
) -> None:
    uri = "data:image/jpeg;base64," + base64.b64encode(png).decode()
    assert (await resolve_media(uri, "image", settings=settings, http=http)).media_type == "image/png"


async def test_a_data_uri_declaring_audio_but_holding_an_image_is_refused(
    png: bytes, wav: bytes, settings: Settings, http: httpx2.AsyncClient
) -> None:
    image_as_audio = "data:audio/mpeg;base64," + base64.b64encode(png).decode()
    with pytest.raises(MediaInputError, match="declares audio/mpeg but holds image/png data"):
        await resolve_media(image_as_audio, "image", settings=settings, http=http)
    audio_as_image = "data:image/png;base64," + base64.b64encode(wav).decode()
    with pytest.raises(MediaInputError, match="declares image/png but holds audio/wav data"):
        await resolve_media(audio_as_image, "audio", settings=settings, http=http)


async def test_a_percent_encoded_data_uri_is_decoded(png: bytes, settings: Settings, http: httpx2.AsyncClient) -> None:
    uri = "data:image/png," + quote_from_bytes(png)
    assert (await resolve_media(uri, "image", settings=settings, http=http)).data == png


@pytest.mark.parametrize(
    ("uri", "reason"),
    [
        ("data:image/png;base64", "no comma"),
        ("data:image/png;base64,iVBORw0KGgo!!!!", "not valid base64"),
        ("data:image/png;base64,iVBORw0KG", "its length is wrong"),
    ],
)
async def test_a_malformed_data_uri_is_refused(
    uri: str, reason: str, settings: Settings, http: httpx2.AsyncClient
) -> None:
    with pytest.raises(MediaInputError, match=reason):
        await resolve_media(uri, "image", settings=settings, http=http)


async def test_raw_base64_with_line_breaks_is_decoded(png: bytes, settings: Settings, http: httpx2.AsyncClient) -> None:
    encoded = base64.encodebytes(png).decode()  # wrapped at 76 characters
    assert "\n" in encoded.strip()
    media = await resolve_media(encoded, "image", settings=settings, http=http)
    assert media == MediaInput(data=png, media_type="image/png", source="base64")


async def test_url_safe_base64_without_padding_is_decoded(
    png: bytes, settings: Settings, http: httpx2.AsyncClient
) -> None:
    encoded = base64.urlsafe_b64encode(png).decode().rstrip("=")
    assert (await resolve_media(encoded, "image", settings=settings, http=http)).data == png


async def test_long_base64_that_does_not_decode_is_refused(settings: Settings, http: httpx2.AsyncClient) -> None:
    with pytest.raises(MediaInputError, match="is not valid base64"):
        await resolve_media("iVBORw0KGgo" + "A" * 2000 + "=A==", "image", settings=settings, http=http)


async def test_a_short_word_that_is_not_media_in_base64_is_read_as_a_path(
    root: Path, png: bytes, settings: Settings, http: httpx2.AsyncClient
) -> None:
    (root / "photos").mkdir()
    (root / "photos" / "cat").write_bytes(png)
    media = await resolve_media("photos/cat", "image", settings=settings, http=http)
    assert media.source.startswith("file ") and media.data == png
    with pytest.raises(MediaInputError, match="There is no file at catphoto"):
        await resolve_media("catphoto", "image", settings=settings, http=http)


async def test_base64_larger_than_the_cap_is_refused_before_decoding(
    media_settings: SettingsFactory, http: httpx2.AsyncClient
) -> None:
    settings = media_settings(max_input_bytes=1024)
    with pytest.raises(MediaInputError, match="larger than the 0.0 MiB input limit"):
        await resolve_media("iVBORw0KGgo" + "A" * 4000 + "=", "image", settings=settings, http=http)


async def test_other_url_schemes_are_refused(settings: Settings, http: httpx2.AsyncClient) -> None:
    with pytest.raises(MediaInputError, match="ftp:// URLs are not fetched"):
        await resolve_media("ftp://example.com/cat.png", "image", settings=settings, http=http)


async def test_a_url_is_fetched_sniffed_and_described_without_its_query(
    server: Loopback, png: bytes, media_settings: SettingsFactory, http: httpx2.AsyncClient
) -> None:
    settings = media_settings(allow_private_urls=True)
    media = await resolve_media(f"{server.base}/cat.png?signature=s3cr3t", "image", settings=settings, http=http)
    assert media == MediaInput(data=png, media_type="image/png", source=f"URL {server.base}/cat.png")


async def test_a_url_serving_text_as_image_png_is_refused_by_its_bytes(
    server: Loopback, media_settings: SettingsFactory, http: httpx2.AsyncClient
) -> None:
    settings = media_settings(allow_private_urls=True)
    with pytest.raises(MediaInputError, match=r"The URL .*/disguised.png is not an image \(it looks like text/plain\)"):
        await resolve_media(f"{server.base}/disguised.png", "image", settings=settings, http=http)


async def test_a_private_url_is_refused_by_the_resolver_without_a_request(
    server: Loopback, settings: Settings, http: httpx2.AsyncClient, recorder: RecordingTransport
) -> None:
    with pytest.raises(MediaInputError, match="private, loopback or link-local") as refused:
        await resolve_media(f"{server.base}/cat.png", "image", settings=settings, http=http)
    assert _one_sentence(str(refused.value))
    assert recorder.requests == [] and server.hits == []
