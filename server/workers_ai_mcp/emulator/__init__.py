"""A local emulator of Cloudflare's Workers AI REST API: a deterministic test double, not Cloudflare.

It serves `/client/v4/accounts/{id}/ai/...` (run, models/search, models/schema, v1/*), token
verification, and the AI Gateway URL shape at the root (`[/v1]/{account}/{gateway}/workers-ai/...`),
from its own model registry. Answers are derived from the input (same input, same answer; only ids
and `created` times vary) and say they come from the emulator (`[emulator]` in text, an
`x-emulator` header, "(emulated)" in the catalog). Latency and faults are injected through
`EmulatorState`; `faults.py` says what each Fault looks like in process (httpx2.ASGITransport)
and over a socket (uvicorn).
"""

from .app import EMULATOR_TOKEN, create_emulator_app
from .faults import EmulatedConnectionReset
from .state import EmulatorState, Fault, RecordedRequest

__all__ = [
    "EMULATOR_TOKEN",
    "EmulatedConnectionReset",
    "EmulatorState",
    "Fault",
    "RecordedRequest",
    "create_emulator_app",
]
