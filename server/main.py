"""MCP Bundle entry point: put bundled dependencies on the path, then run the CLI."""

import sys
from pathlib import Path

_here = Path(__file__).resolve().parent
_lib = _here / "lib"
if _lib.is_dir():
    sys.path.insert(0, str(_lib))
sys.path.insert(0, str(_here))

from workers_ai_mcp.cli import main  # noqa: E402

if __name__ == "__main__":
    sys.exit(main())
