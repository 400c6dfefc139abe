"""Default models that Cloudflare has deprecated (or will within 30 days), found on the first catalog read.

Nothing is fetched at start. The first time the client reads the catalog, `CatalogWatch.sweep`
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

from .client import ModelPage, WorkersAIError
from .jsonvalues import as_dict, dicts
from .settings import Settings

logger = logging.getLogger(__name__)

WARN_DAYS = 30
_MODEL_SUFFIX = "_model"

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
    defaults: dict[str, str] = {}
    for name, info in Settings.model_fields.items():
        value = getattr(settings, name)
        if name.endswith(_MODEL_SUFFIX) and isinstance(value, str):
            alias = info.validation_alias
            defaults[alias if isinstance(alias, str) else name.upper()] = value
    return defaults


def deprecation_date(row: dict[str, Any]) -> date | None:
    for prop in dicts(row.get("properties")):
        if prop.get("property_id") == "planned_deprecation_date":
            try:
                return date.fromisoformat(str(prop.get("value"))[:10])
            except ValueError:
                return None
    return None


def find_notices(
    settings: Settings, rows: list[dict[str, Any]], today: date, *, complete: bool
) -> list[DeprecationNotice]:
    """Notices for the defaults in `rows`; models missing from `rows` count only if `complete`."""
    by_name = {str(row.get("name")): row for row in rows}
    horizon = today + timedelta(days=WARN_DAYS)
    notices: list[DeprecationNotice] = []
    for setting, model in default_models(settings).items():
        row = by_name.get(model)
        if row is None:
            if complete:
                notices.append(DeprecationNotice(setting, model, None, None, True, None))
            continue
        when = deprecation_date(row)
        if when is None or when > horizon:
            continue
        task = str(as_dict(row.get("task")).get("name") or "") or None
        replacement = _replacement(row, rows, horizon)
        notices.append(DeprecationNotice(setting, model, task, when.isoformat(), when <= today, replacement))
    return notices


def _replacement(row: dict[str, Any], rows: list[dict[str, Any]], horizon: date) -> str | None:
    task = as_dict(row.get("task")).get("name")
    author = _author(str(row.get("name")))

    def healthy(other: dict[str, Any]) -> bool:
        when = deprecation_date(other)
        same_task = as_dict(other.get("task")).get("name") == task
        return same_task and other.get("name") != row.get("name") and (when is None or when > horizon)

    def rank(other: dict[str, Any]) -> tuple[bool, bool, str]:
        beta = any(p.get("property_id") == "beta" and p.get("value") == "true" for p in dicts(other.get("properties")))
        return (_author(str(other.get("name"))) == author, not beta, str(other.get("created_at") or ""))

    candidates = [other for other in rows if healthy(other)]
    return str(max(candidates, key=rank).get("name")) if candidates else None


def _author(model: str) -> str:
    parts = model.split("/")
    return parts[1] if len(parts) > 2 else ""


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

    async def sweep(self, search: Search) -> list[dict[str, Any]]:
        """Every catalog row (for the client's cache), warning about defaults; [] if the read failed."""
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
        self.notices = find_notices(self.settings, rows, self._today(), complete=complete)
        for notice in self.notices:
            logger.warning("%s", notice.message)
        return rows
