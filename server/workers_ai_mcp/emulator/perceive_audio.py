"""Answers about audio: Whisper, Whisper turbo and Deepgram-style transcripts, and end-of-turn detection."""

from __future__ import annotations

import io
import wave

from .envelope import JsonObj, bad_input
from .generate_text import MARK, stable_hash

_BYTES_PER_SECOND = 16_000  # a guess for compressed audio (128 kbit/s) when the length is not in a header


def duration_of(audio: bytes) -> float:
    """Seconds of audio: read from a WAV header, otherwise estimated from the size."""
    if not audio:
        raise bad_input("the audio is empty")
    if audio[:4] == b"RIFF":
        try:
            with wave.open(io.BytesIO(audio)) as wav:
                return round(wav.getnframes() / max(1, wav.getframerate()), 3)
        except (wave.Error, EOFError):
            pass
    return round(max(0.5, len(audio) / _BYTES_PER_SECOND), 3)


def _transcript(audio: bytes, seconds: float) -> list[str]:
    code = f"{stable_hash(audio) % 10_000:04d}"
    return f"{MARK} transcript of {seconds:g} seconds of audio, take {code}.".split()


def _timed(words: list[str], seconds: float) -> list[JsonObj]:
    step = seconds / len(words)
    return [{"word": w, "start": round(i * step, 3), "end": round((i + 1) * step, 3)} for i, w in enumerate(words)]


SEGMENT_SECONDS = 10.0  # the words of each 10 s of audio make one segment, as Whisper cuts a long recording


def _segments(timed: list[JsonObj], seconds: float) -> list[JsonObj]:
    groups: dict[int, list[JsonObj]] = {}
    for word in timed:
        groups.setdefault(int(float(word["start"]) // SEGMENT_SECONDS), []).append(word)
    ordered = [groups[key] for key in sorted(groups)]
    return [
        {
            "start": group[0]["start"],
            "end": seconds if index == len(ordered) - 1 else ordered[index + 1][0]["start"],
            "text": " ".join(str(word["word"]) for word in group),
            "temperature": 0.0,
            "avg_logprob": -0.2,
            "compression_ratio": 1.1,
            "no_speech_prob": 0.01,
            "words": group,
        }
        for index, group in enumerate(ordered)
    ]


def _clock(seconds: float) -> str:
    minutes, rest = divmod(seconds, 60)
    return f"{int(minutes):02d}:{rest:06.3f}"


def vtt(text: str, seconds: float) -> str:
    return f"WEBVTT\n\n{_clock(0)} --> {_clock(seconds)}\n{text}\n\n"


def whisper(audio: bytes) -> JsonObj:
    seconds = duration_of(audio)
    words = _transcript(audio, seconds)
    text = " ".join(words)
    return {"text": text, "word_count": len(words), "words": _timed(words, seconds), "vtt": vtt(text, seconds)}


def whisper_turbo(audio: bytes, *, language: str, task: str, prefix: str) -> JsonObj:
    seconds = duration_of(audio)
    words = _transcript(audio, seconds)
    if task == "translate":
        words.insert(1, "(translated)")
    if prefix:
        words = [*prefix.split(), *words]
    text = " ".join(words)
    info = {"language": language, "language_probability": 0.99, "duration": seconds, "duration_after_vad": seconds}
    return {
        "transcription_info": info,
        "text": text,
        "word_count": len(words),
        "segments": _segments(_timed(words, seconds), seconds),
        "vtt": vtt(text, seconds),
    }


def nova(audio: bytes) -> JsonObj:
    seconds = duration_of(audio)
    words = _transcript(audio, seconds)
    timed = [{**w, "confidence": 0.99} for w in _timed(words, seconds)]
    alternative = {"transcript": " ".join(words), "confidence": 0.99, "words": timed}
    return {"results": {"channels": [{"alternatives": [alternative]}]}}


def end_of_turn(audio: bytes) -> JsonObj:
    if not audio:
        raise bad_input("the audio is empty")
    probability = (stable_hash(audio) % 1000) / 1000
    return {"is_complete": probability >= 0.5, "probability": probability}
