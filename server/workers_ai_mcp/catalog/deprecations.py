"""Default models that Cloudflare has deprecated (or will within 30 days), found on the first catalog read.

Nothing is fetched at start. The first time the catalog is read, `CatalogWatch.sweep`
reads every page of it once (deprecated models included); each configured default model whose
`planned_deprecation_date` has passed or is near, or that the catalog no longer lists, gets a
warning on stderr and a `DeprecationNotice` naming a replacement of the same task.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

from ..client import ModelPage, WorkersAIError
from ..defaults import DEFAULTS
from ..settings import Settings
from .models import ModelInfo

logger = logging.getLogger(__name__)

WARN_DAYS = 30

Search = Callable[..., Awaitable[ModelPage]]


@dataclass(frozen=True)
class DeprecationNotice:
    """One default model that needs replacing soon (or already)."""

    setting: str
    model: str
    task: str | None
    deprecation_date: str | None  # None: the catalog does not list the model at all
    passed: bool
    replacement: str | None

    @property
    def message(self) -> str:
        if self.deprecation_date is None:
            problem = "which the Workers AI catalog does not list; calls to it will fail"
        elif self.passed:
            problem = f"which Cloudflare deprecated on {self.deprecation_date}; calls to it may fail"
        else:
            problem = f"which Cloudflare plans to deprecate on {self.deprecation_date}"
        kind = f"another {self.task} model" if self.task else "another model"
        advice = f"{kind}, e.g. {self.replacement}" if self.replacement else f"{kind} (see list_models)"
        return f"{self.setting} is {self.model}, {problem}. Set {self.setting} to {advice}."


def default_models(settings: Settings) -> dict[str, str]:
    """Environment variable name → configured default model, for every task."""
    return {default.env: str(getattr(settings, default.field)) for default in DEFAULTS}


def find_notices(settings: Settings, infos: list[ModelInfo], today: date, *, complete: bool) -> list[DeprecationNotice]:
    """Notices for the defaults in `infos`; models missing from `infos` count only if `complete`."""
    by_name = {info.name: info for info in infos}
    horizon = today + timedelta(days=WARN_DAYS)
    notices: list[DeprecationNotice] = []
    for setting, model in default_models(settings).items():
        info = by_name.get(model)
        if info is None:
            if complete:
                notices.append(DeprecationNotice(setting, model, None, None, True, None))
            continue
        when = info.deprecation
        if when is None or when > horizon:
            continue
        replacement = replacement_for(info, infos, horizon)
        notices.append(DeprecationNotice(setting, model, info.task, when.isoformat(), when <= today, replacement))
    return notices


def replacement_for(info: ModelInfo, infos: list[ModelInfo], horizon: date) -> str | None:
    """A model of the same task not deprecated by `horizon`: same author first, then not beta, then newest."""

    def healthy(other: ModelInfo) -> bool:
        return other.task == info.task and other.name != info.name and not other.deprecated_by(horizon)

    def rank(other: ModelInfo) -> tuple[bool, bool, str]:
        return (other.author == info.author, not other.beta, other.created_at)

    candidates = [other for other in infos if healthy(other)]
    return max(candidates, key=rank).name if candidates else None


def _utc_today() -> date:
    return datetime.now(UTC).date()


class CatalogWatch:
    """Reads the whole catalog once (on the first catalog read) and keeps the deprecation notices."""

    def __init__(
        self,
        settings: Settings,
        *,
        today: Callable[[], date] = _utc_today,
        per_page: int = 100,
        max_pages: int = 10,
        max_attempts: int = 2,
    ) -> None:
        self.settings = settings
        self.notices: list[DeprecationNotice] = []
        self.done = False
        self._today = today
        self._per_page = per_page
        self._max_pages = max_pages
        self._attempts_left = max_attempts

    @property
    def pending(self) -> bool:
        return not self.done and self._attempts_left > 0

    async def sweep(self, search: Search) -> list[ModelInfo]:
        """Every catalog model (for the catalog's cache), warning about defaults; [] if the read failed."""
        if not self.pending:
            return []
        self._attempts_left -= 1
        rows: list[dict[str, Any]] = []
        complete = False
        try:
            for page_number in range(1, self._max_pages + 1):
                page = await search(include_deprecated=True, page=page_number, per_page=self._per_page)
                rows.extend(page.models)
                if not page.models:
                    complete = page.total_count is None or len(rows) >= page.total_count
                    break
                # The API may serve fewer rows per page than asked: trust its total, else a short page.
                if page.total_count is not None and len(rows) >= page.total_count:
                    complete = True
                    break
                if page.total_count is None and len(page.models) < min(page.per_page, self._per_page):
                    complete = True
                    break
        except WorkersAIError as exc:
            logger.info("Could not read the catalog to check default models (%s)", type(exc).__name__)
            return []
        self.done = True
        infos = [ModelInfo.from_row(row) for row in rows]
        self.notices = find_notices(self.settings, infos, self._today(), complete=complete)
        for notice in self.notices:
            logger.warning("%s", notice.message)
        return infos
