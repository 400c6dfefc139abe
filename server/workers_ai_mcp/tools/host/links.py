"""How a saved file is named in a result: a line with its path, size and type, and a `resource_link` to it."""

from __future__ import annotations

from mcp.types import ResourceLink

from ...media.outputs import SavedFile


def resource_link(saved: SavedFile, description: str | None = None) -> ResourceLink:
    """A `resource_link` content block to a saved file (readable through `workers-ai://outputs/`)."""
    return ResourceLink(
        type="resource_link",
        uri=saved.uri,
        name=saved.name,
        mime_type=saved.media_type,
        size=saved.size,
        description=description,
    )


def saved_line(saved: SavedFile) -> str:
    """The line naming a saved file: its path, size and type."""
    return f"Saved {saved.path} ({human_size(saved.size)}, {saved.media_type})."


def human_size(size: int) -> str:
    if size < 1_000:
        return f"{size} bytes"
    if size < 1_000_000:
        return f"{size / 1_000:.0f} KB"
    return f"{size / 1_000_000:.1f} MB"
