"""Configuration, read once from the environment (prefix `CDP_`)."""

from __future__ import annotations

import re
from functools import cache
from pathlib import Path
from typing import Literal

import limits
import phonenumbers
from pydantic import BaseModel, Field, ValidationError, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict
from pydantic_settings import SettingsError as SourceError

from cdp.channel import Channel

DEFAULT_STORE_URL = "sqlite:///./var/cdp.db"


class WebhookSource(BaseModel):
    """One inbound sender: its shared secret and the payload mapping it speaks."""

    secret: str = Field(min_length=16)
    format: Literal["cdp", "shopify"] = "cdp"
    channel: Channel = Channel.POS  # what its purchases and returns are recorded under


class Settings(BaseSettings):
    """Every setting is documented in the README's configuration table."""

    model_config = SettingsConfigDict(env_prefix="CDP_", extra="ignore")

    env: Literal["development", "production"] = "development"
    store_url: str = DEFAULT_STORE_URL
    redis_url: str | None = None
    program_file: Path | None = None
    default_region: str = "US"
    admin_key: str | None = None
    host: str = "127.0.0.1"
    port: int = Field(default=8000, ge=1, le=65535)
    log_level: Literal["debug", "info", "warning", "error"] = "info"
    log_format: Literal["json", "console"] = "json"
    max_query_depth: int = Field(default=12, ge=2, le=50)
    max_query_tokens: int = Field(default=2000, ge=50, le=100_000)
    max_aliases: int = Field(default=30, ge=1, le=1000)
    customer_token_secret: str | None = None
    # How long a checked API key is trusted in one process: a revocation reaches every
    # process, and every open WebSocket, within it.
    auth_recheck_seconds: float = Field(default=5.0, gt=0, le=300)
    # Identity resolution.
    match_auto_threshold: float = Field(default=0.9, gt=0, le=1)
    match_review_threshold: float = Field(default=0.1, gt=0, le=1)
    # A pair resting on names and address alone (no birth date, email or phone to
    # confirm it) goes to review unless this is on; on, it merges where the weights say
    # so, unless the store shows a household at that address or a second profile
    # matches as well. A father and his junior of one name at one address look alike.
    match_auto_on_names_and_address: bool = False
    match_model_file: Path | None = None  # `cdp identity train` writes one; None: packaged
    identity_denylist: str = ""  # comma-separated emails/phones never used to match
    enrollment_required_fields: str = "first_name,last_name,email,phone"
    max_emails_per_profile: int = Field(default=3, ge=1, le=100)
    # A legacy POS export gives one person several ids of one system: merges keep them.
    max_pos_ids_per_system: int = Field(default=20, ge=1, le=1000)
    card_prefix: str = Field(default="6037", pattern=r"^[0-9]{0,8}$")
    # Webhooks. Sources: JSON {"pos": {"secret": "...", "format": "cdp"},
    #                           "shop": {"secret": "...", "format": "shopify"}}.
    webhook_sources: dict[str, WebhookSource] = Field(default_factory=dict)
    webhook_max_attempts: int = Field(default=10, ge=1, le=100)
    webhook_max_age_hours: float = Field(default=48, gt=0, le=24 * 30)
    webhook_timeout_seconds: float = Field(default=5, gt=0, le=120)
    webhook_backoff_seconds: float = Field(default=1.0, gt=0, le=3600)  # first retry's wait
    # Outbound targets on loopback, private or link-local addresses (cdp/webhooks/targets.py).
    webhook_allow_private_targets: bool = False
    webhook_tolerance_seconds: int = Field(default=300, ge=1, le=86_400)
    webhook_max_body_bytes: int = Field(default=262_144, ge=1024, le=10_485_760)
    dispatch_interval_seconds: float = Field(default=1.0, ge=0, le=3600)
    sync_alert_threshold: float = Field(default=0.02, ge=0, le=1)
    jobs_interval_seconds: float = Field(default=60.0, ge=0, le=86_400)
    # Retention (cdp.retention), in days. The sync log covers syncHealth's longest window;
    # idempotency records outlive any replay window (inbound signatures: at most a day).
    retention_sync_log_days: float = Field(default=35, ge=31, le=3650)
    retention_deliveries_days: float = Field(default=30, ge=1, le=3650)
    retention_idempotency_days: float = Field(default=90, ge=7, le=3650)
    retention_audit_days: float = Field(default=730, ge=30, le=36_500)
    # Real time (per process): WebSocket connections one key may hold, operations per one.
    ws_max_connections_per_key: int = Field(default=500, ge=1, le=100_000)
    ws_max_subscriptions_per_connection: int = Field(default=20, ge=1, le=1000)
    # Request limits. Rates in the `limits` notation ("600/minute", "20 per 10 seconds"),
    # counted in moving windows (in Redis when CDP_REDIS_URL is set); empty: no limit.
    rate_limit_per_key: str = "6000/minute"
    rate_limit_per_address: str = "6000/minute"
    rate_limit_auth_failures: str = "30/minute"  # wrong keys one address may present
    max_body_bytes: int = Field(default=1_048_576, ge=1024, le=104_857_600)
    max_query_cost: int = Field(default=20_000, ge=10, le=10_000_000)
    # /metrics: with a token, only `Authorization: Bearer <token>`; without, open in
    # development and refused in production.
    metrics_token: str | None = None
    shutdown_timeout_seconds: float = Field(default=10.0, gt=0, le=300)

    @field_validator("store_url")
    @classmethod
    def _known_store(cls, value: str) -> str:
        if not value.startswith(("sqlite://", "mongodb://", "mongodb+srv://")):
            raise ValueError("must start with sqlite://, mongodb:// or mongodb+srv://")
        return value

    @field_validator("rate_limit_per_key", "rate_limit_per_address", "rate_limit_auth_failures")
    @classmethod
    def _known_rate(cls, value: str) -> str:
        value = value.strip()
        if value:
            try:
                limits.parse(value)
            except ValueError:
                raise ValueError('must read like "600/minute" or "20 per 10 seconds"') from None
        return value

    @field_validator("redis_url")
    @classmethod
    def _known_redis(cls, value: str | None) -> str | None:
        if value in (None, ""):
            return None
        if not value.startswith(("redis://", "rediss://", "unix://")):
            raise ValueError("must start with redis://, rediss:// or unix://")
        return value

    @field_validator("program_file")
    @classmethod
    def _program_exists(cls, value: Path | None) -> Path | None:
        if value is not None and not value.is_file():
            raise ValueError(f"no such file: {value}")
        return value

    @field_validator("match_model_file")
    @classmethod
    def _model_loads(cls, value: Path | None) -> Path | None:
        from cdp.identity.match_model import load_model  # the model's code needs settings

        if value in (None, Path("")):
            return None
        load_model(value)  # a MatchModelError (a ValueError) names what is wrong
        return value

    @field_validator("default_region")
    @classmethod
    def _known_region(cls, value: str) -> str:
        region = value.upper()
        if region not in phonenumbers.SUPPORTED_REGIONS:
            raise ValueError("must be a two-letter region such as US, GB or DE")
        return region

    @field_validator("admin_key", "metrics_token")
    @classmethod
    def _strong_secret(cls, value: str | None) -> str | None:
        if value in (None, ""):
            return None
        if len(value) < 24:
            raise ValueError("must be at least 24 characters")
        return value

    @field_validator("enrollment_required_fields")
    @classmethod
    def _known_fields(cls, value: str) -> str:
        known = {"first_name", "last_name", "email", "phone", "postal_code", "birth_date"}
        unknown = {f.strip() for f in value.split(",") if f.strip()} - known
        if unknown:
            raise ValueError(f"unknown field(s) {sorted(unknown)}; known: {sorted(known)}")
        return value

    @model_validator(mode="after")
    def _thresholds_ordered(self) -> Settings:
        if self.match_review_threshold > self.match_auto_threshold:
            raise ValueError("CDP_MATCH_REVIEW_THRESHOLD must not exceed CDP_MATCH_AUTO_THRESHOLD")
        return self

    @property
    def required_fields(self) -> tuple[str, ...]:
        return tuple(f.strip() for f in self.enrollment_required_fields.split(",") if f.strip())

    @property
    def denylist(self) -> frozenset[str]:
        """The deny-listed values as identifiers are stored: lower-case, phones in E.164
        (staff write the store's number as they dial it)."""
        return _parsed_denylist(self.identity_denylist, self.default_region)

    @field_validator("customer_token_secret")
    @classmethod
    def _strong_token_secret(cls, value: str | None) -> str | None:
        if value in (None, ""):
            return None
        if len(value) < 32:
            raise ValueError("must be at least 32 characters (HS256 secret)")
        return value

    @property
    def sqlite_path(self) -> str:
        """The file behind a sqlite:// URL (sqlite:///relative, sqlite:////absolute)."""
        return self.store_url.removeprefix("sqlite://").removeprefix("/") or ":memory:"

    @property
    def production(self) -> bool:
        return self.env == "production"


def _as_stored(value: str, region: str) -> str:
    if "@" not in value:
        try:
            number = phonenumbers.parse(value, region)
        except phonenumbers.NumberParseException:
            number = None
        if number is not None and phonenumbers.is_valid_number(number):
            return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)
    return value.lower()


@cache
def _parsed_denylist(text: str, region: str) -> frozenset[str]:
    """Parsed once: every purchase and enrollment asks, and phones take parsing."""
    values = (v.strip() for v in text.split(","))
    return frozenset(_as_stored(v, region) for v in values if v)


class SettingsError(Exception):
    """One line naming the setting and what is wrong with it."""


def load_settings(**overrides: object) -> Settings:
    try:
        return Settings(**overrides)  # type: ignore[arg-type]
    except ValidationError as exc:
        first = exc.errors()[0]
        message = first["msg"].removeprefix("Value error, ")
        if not first["loc"]:  # a rule across settings names them in its message
            raise SettingsError(message) from None
        name, *inner = (str(part) for part in first["loc"])
        where = f" ({'.'.join(inner)})" if inner else ""
        raise SettingsError(f"CDP_{name.upper()}{where}: {message}") from None
    except SourceError as exc:
        # The environment holds a structured value (JSON) that does not even decode.
        field = re.search(r'field "(\w+)"', str(exc))
        name = f"CDP_{field.group(1).upper()}" if field else "CDP_*"
        raise SettingsError(f"{name}: is not valid JSON") from None
