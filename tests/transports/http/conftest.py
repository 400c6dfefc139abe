"""Fixtures for the OAuth tests: a local issuer on loopback, and settings that trust it."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from support.oauth_issuer import RESOURCE, Issuer, running_issuer
from workers_ai_mcp.settings import Settings


@pytest.fixture
def issuer() -> Iterator[Issuer]:
    with running_issuer(RESOURCE) as local:
        yield local


@pytest.fixture
def oauth_settings(settings: Settings, issuer: Issuer) -> Settings:
    return settings.model_copy(
        update={"oauth_issuer": issuer.url, "oauth_audience": RESOURCE, "oauth_allow_http_loopback": True}
    )
