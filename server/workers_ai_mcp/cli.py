"""Command line: `workers-ai-mcp [serve]`, `workers-ai-mcp emulator`, `workers-ai-mcp selftest`.

Logging goes to stderr, through a filter that redacts secrets; stdout belongs to the protocol.
"""

from __future__ import annotations

import argparse
import logging
import sys
from collections.abc import Sequence
from typing import Any

from . import __version__
from .redact import RedactingFilter, Redactor, url_secrets
from .settings import Settings, SettingsError, load_settings

COMMANDS = ("serve", "emulator", "selftest")


def build_parser(command: str = "serve") -> argparse.ArgumentParser:
    """The parser for `command`; the emulator's and selftest's options load only when asked for."""
    parser = argparse.ArgumentParser(
        prog="workers-ai-mcp",
        description="MCP server for the Cloudflare Workers AI model catalog.",
        epilog="Commands: serve (default), emulator, selftest; `workers-ai-mcp COMMAND --help` for each. "
        "Configuration comes from the environment (CLOUDFLARE_API_TOKEN, CLOUDFLARE_ACCOUNT_ID, "
        "WORKERS_AI_MCP_*); options given here win. See the README for every setting.",
    )
    parser.add_argument("--version", action="version", version=f"workers-ai-mcp {__version__}")
    if command == "emulator":
        from .emulator.serve import add_arguments  # only this command imports the emulator

        parser.prog += " emulator"
        add_arguments(parser)
    elif command == "selftest":
        from .selftest.run import add_selftest_arguments

        parser.prog += " selftest"
        add_selftest_arguments(parser)
    else:
        add_serve_arguments(parser)
    return parser


def add_serve_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--emulator", action="store_true", default=None, help="answer every call from the built-in emulator"
    )
    parser.add_argument("--tools", help="comma-separated tool names to expose (default: all)")
    parser.add_argument("--output-dir", help="folder for generated files (WORKERS_AI_MCP_OUTPUT_DIR)")
    parser.add_argument("--log-level", choices=["DEBUG", "INFO", "WARNING", "ERROR"], help="stderr log level")
    parser.add_argument("-v", "--verbose", action="count", default=0, help="more logging (-v info, -vv debug)")
    from .transports.serve import add_transport_arguments

    add_transport_arguments(parser)


def configure_logging(level: str, redactor: Redactor) -> None:
    """One stderr handler on the root logger, redacting every record."""
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    handler.addFilter(RedactingFilter(redactor))
    root = logging.getLogger()
    for existing in list(root.handlers):
        root.removeHandler(existing)
    root.addHandler(handler)
    root.setLevel(level)
    # httpx2 logs each request line at INFO; keep that for -vv only.
    logging.getLogger("httpx2").setLevel(logging.DEBUG if level == "DEBUG" else logging.WARNING)
    logging.getLogger("httpcore2").setLevel(logging.INFO if level == "DEBUG" else logging.WARNING)


def serve_settings(args: argparse.Namespace) -> Settings:
    overrides: dict[str, Any] = {
        "emulator": args.emulator,
        "tools": args.tools,
        "output_dir": args.output_dir,
        "log_level": args.log_level,
    }
    if args.verbose:
        overrides["log_level"] = "DEBUG" if args.verbose > 1 else "INFO"
    from .transports.serve import transport_overrides

    overrides |= transport_overrides(args)
    return load_settings(**overrides)


def main(argv: Sequence[str] | None = None) -> int:
    arguments = list(sys.argv[1:] if argv is None else argv)
    command = arguments.pop(0) if arguments and arguments[0] in COMMANDS else "serve"
    args = build_parser(command).parse_args(arguments)
    if command == "emulator":
        from .emulator.serve import run_from_args

        configure_logging("INFO", Redactor())
        run_from_args(args)
        return 0
    if command == "selftest":
        from .selftest.run import run_selftest

        configure_logging("WARNING", Redactor())
        return run_selftest(args)
    try:
        settings = serve_settings(args)
        if settings.state_url is not None:  # the spending layer is imported at a first call, not at start
            from .spending.store import require_driver

            require_driver(settings)  # a PostgreSQL store without its driver: one sentence now, not at every call
    except SettingsError as exc:
        sys.stderr.write(f"workers-ai-mcp: {exc}\n")
        return 2
    redactor = Redactor(
        [
            settings.api_token.get_secret_value() if settings.api_token else None,
            settings.gateway_token.get_secret_value() if settings.gateway_token else None,
            settings.http_auth_token.get_secret_value() if settings.http_auth_token else None,
            *url_secrets(settings.state_url.get_secret_value() if settings.state_url else None),
        ]
    )
    configure_logging(settings.log_level, redactor)
    from .app import create_server
    from .transports.serve import ServeOptions, run_transport

    try:
        server = create_server(settings)
        return run_transport(server, settings, ServeOptions.from_args(args))
    except SettingsError as exc:
        sys.stderr.write(f"workers-ai-mcp: {exc}\n")
        return 2
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
