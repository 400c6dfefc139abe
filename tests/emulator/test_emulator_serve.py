"""`workers-ai-mcp emulator` options: flags, environment fallbacks, and nothing printed to stdout."""

from __future__ import annotations

import argparse
from typing import Any

import pytest

from workers_ai_mcp.emulator import EMULATOR_TOKEN, Fault, serve


def parse(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser()
    serve.add_arguments(parser)
    return parser.parse_args(argv)


@pytest.fixture
def served(monkeypatch: pytest.MonkeyPatch) -> list[dict[str, Any]]:
    calls: list[dict[str, Any]] = []
    monkeypatch.setattr(serve, "serve", lambda **kwargs: calls.append(kwargs))  # pyright: ignore[reportUnknownLambdaType]
    return calls


def test_defaults_bind_loopback_with_the_emulator_token(served: list[dict[str, Any]]) -> None:
    serve.run_from_args(parse([]))
    assert served == [
        {"host": "127.0.0.1", "port": 8787, "token": EMULATOR_TOKEN, "latency": 0.0, "token_delay": 0.0, "faults": []}
    ]


def test_flags_set_everything_and_repeat_faults_in_order(served: list[dict[str, Any]]) -> None:
    argv = ["--host", "0.0.0.0", "--port", "9000", "--token", "t0k", "--latency", "0.2", "--token-delay", "0.01"]
    serve.run_from_args(parse([*argv, "--fault", "hang", "--fault", "RATE_LIMIT_3040"]))
    (call,) = served
    assert call == {
        "host": "0.0.0.0",
        "port": 9000,
        "token": "t0k",
        "latency": 0.2,
        "token_delay": 0.01,
        "faults": [Fault.HANG, Fault.RATE_LIMIT_3040],
    }


def test_empty_token_accepts_any_bearer(served: list[dict[str, Any]]) -> None:
    serve.run_from_args(parse(["--token", ""]))
    assert served[0]["token"] is None


def test_environment_fills_what_flags_leave_unset(
    monkeypatch: pytest.MonkeyPatch, served: list[dict[str, Any]]
) -> None:
    monkeypatch.setenv("WORKERS_AI_EMULATOR_LATENCY", "0.5")
    monkeypatch.setenv("WORKERS_AI_EMULATOR_TOKEN_DELAY", "0.05")
    monkeypatch.setenv("WORKERS_AI_EMULATOR_FAULTS", "server_error_500, MALFORMED_JSON")
    serve.run_from_args(parse(["--latency", "0.1"]))
    assert served[0]["latency"] == 0.1
    assert served[0]["token_delay"] == 0.05
    assert served[0]["faults"] == [Fault.SERVER_ERROR_500, Fault.MALFORMED_JSON]


def test_bad_fault_names_are_refused(monkeypatch: pytest.MonkeyPatch, served: list[dict[str, Any]]) -> None:
    with pytest.raises(SystemExit):
        parse(["--fault", "EXPLODE"])
    monkeypatch.setenv("WORKERS_AI_EMULATOR_FAULTS", "EXPLODE")
    with pytest.raises(SystemExit, match="EXPLODE"):
        serve.run_from_args(parse([]))
    assert served == []


def test_serve_runs_uvicorn_logging_to_stderr_only(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    runs: list[dict[str, Any]] = []
    monkeypatch.setattr(serve.uvicorn, "run", lambda app, **kwargs: runs.append({"app": app, **kwargs}))  # pyright: ignore[reportUnknownLambdaType]
    serve.serve(port=9999, faults=[Fault.HANG], latency=0.3)
    (run,) = runs
    state = run["app"].state.emulator
    assert list(state.faults) == [Fault.HANG]
    assert state.latency == 0.3
    assert run["port"] == 9999 and run["host"] == "127.0.0.1"
    streams = {h["stream"] for h in run["log_config"]["handlers"].values()}
    assert streams == {"ext://sys.stderr"}
    out, err = capsys.readouterr()
    assert out == ""
    assert "emulator" in err and "not Cloudflare" in err
