"""translate takes the same language codes for every model: ISO 639-1 codes and English names, written
out in each model's own form (m2m100: ISO codes; IndicTrans2: the FLORES codes of its schema's enum)."""

from __future__ import annotations

import pytest

from support.emulated import M2M, model_calls
from support.results import structured, text_of
from support.text_tools import Call, Wire
from workers_ai_mcp.emulator import EmulatorState

INDIC = "@cf/ai4bharat/indictrans2-en-indic-1B"


@pytest.mark.parametrize("hindi", ["hi", "Hindi", "hindi", "hin_Deva", "hin"])
async def test_indictrans2_gets_its_flores_code_for_any_name_of_the_language(
    call: Call, wire: Wire, hindi: str
) -> None:
    result = await call("translate", {"text": "Hello", "target_lang": hindi, "model": INDIC})
    assert not result.is_error, text_of(result)
    (body,) = wire.bodies()
    assert body["target_language"] == "hin_Deva" and "source_lang" not in body


@pytest.mark.parametrize(("given", "sent"), [("Hindi", "hi"), ("hin_Deva", "hi"), ("French", "fr"), ("de", "de")])
async def test_m2m100_gets_the_iso_code_for_a_name_or_a_flores_code(
    call: Call, wire: Wire, given: str, sent: str
) -> None:
    result = await call("translate", {"text": "Hello", "target_lang": given, "source_lang": "English", "model": M2M})
    assert structured(result)["model"] == M2M
    (body,) = wire.bodies()
    assert body["target_lang"] == sent and body["source_lang"] == "en"


async def test_a_language_the_model_does_not_know_is_refused_naming_the_ones_it_does(
    call: Call, emulator_state: EmulatorState
) -> None:
    result = await call("translate", {"text": "Hello", "target_lang": "French", "model": INDIC})
    assert result.is_error
    text = text_of(result)
    assert f"{INDIC} does not translate into 'French'; it knows" in text
    assert "hin_Deva (Hindi, hi)" in text and "tam_Taml (Tamil, ta)" in text
    assert model_calls(emulator_state) == []
