"""`python -m workers_ai_mcp`."""

import sys

from .cli import main

sys.exit(main())
