"""`workers-ai-mcp selftest`: launch the server over stdio and call every tool once (being written)."""

from __future__ import annotations

import argparse


def add_selftest_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--emulator", action="store_true", help="run against the built-in emulator")


def run_selftest(args: argparse.Namespace) -> int:
    raise NotImplementedError("selftest is not written yet")
