"""Wire efficiency: bytes on the wire to Workers AI for a 1 MiB image and a 1 MiB audio file.

Our server (pointed at the emulator on loopback) is called with a local file path; the emulator
records the size of each request body it received (`RecordedRequest.body_size`). Budget: an image
sent to resnet-50 or detr ≤ 1.01 × the file. Audio is reported for the default whisper model
(whisper-large-v3-turbo, whose schema takes base64 in JSON: about 4/3 × the file) and for
`@cf/openai/whisper` (raw binary body).

The image is a PNG of random pixels (incompressible, so the file is about 1 MiB); the audio is
MPEG frames repeated to 1 MiB.

`python bench/wire.py`
"""

from __future__ import annotations

import argparse
import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any, cast

from benchlib import OURS, Emulator, Json, StdioServer, emulator_env, inputs_dir, tool_error_text, write_json

MIB = 1024 * 1024
BUDGET = 1.01
_MP3_FRAME = bytes.fromhex("FFFB9064") + bytes(417 - 4)


def big_png(path: Path) -> Path:
    if not path.exists():
        from PIL import Image

        side = 591  # 591 × 591 × 3 ≈ 1 MiB of random pixels
        Image.frombytes("RGB", (side, side), os.urandom(side * side * 3)).save(path, format="PNG", compress_level=1)
    return path


def big_mp3(path: Path) -> Path:
    if not path.exists():
        path.write_bytes((_MP3_FRAME * (MIB // len(_MP3_FRAME) + 1))[:MIB])
    return path


CASES: tuple[tuple[str, str, dict[str, Any], bool], ...] = (
    ("classify_image (resnet-50)", "classify_image", {"image": "<png>"}, True),
    ("detect_objects (detr-resnet-50)", "detect_objects", {"image": "<png>"}, True),
    ("transcribe_audio (default model)", "transcribe_audio", {"audio": "<mp3>"}, False),
    (
        "transcribe_audio (@cf/openai/whisper)",
        "transcribe_audio",
        {"audio": "<mp3>", "model": "@cf/openai/whisper"},
        False,
    ),
)


def run() -> dict[str, Any]:
    png = big_png(inputs_dir() / "wire-1mib.png")
    mp3 = big_mp3(inputs_dir() / "wire-1mib.mp3")
    rows: list[dict[str, Any]] = []
    with (
        Emulator() as emulator,
        StdioServer(OURS, env=emulator_env(emulator.base_url), log_name="wire") as ours,
    ):
        ours.initialize()
        names = {str(t["name"]) for t in cast(list[Json], ours.list_tools().body["result"]["tools"])}
        for label, tool, template, budgeted in CASES:
            if tool not in names:
                rows.append({"case": label, "error": f"no tool {tool}"})
                continue
            source = png if "<png>" in template.values() else mp3
            arguments = {k: (str(source) if v in ("<png>", "<mp3>") else v) for k, v in template.items()}
            ours.call(tool, arguments)  # warm-up: catalog and schema look-ups happen once
            emulator.reset()
            answer = ours.call(tool, arguments)
            runs = [r for r in emulator.state()["requests"] if "/ai/run/" in r["path"]]
            body = max((int(r["body_size"]) for r in runs), default=0)
            file_size = source.stat().st_size
            rows.append(
                {
                    "case": label,
                    "file_bytes": file_size,
                    "body_bytes": body,
                    "ratio": body / file_size,
                    "content_type": runs[-1]["content_type"] if runs else None,
                    "model": runs[-1]["model"] if runs else None,
                    "budget": BUDGET if budgeted else None,
                    "error": tool_error_text(answer),
                }
            )
    results = {"cases": rows, "budget": BUDGET}
    write_json("wire", results)
    return results


def report(results: dict[str, Any]) -> list[str]:
    lines = ["request bytes for a 1 MiB input:"]
    for row in results["cases"]:
        if "ratio" not in row:
            lines.append(f"  {row['case']}: skipped ({row['error']})")
            continue
        verdict = ""
        if row["budget"]:
            verdict = f" (budget {row['budget']}x → {'met' if row['ratio'] <= row['budget'] else 'MISSED'})"
        error = f"  ERROR: {row['error']}" if row["error"] else ""
        lines.append(
            f"  {row['case']:38} file {row['file_bytes']} B → body {row['body_bytes']} B = {row['ratio']:.3f}x "
            f"[{row['content_type']}]{verdict}{error}"
        )
    return lines


def main(argv: Sequence[str] | None = None) -> None:
    argparse.ArgumentParser(description=(__doc__ or "").split("\n", 1)[0]).parse_args(argv)
    print("\n".join(report(run())))


if __name__ == "__main__":
    main()
