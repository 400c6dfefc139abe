"""One validated `Settings` object, read from the environment (and `.env`) once at start.

Every field names its environment variable. Values that still look like an unsubstituted
template (`${user_config.token}`, `{{token}}`), as MCP hosts sometimes pass them, count as
unset and leave a warning on stderr. A bad value fails with one sentence naming the variable.

Over 300 lines because every setting is declared here, in one table, with its variable and bounds.
"""

from __future__ import annotations

import logging
import os
import re
import sys
from pathlib import Path
from typing import Annotated, Any, Literal, cast

from pydantic import (
    AliasChoices,
    Field,
    SecretStr,
    ValidationError,
    ValidationInfo,
    field_validator,
    model_validator,
)
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

from .defaults import BY_FIELD

logger = logging.getLogger(__name__)

DEFAULT_BASE_URL = "https://api.cloudflare.com/client/v4"
DEFAULT_GATEWAY_URL = "https://gateway.ai.cloudflare.com/v1"
MEBIBYTE = 1024 * 1024

_TEMPLATE = re.compile(r"^\s*(\$\{[^}]*\}|\{\{[^}]*\}\})\s*$")

MediaMode = Literal["preview", "file", "full"]
StrList = Annotated[list[str], NoDecode]


def looks_like_template(value: object) -> bool:
    """True for a value an MCP host forgot to substitute, such as `${user_config.api_token}`."""
    return isinstance(value, str) and bool(_TEMPLATE.match(value))


def _split_list(value: object) -> object:
    if isinstance(value, str):
        return [part.strip() for part in re.split(r"[,\n]", value) if part.strip()]
    return value


def _default_model(field: str) -> Any:
    default = BY_FIELD[field]
    return Field(default=default.model, validation_alias=default.env)


class SettingsError(ValueError):
    """A configuration value is invalid; the message names the variable."""


class Settings(BaseSettings):
    """Configuration of the server, the client and the media policy."""

    model_config = SettingsConfigDict(
        env_file=".env",
        env_file_encoding="utf-8",
        env_ignore_empty=True,
        extra="ignore",
        populate_by_name=True,
        validate_default=True,
    )

    # Cloudflare account
    api_token: SecretStr | None = Field(default=None, validation_alias="CLOUDFLARE_API_TOKEN")
    account_id: str | None = Field(default=None, validation_alias="CLOUDFLARE_ACCOUNT_ID")
    base_url: str = Field(default=DEFAULT_BASE_URL, validation_alias="WORKERS_AI_BASE_URL")

    # AI Gateway
    gateway_id: str | None = Field(default=None, validation_alias="CLOUDFLARE_AI_GATEWAY_ID")
    gateway_url: str = Field(default=DEFAULT_GATEWAY_URL, validation_alias="CLOUDFLARE_AI_GATEWAY_URL")
    gateway_token: SecretStr | None = Field(default=None, validation_alias="CLOUDFLARE_AI_GATEWAY_TOKEN")
    gateway_cache_ttl: int | None = Field(
        default=None, ge=0, le=2_592_000, validation_alias="WORKERS_AI_MCP_GATEWAY_CACHE_TTL"
    )
    gateway_skip_cache: bool = Field(default=False, validation_alias="WORKERS_AI_MCP_GATEWAY_SKIP_CACHE")

    # Calls
    timeout: float = Field(default=50.0, gt=0, le=600, validation_alias="WORKERS_AI_MCP_TIMEOUT")
    connect_timeout: float = Field(default=5.0, gt=0, le=60, validation_alias="WORKERS_AI_MCP_CONNECT_TIMEOUT")
    max_retries: int = Field(default=2, ge=0, le=10, validation_alias="WORKERS_AI_MCP_MAX_RETRIES")
    schema_cache_ttl: float = Field(default=3600.0, ge=0, validation_alias="WORKERS_AI_MCP_SCHEMA_CACHE_TTL")
    # How long a task (a long call run in the background for a host that speaks tasks) and its result are kept.
    task_ttl: float = Field(default=3600.0, ge=60, le=604_800, validation_alias="WORKERS_AI_MCP_TASK_TTL")
    # `chat` asks Cloudflare to refuse at once (429/3040) rather than queue a busy model past the host's patience.
    reject_if_busy: bool = Field(default=True, validation_alias="WORKERS_AI_MCP_REJECT_IF_BUSY")

    # Default model per task (the table is defaults.py)
    chat_model: str = _default_model("chat_model")
    complete_model: str = _default_model("complete_model")
    respond_model: str = _default_model("respond_model")
    embed_model: str = _default_model("embed_model")
    rank_model: str = _default_model("rank_model")
    translate_model: str = _default_model("translate_model")
    summarize_model: str = _default_model("summarize_model")
    classify_text_model: str = _default_model("classify_text_model")
    classify_image_model: str = _default_model("classify_image_model")
    detect_model: str = _default_model("detect_model")
    describe_image_model: str = _default_model("describe_image_model")
    transcribe_model: str = _default_model("transcribe_model")
    image_model: str = _default_model("image_model")
    speech_model: str = _default_model("speech_model")

    # Media policy
    output_dir: Path = Field(
        default_factory=lambda: Path.home() / "workers-ai-mcp", validation_alias="WORKERS_AI_MCP_OUTPUT_DIR"
    )
    input_roots: Annotated[list[Path], NoDecode] = Field(
        default_factory=lambda: [Path.home()], validation_alias="WORKERS_AI_MCP_INPUT_ROOTS"
    )
    allow_private_urls: bool = Field(default=False, validation_alias="WORKERS_AI_MCP_ALLOW_PRIVATE_URLS")
    allowed_url_hosts: StrList = Field(default_factory=list, validation_alias="WORKERS_AI_MCP_ALLOWED_URL_HOSTS")
    max_input_bytes: int = Field(default=25 * MEBIBYTE, gt=0, validation_alias="WORKERS_AI_MCP_MAX_INPUT_BYTES")
    max_document_bytes: int = Field(
        default=10 * MEBIBYTE, gt=0, validation_alias="WORKERS_AI_MCP_MAX_DOCUMENT_BYTES"
    )  # each document of to_markdown
    media_mode: MediaMode = Field(default="preview", validation_alias="WORKERS_AI_MCP_MEDIA_MODE")
    preview_max_bytes: int = Field(default=300_000, ge=10_000, validation_alias="WORKERS_AI_MCP_PREVIEW_MAX_BYTES")
    max_result_bytes: int = Field(default=MEBIBYTE, ge=64_000, validation_alias="WORKERS_AI_MCP_MAX_RESULT_BYTES")
    max_image_pixels: int = Field(
        default=40_000_000, ge=1_000_000, le=1_000_000_000, validation_alias="WORKERS_AI_MCP_MAX_IMAGE_PIXELS"
    )  # checked from the header, before any image is decoded

    # Server
    tools: StrList | None = Field(default=None, validation_alias="WORKERS_AI_MCP_TOOLS")
    emulator: bool = Field(default=False, validation_alias="WORKERS_AI_MCP_EMULATOR")
    apps: bool = Field(default=True, validation_alias="WORKERS_AI_MCP_APPS")  # the MCP Apps viewer, for hosts that ask
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = Field(
        default="WARNING", validation_alias=AliasChoices("WORKERS_AI_MCP_LOG_LEVEL", "LOG_LEVEL")
    )
    http_auth_token: SecretStr | None = Field(default=None, validation_alias="WORKERS_AI_MCP_AUTH_TOKEN")
    # OAuth 2.1 resource server (transports/http/oauth.py), instead of WORKERS_AI_MCP_AUTH_TOKEN
    oauth_issuer: str | None = Field(default=None, validation_alias="WORKERS_AI_MCP_OAUTH_ISSUER")
    oauth_audience: str | None = Field(default=None, validation_alias="WORKERS_AI_MCP_OAUTH_AUDIENCE")
    oauth_jwks_url: str | None = Field(default=None, validation_alias="WORKERS_AI_MCP_OAUTH_JWKS_URL")
    oauth_read_scope: str = Field(
        default="workers-ai:read", pattern=r"^[!#-\[\]-~]+$", validation_alias="WORKERS_AI_MCP_OAUTH_READ_SCOPE"
    )
    oauth_invoke_scope: str = Field(
        default="workers-ai:invoke", pattern=r"^[!#-\[\]-~]+$", validation_alias="WORKERS_AI_MCP_OAUTH_INVOKE_SCOPE"
    )
    oauth_allow_http_loopback: bool = Field(default=False, validation_alias="WORKERS_AI_MCP_OAUTH_ALLOW_HTTP_LOOPBACK")
    # A token with this scope sees every user's spending and batch jobs (usage, list_batches, get_batch).
    oauth_admin_scope: str = Field(
        default="workers-ai:admin", pattern=r"^[!#-\[\]-~]+$", validation_alias="WORKERS_AI_MCP_OAUTH_ADMIN_SCOPE"
    )
    allowed_hosts: StrList = Field(default_factory=list, validation_alias="WORKERS_AI_MCP_ALLOWED_HOSTS")
    allowed_origins: StrList = Field(default_factory=list, validation_alias="WORKERS_AI_MCP_ALLOWED_ORIGINS")

    # Spending guard
    max_cost_usd: float | None = Field(
        default=None,
        gt=0,
        validation_alias="WORKERS_AI_MCP_MAX_COST_USD",
        description="Daily budget in USD (UTC day) of the deployment: every user and server process together.",
    )
    max_call_cost_usd: float | None = Field(default=None, gt=0, validation_alias="WORKERS_AI_MCP_MAX_CALL_COST_USD")
    confirm_above_usd: float | None = Field(
        default=None,
        ge=0,
        validation_alias="WORKERS_AI_MCP_CONFIRM_ABOVE_USD",
        description="Calls estimated above this many USD are put to the person (elicitation) before they are sent.",
    )
    structured_only_host: bool | None = Field(
        default=None,
        validation_alias="WORKERS_AI_MCP_STRUCTURED_ONLY_HOST",
        description="Whether the host shows the model only structuredContent (dropping content beside it); "
        "unset: known from clientInfo (Claude Code).",
    )

    # ---- HTTP transports (sse, streamable-http): limits that hold under abuse (docs/reliability.md, "Limits") ----
    http_max_connections: int = Field(
        default=200, ge=1, le=100_000, validation_alias="WORKERS_AI_MCP_HTTP_MAX_CONNECTIONS"
    )
    http_max_connections_per_client: int = Field(
        default=50, ge=1, le=100_000, validation_alias="WORKERS_AI_MCP_HTTP_MAX_CONNECTIONS_PER_CLIENT"
    )
    http_reserved_connections: int = Field(
        default=20, ge=0, le=100_000, validation_alias="WORKERS_AI_MCP_HTTP_RESERVED_CONNECTIONS"
    )
    http_header_timeout: float = Field(
        default=10.0, gt=0, le=300, validation_alias="WORKERS_AI_MCP_HTTP_HEADER_TIMEOUT"
    )
    http_body_timeout: float = Field(default=60.0, gt=0, le=3600, validation_alias="WORKERS_AI_MCP_HTTP_BODY_TIMEOUT")
    http_keep_alive_timeout: int = Field(
        default=5, ge=1, le=300, validation_alias="WORKERS_AI_MCP_HTTP_KEEP_ALIVE_TIMEOUT"
    )
    http_max_body_bytes: int | None = Field(
        default=None, ge=65_536, validation_alias="WORKERS_AI_MCP_HTTP_MAX_BODY_BYTES"
    )
    http_max_large_bodies: int = Field(
        default=2, ge=1, le=10_000, validation_alias="WORKERS_AI_MCP_HTTP_MAX_LARGE_BODIES"
    )
    http_max_large_bodies_per_client: int = Field(
        default=1, ge=1, le=10_000, validation_alias="WORKERS_AI_MCP_HTTP_MAX_LARGE_BODIES_PER_CLIENT"
    )
    http_large_body_wait: float = Field(
        default=30.0, gt=0, le=3600, validation_alias="WORKERS_AI_MCP_HTTP_LARGE_BODY_WAIT"
    )
    http_max_sessions: int = Field(default=100, ge=1, le=100_000, validation_alias="WORKERS_AI_MCP_HTTP_MAX_SESSIONS")
    http_session_idle_timeout: float = Field(
        default=600.0, gt=0, le=86_400, validation_alias="WORKERS_AI_MCP_HTTP_SESSION_IDLE_TIMEOUT"
    )
    # Resumable streamable HTTP: what the server keeps in memory of what it sent, for replay on
    # reconnection with Last-Event-ID (transports/http/events.py); 0 events turns resumption off.
    http_replay_events: int = Field(
        default=10_000, ge=0, le=1_000_000, validation_alias="WORKERS_AI_MCP_HTTP_REPLAY_EVENTS"
    )
    http_replay_bytes: int = Field(
        default=32 * MEBIBYTE, ge=0, le=4096 * MEBIBYTE, validation_alias="WORKERS_AI_MCP_HTTP_REPLAY_BYTES"
    )

    # Read caps on Workers AI answers, enforced while reading (docs/reliability.md, "Read caps")
    max_answer_bytes: int = Field(default=40 * MEBIBYTE, ge=1024, validation_alias="WORKERS_AI_MCP_MAX_ANSWER_BYTES")
    max_media_answer_bytes: int | None = Field(
        default=None, ge=1024, validation_alias="WORKERS_AI_MCP_MAX_MEDIA_ANSWER_BYTES"
    )  # None: the media cap, WORKERS_AI_MCP_MAX_INPUT_BYTES
    max_error_body_bytes: int = Field(
        default=16 * 1024, ge=1024, le=MEBIBYTE, validation_alias="WORKERS_AI_MCP_MAX_ERROR_BODY_BYTES"
    )
    max_stream_line_bytes: int = Field(
        default=MEBIBYTE, ge=1024, validation_alias="WORKERS_AI_MCP_MAX_STREAM_LINE_BYTES"
    )
    max_stream_bytes: int = Field(default=64 * MEBIBYTE, ge=1024, validation_alias="WORKERS_AI_MCP_MAX_STREAM_BYTES")

    @model_validator(mode="before")
    @classmethod
    def _drop_unsubstituted_templates(cls, data: Any) -> Any:
        if not isinstance(data, dict):
            return data
        cleaned: dict[str, Any] = {}
        for key, value in cast(dict[str, Any], data).items():
            if looks_like_template(value):
                logger.warning("%s looks like an unsubstituted template (%s); treating it as unset", key, value)
                continue
            cleaned[key] = value
        return cleaned

    @field_validator("api_token", "gateway_token", "http_auth_token", mode="after")
    @classmethod
    def _header_safe_token(cls, value: SecretStr | None, info: ValidationInfo) -> SecretStr | None:
        """A token travels in an HTTP header: whitespace around it (a CRLF env file, a pasted value)
        is stripped with a warning; any other control character is refused. Neither shows the token."""
        if value is None:
            return None
        raw = value.get_secret_value()
        stripped = raw.strip()
        env = _env_name(info.field_name or "")
        if stripped != raw:
            logger.warning("%s had whitespace (such as a CR or LF) around it; it was stripped", env)
        if any(ord(char) < 32 or ord(char) == 127 for char in stripped):
            raise ValueError(
                "contains a control character, which cannot travel in an HTTP header; "
                "copy the token again (its value is not shown)"
            )
        return SecretStr(stripped) if stripped != raw else value

    @model_validator(mode="after")
    def _one_inbound_authentication(self) -> Settings:
        if self.oauth_issuer and self.http_auth_token is not None:
            raise ValueError(
                "set either WORKERS_AI_MCP_AUTH_TOKEN (one static token) or WORKERS_AI_MCP_OAUTH_ISSUER (OAuth), "
                "not both"
            )
        if bool(self.oauth_issuer) != bool(self.oauth_audience):
            raise ValueError(
                "OAuth needs both WORKERS_AI_MCP_OAUTH_ISSUER (the authorization server) and "
                "WORKERS_AI_MCP_OAUTH_AUDIENCE (this server's public URL, e.g. https://mcp.example.com/mcp)"
            )
        if self.oauth_jwks_url and not self.oauth_issuer:
            raise ValueError("WORKERS_AI_MCP_OAUTH_JWKS_URL needs WORKERS_AI_MCP_OAUTH_ISSUER")
        return self

    @field_validator("allowed_url_hosts", "tools", "allowed_hosts", "allowed_origins", mode="before")
    @classmethod
    def _comma_list(cls, value: object) -> object:
        return _split_list(value)

    @field_validator("input_roots", mode="before")
    @classmethod
    def _path_list(cls, value: object) -> object:
        if isinstance(value, str):
            return [part for part in re.split(rf"[,\n{re.escape(os.pathsep)}]", value) if part.strip()]
        return value

    @field_validator("output_dir", mode="after")
    @classmethod
    def _expand_output_dir(cls, value: Path) -> Path:
        return value.expanduser().resolve()

    @field_validator("input_roots", mode="after")
    @classmethod
    def _expand_roots(cls, value: list[Path]) -> list[Path]:
        return [p.expanduser().resolve() for p in value]

    @field_validator("base_url", "gateway_url", mode="after")
    @classmethod
    def _http_url(cls, value: str) -> str:
        if not re.match(r"^https?://[^\s/?#]+", value):
            raise ValueError("must be an http(s) URL such as https://api.cloudflare.com/client/v4")
        return value.rstrip("/")

    @field_validator("account_id", "gateway_id", mode="after")
    @classmethod
    def _identifier(cls, value: str | None) -> str | None:
        if value is None:
            return None
        value = value.strip()
        if not re.fullmatch(r"[A-Za-z0-9_-]{1,64}", value):
            raise ValueError("must be letters, digits, '-' or '_' only (find it in the Cloudflare dashboard)")
        return value

    @property
    def allowed_input_roots(self) -> list[Path]:
        """Input roots plus the output folder, so one tool's output can feed the next."""
        roots = list(self.input_roots)
        if self.output_dir not in roots:
            roots.append(self.output_dir)
        return roots

    @property
    def max_message_bytes(self) -> int:
        """The largest HTTP request body (and stdio line) accepted: by default room for the largest media
        input (WORKERS_AI_MCP_MAX_INPUT_BYTES) as base64, plus 1 MiB for the rest of the message."""
        if self.http_max_body_bytes is not None:
            return self.http_max_body_bytes
        return 4 * -(-self.max_input_bytes // 3) + MEBIBYTE

    def missing_credentials(self) -> list[str]:
        """Names of the variables still needed to call Cloudflare (empty when ready or emulated)."""
        if self.emulator:
            return []
        missing: list[str] = []
        if self.api_token is None or not self.api_token.get_secret_value().strip():
            missing.append("CLOUDFLARE_API_TOKEN")
        if not self.account_id:
            missing.append("CLOUDFLARE_ACCOUNT_ID")
        return missing

    # Local state (usage, budgets, batch jobs) shared by every server process of the user
    state_dir: Path = Field(default_factory=lambda: default_state_dir(), validation_alias="WORKERS_AI_MCP_STATE_DIR")
    max_cost_usd_monthly: float | None = Field(
        default=None, gt=0, validation_alias="WORKERS_AI_MCP_MAX_COST_USD_MONTHLY"
    )
    unpriced_call_usd: float = Field(default=0.01, ge=0, le=100, validation_alias="WORKERS_AI_MCP_UNPRICED_CALL_USD")
    # Each user's own budgets (the token's subject over OAuth; the one local user otherwise), beside the
    # deployment's (WORKERS_AI_MCP_MAX_COST_USD and _MONTHLY, every user together)
    user_max_cost_usd: float | None = Field(default=None, gt=0, validation_alias="WORKERS_AI_MCP_USER_MAX_COST_USD")
    user_max_cost_usd_monthly: float | None = Field(
        default=None, gt=0, validation_alias="WORKERS_AI_MCP_USER_MAX_COST_USD_MONTHLY"
    )

    # The same state in PostgreSQL, shared by replicas on many machines (a secret: it holds the password)
    state_url: SecretStr | None = Field(default=None, validation_alias="WORKERS_AI_MCP_STATE_URL")
    state_schema: str = Field(default="workers_ai_mcp", validation_alias="WORKERS_AI_MCP_STATE_SCHEMA")

    @field_validator("state_dir", mode="after")
    @classmethod
    def _expand_state_dir(cls, value: Path) -> Path:
        # Absolute but not resolved: the store refuses a state folder that is a symbolic link.
        return Path(os.path.abspath(value.expanduser()))

    @field_validator("state_url", mode="after")
    @classmethod
    def _postgres_url(cls, value: SecretStr | None) -> SecretStr | None:
        if value is None:
            return None
        url = value.get_secret_value().strip()
        if not re.match(r"^postgres(ql)?://", url):
            raise ValueError(
                "must be a PostgreSQL URL such as postgresql://user:password@host:5432/database "
                "(its value is not shown); unset it to keep the state in the state folder"
            )
        return SecretStr(url)

    @field_validator("state_schema", mode="after")
    @classmethod
    def _schema_name(cls, value: str) -> str:
        if not re.fullmatch(r"[a-z_][a-z0-9_]{0,54}", value):
            raise ValueError("must be a PostgreSQL schema name of lowercase letters, digits and '_' (at most 55)")
        return value


def default_state_dir() -> Path:
    """The per-user state folder: $XDG_STATE_HOME (else ~/.local/state) on Linux, the platform's own elsewhere."""
    home = Path.home()
    if sys.platform == "win32":
        return Path(os.environ.get("LOCALAPPDATA") or home / "AppData" / "Local") / "workers-ai-mcp"
    if sys.platform == "darwin":
        return home / "Library" / "Application Support" / "workers-ai-mcp"
    xdg = os.environ.get("XDG_STATE_HOME", "")
    return (Path(xdg) if os.path.isabs(xdg) else home / ".local" / "state") / "workers-ai-mcp"


def load_settings(**overrides: Any) -> Settings:
    """Build `Settings` from the environment, with CLI overrides winning; raise `SettingsError`."""
    clean = {key: value for key, value in overrides.items() if value is not None}
    try:
        return Settings(**clean)
    except ValidationError as exc:
        raise SettingsError(_describe(exc)) from None


def _describe(exc: ValidationError) -> str:
    sentences: list[str] = []
    for error in exc.errors(include_url=False, include_input=False):
        if not error["loc"]:  # a check across settings: its message names them
            message = error["msg"].removeprefix("Value error, ")
            sentences.append(message[:1].upper() + message[1:] + ".")
            continue
        field = str(error["loc"][0])
        env = _env_name(field)
        sentences.append(f"{env} is invalid: {error['msg']}.")
    return " ".join(sentences)


def _env_name(field: str) -> str:
    info = Settings.model_fields.get(field)
    alias = info.validation_alias if info else None
    if isinstance(alias, str):
        return alias
    if isinstance(alias, AliasChoices):
        first = alias.choices[0]
        return first if isinstance(first, str) else field
    return field
