"""Languages, so that one tool takes the same codes for every model: ISO 639-1 codes, ISO 639-3 codes,
English names and FLORES-200 codes (`hin_Deva`: ISO 639-3 plus an ISO 15924 script) all name one language,
written out in whatever form a model's schema asks for.

Data about languages only, never about models: a model's own codes come from its input schema (an `enum`
of FLORES codes for IndicTrans2; a free string described as "the language code ... (e.g. 'es')", i.e.
ISO 639-1, for m2m100). Codes: ISO 639-1/639-3 (SIL registry), scripts: ISO 15924, as FLORES-200 pairs them.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass


@dataclass(frozen=True)
class Language:
    """One language: its ISO 639-1 code (if any), ISO 639-3 code, English names, and usual script."""

    iso1: str | None
    iso3: str
    names: tuple[str, ...]
    script: str = "Latn"


def _table() -> tuple[Language, ...]:
    rows = (
        # iso1 iso3 script names (first is the English name)
        "af afr Latn Afrikaans|am amh Ethi Amharic|ar arb Arab Arabic|as asm Beng Assamese|ast ast Latn Asturian",
        "az azj Latn Azerbaijani|ba bak Cyrl Bashkir|be bel Cyrl Belarusian|bg bul Cyrl Bulgarian",
        "bn ben Beng Bengali,Bangla|br bre Latn Breton|bs bos Latn Bosnian|ca cat Latn Catalan",
        "cs ces Latn Czech|cy cym Latn Welsh|da dan Latn Danish|de deu Latn German|el ell Grek Greek",
        "en eng Latn English|es spa Latn Spanish|et est Latn Estonian|fa pes Arab Persian,Farsi",
        "ff fuv Latn Fula,Fulah|fi fin Latn Finnish|fr fra Latn French|fy fry Latn Western Frisian,Frisian",
        "ga gle Latn Irish|gd gla Latn Scottish Gaelic,Gaelic|gl glg Latn Galician|gu guj Gujr Gujarati",
        "ha hau Latn Hausa|he heb Hebr Hebrew|hi hin Deva Hindi|hr hrv Latn Croatian|ht hat Latn Haitian Creole",
        "hu hun Latn Hungarian|hy hye Armn Armenian|id ind Latn Indonesian|ig ibo Latn Igbo|is isl Latn Icelandic",
        "it ita Latn Italian|ja jpn Jpan Japanese|jv jav Latn Javanese|ka kat Geor Georgian|kk kaz Cyrl Kazakh",
        "km khm Khmr Khmer|kn kan Knda Kannada|ko kor Hang Korean|ks kas Arab Kashmiri|lb ltz Latn Luxembourgish",
        "lg lug Latn Ganda,Luganda|ln lin Latn Lingala|lo lao Laoo Lao|lt lit Latn Lithuanian|lv lvs Latn Latvian",
        "mg plt Latn Malagasy|mk mkd Cyrl Macedonian|ml mal Mlym Malayalam|mn khk Cyrl Mongolian",
        "mr mar Deva Marathi|ms zsm Latn Malay|my mya Mymr Burmese|ne npi Deva Nepali|nl nld Latn Dutch",
        "no nob Latn Norwegian,Norwegian Bokmal|oc oci Latn Occitan|or ory Orya Odia,Oriya",
        "pa pan Guru Punjabi,Panjabi|pl pol Latn Polish|ps pbt Arab Pashto|pt por Latn Portuguese",
        "ro ron Latn Romanian|ru rus Cyrl Russian|sa san Deva Sanskrit|sd snd Arab Sindhi|si sin Sinh Sinhala",
        "sk slk Latn Slovak|sl slv Latn Slovenian|so som Latn Somali|sq als Latn Albanian|sr srp Cyrl Serbian",
        "ss ssw Latn Swati|su sun Latn Sundanese|sv swe Latn Swedish|sw swh Latn Swahili|ta tam Taml Tamil",
        "te tel Telu Telugu|th tha Thai Thai|tl tgl Latn Tagalog,Filipino|tn tsn Latn Tswana|tr tur Latn Turkish",
        "uk ukr Cyrl Ukrainian|ur urd Arab Urdu|uz uzn Latn Uzbek|vi vie Latn Vietnamese|wo wol Latn Wolof",
        "xh xho Latn Xhosa|yi ydd Hebr Yiddish|yo yor Latn Yoruba|zh zho Hans Chinese,Mandarin|zu zul Latn Zulu",
        "- awa Deva Awadhi|- bho Deva Bhojpuri|- brx Deva Bodo|- doi Deva Dogri|- gom Deva Konkani,Goan Konkani",
        "- gon Deva Gondi|- hne Deva Chhattisgarhi|- kha Latn Khasi|- lus Latn Mizo|- mag Deva Magahi",
        "- mai Deva Maithili|- mni Beng Manipuri,Meitei|- sat Olck Santali|- unr Deva Mundari|- ceb Latn Cebuano",
        "- ilo Latn Ilocano",
    )
    out: list[Language] = []
    for line in rows:
        for entry in line.split("|"):
            iso1, iso3, script, names = entry.split(" ", 3)
            out.append(Language(None if iso1 == "-" else iso1, iso3, tuple(names.split(",")), script))
    return tuple(out)


LANGUAGES = _table()
_BY_KEY = {
    key.lower(): language
    for language in LANGUAGES
    for key in (language.iso3, f"{language.iso3}_{language.script}", *language.names, language.iso1)
    if key
}


def find(value: str) -> Language | None:
    """The language `value` names: an ISO 639-1 or 639-3 code, a FLORES code, or an English name."""
    text = value.strip().lower().replace("-", "_")
    return _BY_KEY.get(text) or _BY_KEY.get(text.split("_", 1)[0]) if text else None


def model_code(value: str, choices: Sequence[str]) -> str:
    """`value` in the form a model takes: one of its `choices` (the enum of its schema) where it has
    them, else the ISO 639-1 code (what a free "language code" string means; ISO 639-3 for a language
    without one, as m2m100's `ceb` and `ilo`); `value` itself when
    the language is unknown or the model has no code for it (the schema check then says what it takes)."""
    if value in choices:
        return value
    language = find(value)
    if language is None:
        return value
    if not choices:
        return language.iso1 or language.iso3
    by_code = {choice.lower(): choice for choice in choices}
    preferred = f"{language.iso3}_{language.script}".lower()
    if preferred in by_code:
        return by_code[preferred]
    same = [choice for choice in choices if choice.lower().split("_", 1)[0] == language.iso3]
    iso1 = by_code.get(language.iso1 or "")
    named = next((by_code[n.lower()] for n in language.names if n.lower() in by_code), None)
    return (same[0] if same else None) or iso1 or named or value


def names_of(choices: Sequence[str]) -> str:
    """The choices with the language each names, for a refusal: `hin_Deva (Hindi, hi)`."""
    shown: list[str] = []
    for choice in choices:
        language = find(choice)
        extra = f" ({', '.join(x for x in (language.names[0], language.iso1) if x)})" if language else ""
        shown.append(choice + extra)
    return ", ".join(shown)


__all__ = ["LANGUAGES", "Language", "find", "model_code", "names_of"]
