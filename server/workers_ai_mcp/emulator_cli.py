"""`workers-ai-mcp emulator`: the emulator's own command, kept apart so serving MCP never imports it."""

from __future__ import annotations

import argparse


def add_emulator_arguments(parser: argparse.ArgumentParser) -> None:
    from .emulator.serve import add_arguments

    add_arguments(parser)


def run_emulator(args: argparse.Namespace) -> int:
    from .emulator.serve import run_from_args

    run_from_args(args)
    return 0
