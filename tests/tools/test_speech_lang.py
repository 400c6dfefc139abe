"""text_to_speech's `lang`: written out in the model's form, and refused before sending when it names
no language the model's schema allows."""

from __future__ import annotations

from support.emulated import model_calls
from support.results import text_of
from support.text_tools import Call, Wire
from workers_ai_mcp.emulator import EmulatorState

MELO = "@cf/myshell-ai/melotts"


async def test_a_language_name_reaches_melotts_as_its_iso_code(call: Call, wire: Wire) -> None:
    result = await call("text_to_speech", {"text": "Bonjour", "lang": "French"})
    assert not result.is_error, text_of(result)
    (body,) = wire.bodies()
    assert body["lang"] == "fr" and body["prompt"] == "Bonjour"


async def test_a_lang_that_names_no_language_is_refused_before_sending(
    call: Call, emulator_state: EmulatorState
) -> None:
    result = await call("text_to_speech", {"text": "Hello", "lang": "xx"})
    assert result.is_error
    assert f"'xx' is not a language {MELO} can be given; pass an ISO 639-1 code" in text_of(result)
    assert model_calls(emulator_state) == []


async def test_a_lang_for_a_model_without_one_is_refused_naming_the_model_that_takes_it(
    call: Call, emulator_state: EmulatorState
) -> None:
    result = await call("text_to_speech", {"text": "Hola", "lang": "es", "model": "@cf/deepgram/aura-1"})
    assert result.is_error and f"or use {MELO}, which takes it" in text_of(result)
    assert model_calls(emulator_state) == []
