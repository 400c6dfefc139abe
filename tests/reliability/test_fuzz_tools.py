"""Fuzzing every tool through a real MCP session: hostile, huge, wrongly typed and missing arguments.

The tools and their input schemas come from the server itself, and their media inputs from the
registry (the arguments each module's samples give a sample file), so a new tool is fuzzed without
editing this file. Invariants (see `fuzz_rig.FuzzRig.check`): no crash, no internals in a result,
a clear error and no Workers AI request for input that can be refused, no file read outside the
input root, no fetch from a refused address, every output file whole.
"""

from __future__ import annotations

import asyncio
import string
import tempfile
from collections.abc import Generator
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest
from anyio.from_thread import start_blocking_portal
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from starlette.applications import Starlette

from support.settings import make_settings
from workers_ai_mcp.app import create_server
from workers_ai_mcp.emulator import EmulatorState
from workers_ai_mcp.selftest.registered import media_parameters

from .checks import text_of
from .fuzz_rig import Fuzz, open_rig
from .hostile import PRIVATE_HOSTS, SAFE_MODEL_ID, Drawn, hostile_strings, model_ids
from .schema_args import arguments_for, good_arguments, refusable


def _tool_schemas() -> dict[str, dict[str, Any]]:
    """Every tool the server registers, with its input schema, asked of the server at collection."""
    server = create_server(make_settings(Path(tempfile.gettempdir()), tools=None))
    return {tool.name: tool.input_schema for tool in asyncio.run(server.list_tools())}


SCHEMAS = _tool_schemas()
MODEL_TOOLS = sorted(name for name, schema in SCHEMAS.items() if "model" in schema.get("properties", {}))
MEDIA_TOOLS = sorted(
    (name, parameter)
    for name, schema in SCHEMAS.items()
    for parameter in media_parameters(name)
    if parameter in schema.get("properties", {})
)
_SLOW_OK = [HealthCheck.function_scoped_fixture, HealthCheck.too_slow, HealthCheck.data_too_large]
PER_TOOL = settings(max_examples=20, deadline=None, database=None, suppress_health_check=_SLOW_OK)
TARGETED = settings(max_examples=60, deadline=None, database=None, suppress_health_check=_SLOW_OK)
GOOD_TRANSLATION = {"text": "hello", "target_lang": "fr"}


@pytest.fixture
def fuzz(tmp_path: Path, emulator_app: Starlette, emulator_state: EmulatorState) -> Generator[Fuzz]:
    """One session for all of a test's examples, on an event loop in a thread of its own."""
    with (
        start_blocking_portal() as portal,
        portal.wrap_async_context_manager(open_rig(tmp_path, emulator_app, emulator_state)) as rig,
    ):
        yield Fuzz(rig, portal)


@pytest.mark.parametrize("tool", sorted(SCHEMAS))
@PER_TOOL
@given(data=st.data())
def test_no_tool_crashes_leaks_or_sends_what_it_could_refuse(fuzz: Fuzz, tool: str, data: st.DataObject) -> None:
    assert tool in fuzz.rig.tools
    schema, media = fuzz.rig.tools[tool].input_schema, media_parameters(tool)
    arguments = fuzz.rig.strategy(tool, lambda: arguments_for(schema, fuzz.rig.layout.pools, media))
    fuzz.check(tool, data.draw(arguments, label="arguments"))


@TARGETED
@given(data=st.data())
def test_crafted_model_ids_never_reach_workers_ai(fuzz: Fuzz, data: st.DataObject) -> None:
    tool = data.draw(st.sampled_from(MODEL_TOOLS), label="tool")
    model = data.draw(
        fuzz.rig.strategy("model", lambda: st.one_of(model_ids(), hostile_strings(fuzz.rig.layout.pools)))
    )
    arguments = data.draw(_good(fuzz, tool)) | {"model": model}
    schema, media = fuzz.rig.tools[tool].input_schema, media_parameters(tool)
    result = fuzz.check(tool, Drawn(arguments, refusable(schema, arguments, fuzz.rig.layout.pools, media)))
    if model and not SAFE_MODEL_ID.fullmatch(model):
        assert result.is_error


def _good(fuzz: Fuzz, tool: str) -> st.SearchStrategy[dict[str, Any]]:
    return fuzz.rig.strategy(
        ("good", tool),
        lambda: good_arguments(fuzz.rig.tools[tool].input_schema, fuzz.rig.layout.pools, media_parameters(tool)),
    )


def _traversals(root: Path) -> st.SearchStrategy[str]:
    """Ways of naming ../outside/canary.png from inside the root: dots, encodings, URIs, doubled slashes."""
    ups = st.integers(1, 6).map(lambda n: "../" * n)
    step = st.sampled_from(("./", "sub/", ".//", "sub/../", "sub/escape/../"))
    relative = st.tuples(st.lists(step, max_size=3).map("".join), ups).map(lambda parts: f"{parts[0]}{parts[1]}")
    target = st.sampled_from(("outside/canary.png", "outside/canary.txt", "outside//canary.png"))
    plain = st.tuples(relative, target).map("".join)
    absolute = plain.map(lambda path: f"{root}/{path}")
    uri = plain.map(lambda path: f"file://{quote(str(root))}/{path.replace('.', '%2e')}")
    return st.one_of(plain, absolute, uri)


@TARGETED
@given(data=st.data())
def test_paths_outside_the_input_root_are_never_read(fuzz: Fuzz, data: st.DataObject) -> None:
    tool, parameter = data.draw(st.sampled_from(MEDIA_TOOLS), label="tool")
    pools = fuzz.rig.layout.pools
    paths = fuzz.rig.strategy(
        "paths", lambda: st.one_of(_traversals(fuzz.rig.layout.root), st.sampled_from(pools.refused_media))
    )
    arguments = data.draw(_good(fuzz, tool)) | {parameter: data.draw(paths, label=parameter)}
    result = fuzz.check(tool, Drawn(arguments, refusable=True))
    assert result.is_error


@TARGETED
@given(data=st.data())
def test_refused_addresses_are_never_fetched(fuzz: Fuzz, data: st.DataObject) -> None:
    tool, parameter = data.draw(st.sampled_from(MEDIA_TOOLS), label="tool")
    scheme = data.draw(st.sampled_from(("http", "https", "HTTP", "hTTp")))
    host = data.draw(st.sampled_from(PRIVATE_HOSTS))
    port = data.draw(st.sampled_from((f":{fuzz.rig.canary.port}", "", ":80", ":443")))
    path = data.draw(st.text(alphabet=string.ascii_letters + "/._-%?#=&@", max_size=16))
    url = data.draw(st.sampled_from((f"{scheme}://{host}{port}/{path}", f"  {scheme}://{host}{port}/{path}\n")))
    arguments = data.draw(_good(fuzz, tool)) | {parameter: url}
    result = fuzz.check(tool, Drawn(arguments, refusable=True))
    assert result.is_error


def test_after_hostile_calls_to_every_tool_the_session_still_answers(fuzz: Fuzz) -> None:
    hostile: list[Any] = [
        "../../etc/passwd",
        "\x00" * 3,
        "@cf/../../user/tokens",
        f"http://127.0.0.1:{fuzz.rig.canary.port}/",
        "A" * 1_100_000,
        -1,
        [],
        {"$ref": "http://169.254.169.254/"},
        None,
    ]
    for tool, info in sorted(fuzz.rig.tools.items()):
        names = list(info.input_schema.get("properties", {})) or ["x_unknown"]
        for value in hostile:
            arguments = dict.fromkeys(names, value)
            schema, media = fuzz.rig.tools[tool].input_schema, media_parameters(tool)
            fuzz.check(tool, Drawn(arguments, refusable(schema, arguments, fuzz.rig.layout.pools, media)))
    result = fuzz.call("translate", GOOD_TRANSLATION)
    assert not result.is_error, text_of(result)
    assert not fuzz.rig.canary.hits and not fuzz.rig.opened


def test_an_invalid_json_schema_is_refused_without_being_echoed_back_whole(fuzz: Fuzz) -> None:
    schema = {"type": "object", "properties": {"answer": {"type": "x" * 200_000}}}
    result = fuzz.check("chat", Drawn({"prompt": "hi", "json_schema": schema}, refusable=False))
    assert result.is_error and "json_schema" in text_of(result)


def test_the_media_inputs_fuzzed_are_those_the_tool_modules_declare() -> None:
    assert {"classify_image", "detect_objects", "describe_image", "transcribe_audio"} <= {t for t, _ in MEDIA_TOOLS}
    assert all(parameter in SCHEMAS[tool]["properties"] for tool, parameter in MEDIA_TOOLS)
