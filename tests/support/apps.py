"""A client that declares MCP Apps, as hosts that render them do (`io.modelcontextprotocol/ui`)."""

from __future__ import annotations

from typing import Any

from mcp.client.extension import ClientExtension
from mcp.server.apps import APP_MIME_TYPE, EXTENSION_ID


class AppsClient(ClientExtension):
    """Declares the Apps extension with the app MIME type, which `client_supports_apps` looks for."""

    identifier = EXTENSION_ID

    def settings(self) -> dict[str, Any]:
        return {"mimeTypes": [APP_MIME_TYPE]}
