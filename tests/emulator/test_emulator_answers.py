"""What each kind of model answers: deterministic, well-formed, and marked as coming from the emulator."""

from __future__ import annotations

import base64
import io
import math
from typing import Any

import httpx2
from PIL import Image

from support.emulator import AI, LLAMA, make_png, make_wav, mp3_frames


async def run(client: httpx2.AsyncClient, model: str, body: dict[str, Any]) -> Any:
    response = await client.post(f"{AI}/run/{model}", json=body)
    assert response.status_code == 200, response.text
    assert response.json()["success"] is True
    return response.json()["result"]


async def post_bytes(client: httpx2.AsyncClient, model: str, data: bytes, media_type: str) -> httpx2.Response:
    return await client.post(f"{AI}/run/{model}", content=data, headers={"content-type": media_type})


def cosine(a: list[float], b: list[float]) -> float:
    return sum(x * y for x, y in zip(a, b, strict=True))


async def test_text_generation_echoes_input_within_max_tokens(client: httpx2.AsyncClient) -> None:
    result = await run(client, LLAMA, {"prompt": "Tell me about the otters", "max_tokens": 6})
    assert result["response"] == "[emulator] You said: Tell me about"
    assert result["usage"] == {"prompt_tokens": 5, "completion_tokens": 6, "total_tokens": 11}


async def test_text_generation_echoes_the_last_user_message(client: httpx2.AsyncClient) -> None:
    messages = [
        {"role": "system", "content": "Be brief."},
        {"role": "user", "content": "first question"},
        {"role": "assistant", "content": "an answer"},
        {"role": "user", "content": "second question"},
    ]
    result = await run(client, "@cf/meta/llama-3.1-8b-instruct-fp8", {"messages": messages})
    assert result["response"].startswith("[emulator] You said: second question |")
    assert result["usage"]["prompt_tokens"] == 8


async def test_json_mode_answers_an_object_shaped_by_the_schema(client: httpx2.AsyncClient) -> None:
    schema = {
        "type": "object",
        "properties": {
            "name": {"type": "string"},
            "age": {"type": "integer", "minimum": 3},
            "ok": {"type": "boolean"},
            "tags": {"type": "array", "items": {"type": "string"}, "minItems": 2},
            "kind": {"enum": ["a", "b"]},
        },
        "required": ["name", "age"],
    }
    body = {"prompt": "Describe Ana", "response_format": {"type": "json_schema", "json_schema": schema}}
    response = (await run(client, LLAMA, body))["response"]
    assert response["name"].startswith("[emulator]")
    assert response["age"] == 3
    assert response["ok"] is True
    assert len(response["tags"]) == 2
    assert response["kind"] == "a"
    plain = (await run(client, LLAMA, {"prompt": "x", "response_format": {"type": "json_object"}}))["response"]
    assert plain["emulator"] is True


async def test_gpt_oss_answers_chat_completion_or_response_object(client: httpx2.AsyncClient) -> None:
    model = "@cf/openai/gpt-oss-120b"
    chat = await run(client, model, {"messages": [{"role": "user", "content": [{"type": "text", "text": "Hi"}]}]})
    assert chat["object"] == "chat.completion"
    assert chat["choices"][0]["message"]["content"].startswith("[emulator] You said: Hi")
    assert chat["choices"][0]["message"]["reasoning_content"]
    response = await run(client, model, {"input": "Hello", "reasoning": {"effort": "low"}})
    assert response["object"] == "response"
    assert response["reasoning"] == {"effort": "low"}


async def test_embeddings_are_unit_vectors_closer_for_shared_words(client: httpx2.AsyncClient) -> None:
    texts = ["the cat sat on the mat", "a cat on a mat", "quarterly revenue grew strongly"]
    result = await run(client, "@cf/baai/bge-base-en-v1.5", {"text": texts})
    assert result["shape"] == [3, 768]
    assert result["pooling"] == "mean"
    a, b, c = result["data"]
    assert all(math.isclose(cosine(v, v), 1.0, rel_tol=1e-9) for v in (a, b, c))
    assert cosine(a, b) > 0.5 > abs(cosine(a, c))


async def test_embedding_sizes_follow_the_model(client: httpx2.AsyncClient) -> None:
    for model, dims in (("@cf/baai/bge-small-en-v1.5", 384), ("@cf/baai/bge-large-en-v1.5", 1024)):
        result = await run(client, model, {"text": "hello"})
        assert result["shape"] == [1, dims]
        assert len(result["data"][0]) == dims
    cls = await run(client, "@cf/baai/bge-small-en-v1.5", {"text": "hello", "pooling": "cls"})
    assert cls["pooling"] == "cls"


async def test_reranker_orders_contexts_by_shared_words_and_honours_top_k(client: httpx2.AsyncClient) -> None:
    contexts = [{"text": "stock prices fell"}, {"text": "the otter and the river swim"}, {"text": "fish swim"}]
    body = {"query": "otter river swim", "contexts": contexts}
    ranked = (await run(client, "@cf/baai/bge-reranker-base", body))["response"]
    assert ranked[0]["id"] == 1
    assert [r["score"] for r in ranked] == sorted((r["score"] for r in ranked), reverse=True)
    assert all(0.0 <= r["score"] <= 1.0 for r in ranked)
    top = (await run(client, "@cf/baai/bge-reranker-base", {**body, "top_k": 1}))["response"]
    assert top == ranked[:1]


async def test_translation_summary_and_sentiment(client: httpx2.AsyncClient) -> None:
    translated = await run(client, "@cf/meta/m2m100-1.2b", {"text": "good morning", "target_lang": "fr"})
    assert translated == {"translated_text": "[emulator en→fr] good morning"}
    text = "one two three four five six seven eight nine ten"
    summary = await run(client, "@cf/facebook/bart-large-cnn", {"input_text": text, "max_length": 4})
    assert summary == {"summary": "[emulator] one two three"}
    happy = await run(client, "@cf/huggingface/distilbert-sst-2-int8", {"text": "I love this, it is great"})
    sad = await run(client, "@cf/huggingface/distilbert-sst-2-int8", {"text": "terrible, I hate it"})
    assert [s["label"] for s in happy] == ["NEGATIVE", "POSITIVE"]
    assert math.isclose(sum(s["score"] for s in happy), 1.0)
    assert happy[1]["score"] > 0.9 and sad[0]["score"] > 0.9


async def test_image_classification_takes_a_raw_body_and_answers_top_five(client: httpx2.AsyncClient) -> None:
    image = make_png()
    response = await client.post(
        f"{AI}/run/@cf/microsoft/resnet-50", content=image, headers={"content-type": "image/png"}
    )
    labels = response.json()["result"]
    assert len(labels) == 5
    assert len({label["label"] for label in labels}) == 5
    assert sum(label["score"] for label in labels) <= 1.0
    assert [label["score"] for label in labels] == sorted((label["score"] for label in labels), reverse=True)
    as_ints = await run(client, "@cf/microsoft/resnet-50", {"image": list(image)})
    assert as_ints == labels


async def test_bytes_that_are_not_an_image_are_bad_input(client: httpx2.AsyncClient) -> None:
    for body in (b"definitely not a picture", b""):
        response = await client.post(
            f"{AI}/run/@cf/microsoft/resnet-50", content=body, headers={"content-type": "image/png"}
        )
        assert response.status_code == 400
        assert response.json()["errors"][0]["code"] == 5006


async def test_object_detection_boxes_lie_inside_the_image(client: httpx2.AsyncClient) -> None:
    image = make_png(320, 200)
    response = await client.post(
        f"{AI}/run/@cf/facebook/detr-resnet-50", content=image, headers={"content-type": "image/png"}
    )
    found = response.json()["result"]
    assert 1 <= len(found) <= 3
    for item in found:
        box = item["box"]
        assert 0 <= box["xmin"] < box["xmax"] <= 320
        assert 0 <= box["ymin"] < box["ymax"] <= 200
        assert 0 < item["score"] < 1


async def test_llava_describes_size_and_colour(client: httpx2.AsyncClient) -> None:
    body = {"image": list(make_png(40, 30)), "prompt": "What is it?", "max_tokens": 64}
    result = await run(client, "@cf/llava-hf/llava-1.5-7b-hf", body)
    assert result["description"] == "[emulator] A 40x30 PNG image, mostly red. You asked: What is it?"
    raw = await client.post(f"{AI}/run/@cf/llava-hf/llava-1.5-7b-hf", content=make_png(40, 30))
    assert raw.json()["result"]["description"] == "[emulator] A 40x30 PNG image, mostly red."


async def test_whisper_transcribes_a_raw_body_with_word_timings(client: httpx2.AsyncClient) -> None:
    audio = make_wav(seconds=2.0)
    response = await client.post(f"{AI}/run/@cf/openai/whisper", content=audio, headers={"content-type": "audio/wav"})
    result = response.json()["result"]
    assert result["text"].startswith("[emulator] transcript of 2 seconds")
    assert result["word_count"] == len(result["words"]) == len(result["text"].split())
    assert result["words"][-1]["end"] == 2.0
    assert result["vtt"].startswith("WEBVTT\n\n00:00.000 --> 00:02.000\n")


async def test_whisper_turbo_takes_base64_and_answers_segments(client: httpx2.AsyncClient) -> None:
    body = {"audio": base64.b64encode(make_wav(seconds=1.5)).decode(), "language": "de"}
    result = await run(client, "@cf/openai/whisper-large-v3-turbo", body)
    assert result["transcription_info"]["language"] == "de"
    assert result["transcription_info"]["duration"] == 1.5
    assert result["segments"][0]["text"] == result["text"]
    bad = await client.post(f"{AI}/run/@cf/openai/whisper-large-v3-turbo", json={"audio": "***"})
    assert bad.status_code == 400
    assert bad.json()["errors"][0]["code"] == 5004


async def test_whisper_turbo_cuts_a_long_recording_into_contiguous_segments(client: httpx2.AsyncClient) -> None:
    body = {"audio": base64.b64encode(make_wav(seconds=25.0)).decode()}
    result = await run(client, "@cf/openai/whisper-large-v3-turbo", body)
    segments = result["segments"]
    assert len(segments) == 3
    assert segments[0]["start"] == 0.0 and segments[-1]["end"] == 25.0
    assert all(a["end"] == b["start"] for a, b in zip(segments, segments[1:], strict=False))
    assert " ".join(segment["text"] for segment in segments) == result["text"]


async def test_empty_audio_is_bad_input(client: httpx2.AsyncClient) -> None:
    response = await client.post(f"{AI}/run/@cf/openai/whisper", content=b"", headers={"content-type": "audio/wav"})
    assert response.status_code == 400
    assert "empty" in response.json()["errors"][0]["message"]


async def test_sdxl_answers_a_raw_png_of_the_requested_size(client: httpx2.AsyncClient) -> None:
    body = {"prompt": "a lighthouse", "width": 320, "height": 256}
    response = await client.post(f"{AI}/run/@cf/stabilityai/stable-diffusion-xl-base-1.0", json=body)
    assert response.status_code == 200
    assert response.headers["content-type"] == "image/png"
    image = Image.open(io.BytesIO(response.content))
    assert image.format == "PNG"
    assert image.size == (320, 256)
    assert "emulator" in image.info["Software"]
    again = await client.post(f"{AI}/run/@cf/stabilityai/stable-diffusion-xl-base-1.0", json=body)
    assert again.content == response.content


async def test_flux_answers_base64_png_in_the_envelope(client: httpx2.AsyncClient) -> None:
    result = await run(client, "@cf/black-forest-labs/flux-1-schnell", {"prompt": "a cat", "steps": 4})
    image = Image.open(io.BytesIO(base64.b64decode(result["image"])))
    image.load()
    assert image.size == (1024, 1024)


async def test_aura_answers_raw_mp3_frames_growing_with_the_text(client: httpx2.AsyncClient) -> None:
    short = await client.post(f"{AI}/run/@cf/deepgram/aura-1", json={"text": "Hi there."})
    long = await client.post(f"{AI}/run/@cf/deepgram/aura-1", json={"text": "Hi there. " * 40})
    assert short.headers["content-type"] == "audio/mpeg"
    assert short.content.startswith(b"ID3")
    assert len(mp3_frames(long.content)) > len(mp3_frames(short.content)) >= 4


async def test_melotts_answers_base64_mp3_in_the_envelope(client: httpx2.AsyncClient) -> None:
    result = await run(client, "@cf/myshell-ai/melotts", {"prompt": "Bonjour", "lang": "fr"})
    assert mp3_frames(base64.b64decode(result["audio"]))


async def test_nova_and_smart_turn_take_audio(client: httpx2.AsyncClient) -> None:
    audio = make_wav()
    nova = await client.post(f"{AI}/run/@cf/deepgram/nova-3", content=audio, headers={"content-type": "audio/wav"})
    alternative = nova.json()["result"]["results"]["channels"][0]["alternatives"][0]
    assert alternative["transcript"].startswith("[emulator]")
    turn = await run(client, "@cf/pipecat-ai/smart-turn-v2", {"audio": base64.b64encode(audio).decode()})
    assert isinstance(turn["is_complete"], bool)
    assert 0.0 <= turn["probability"] <= 1.0
