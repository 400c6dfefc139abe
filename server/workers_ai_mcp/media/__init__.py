"""Media inputs (resolution, sniffing, URL and path safety) and outputs (files, previews, caps)."""
