"""The recorded-answer corpus is well-formed: each file parses, cites a public source, and streams as SSE data lines."""

from __future__ import annotations

import json
import re

import pytest

from recorded.corpus import ROOT, CorpusError, Recording, all_recordings, load, names, parse

RECORDINGS = all_recordings()
STREAMS = [recording for recording in RECORDINGS if recording.response is not None and recording.response.is_stream]
README = (ROOT / "README.md").read_text(encoding="utf-8")


def ids(recordings: list[Recording]) -> list[str]:
    return [recording.name for recording in recordings]


def test_every_json_file_is_a_recording() -> None:
    assert RECORDINGS, "the corpus is empty"
    assert ids(RECORDINGS) == names()
    assert len(RECORDINGS) == len(list(ROOT.rglob("*.json")))


@pytest.mark.parametrize("recording", RECORDINGS, ids=ids(RECORDINGS))
def test_cites_a_public_source(recording: Recording) -> None:
    assert recording.provenance, f"{recording.name} has no provenance"
    for source in recording.provenance:
        if source.url is not None:
            assert re.match(r"https://[^\s/]+\.[a-z]+/\S*", source.url), source.url
        else:
            assert source.repo and re.fullmatch(r"[\w.-]+/[\w.-]+", source.repo), source
            assert source.path and not source.path.startswith("/"), source
        if source.commit is not None:
            assert re.fullmatch(r"[0-9a-f]{40}", source.commit), source.commit
        assert len(source.fact) >= 20, f"{recording.name}: a fact says what the source shows"


@pytest.mark.parametrize("recording", RECORDINGS, ids=ids(RECORDINGS))
def test_names_an_endpoint_and_a_well_formed_answer(recording: Recording) -> None:
    exchanges = [recording.exchange, *recording.followups]
    for exchange in exchanges:
        assert exchange.endpoint.startswith(("POST ", "GET ", "env.AI.run(")), exchange.endpoint
        response = exchange.response
        if response is None:
            assert "request" in recording.tags, f"{recording.name}: only request recordings may lack a response"
            continue
        if response.status is not None:
            assert 100 <= response.status <= 599
        content_type = response.headers.get("content-type", "")
        if response.is_stream:
            assert content_type.startswith("text/event-stream")
        else:
            assert content_type.startswith("application/json")
            assert response.body is not None


@pytest.mark.parametrize("recording", STREAMS, ids=ids(STREAMS))
def test_stream_lines_are_json_or_done(recording: Recording) -> None:
    response = recording.response
    assert response is not None and response.sse is not None
    assert response.sse, f"{recording.name}: an empty stream"
    events = response.events()
    for line, event in zip(response.sse, events, strict=True):
        assert "\n" not in line, "one element is one event's data line"
        assert event == "[DONE]" or isinstance(event, dict), line[:80]
    if "[DONE]" in events:
        assert events.index("[DONE]") == len(events) - 1, "[DONE] ends the stream"


def test_readme_lists_every_recording() -> None:
    listed = set(re.findall(r"`([a-z_]+/[0-9a-z_]+)`", README))
    assert set(names()) <= listed, sorted(set(names()) - listed)


def test_load_accepts_the_name_with_or_without_suffix() -> None:
    first = RECORDINGS[0]
    assert load(first.name) == load(f"{first.name}.json") == first


def test_the_4006_recording_is_a_429() -> None:
    recording = load("errors/4006_daily_free_allocation")
    assert recording.response is not None and recording.response.status == 429
    body = recording.response.body
    assert isinstance(body, dict) and body["errors"][0]["code"] == 4006


@pytest.mark.parametrize(
    "raw",
    [
        [],
        {"behaviour": "x", "provenance": [], "endpoint": "POST /x", "request": {}},
        {"behaviour": "x", "provenance": [{"fact": "f"}], "endpoint": "POST /x", "request": {}, "response": None},
        {
            "behaviour": "x",
            "provenance": [],
            "endpoint": "POST /x",
            "request": {},
            "response": {"status": 200, "body": {}, "sse": ["data: [DONE]"]},
        },
        {
            "behaviour": "x",
            "provenance": [],
            "endpoint": "POST /x",
            "request": {},
            "response": {"status": "200", "body": {}},
        },
    ],
    ids=["not-an-object", "no-response", "source-without-kind", "body-and-sse", "string-status"],
)
def test_malformed_recordings_are_refused(raw: object) -> None:
    with pytest.raises(CorpusError):
        parse("bad", raw)


def test_a_data_line_must_be_an_sse_data_line() -> None:
    raw = {
        "behaviour": "x",
        "provenance": [],
        "endpoint": "POST /x",
        "request": {},
        "response": {"status": 200, "headers": {"Content-Type": "text/event-stream"}, "sse": [json.dumps({})]},
    }
    recording = parse("bad", raw)
    assert recording.response is not None
    assert recording.response.headers == {"content-type": "text/event-stream"}
    with pytest.raises(CorpusError):
        recording.response.events()
