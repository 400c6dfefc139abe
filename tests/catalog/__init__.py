"""Tests of `workers_ai_mcp.catalog`: model info, the cache, deprecations, schema checks."""
