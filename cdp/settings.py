"""Configuration, read once from the environment (prefix `CDP_`)."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

import phonenumbers
from pydantic import Field, ValidationError, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

DEFAULT_STORE_URL = "sqlite:///./var/cdp.db"


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
    jobs_interval_seconds: float = Field(default=60.0, ge=0, le=86_400)

    @field_validator("store_url")
    @classmethod
    def _known_store(cls, value: str) -> str:
        if not value.startswith(("sqlite://", "mongodb://", "mongodb+srv://")):
            raise ValueError("must start with sqlite://, mongodb:// or mongodb+srv://")
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

    @field_validator("default_region")
    @classmethod
    def _known_region(cls, value: str) -> str:
        region = value.upper()
        if region not in phonenumbers.SUPPORTED_REGIONS:
            raise ValueError("must be a two-letter region such as US, GB or DE")
        return region

    @field_validator("admin_key")
    @classmethod
    def _strong_admin_key(cls, value: str | None) -> str | None:
        if value in (None, ""):
            return None
        if len(value) < 24:
            raise ValueError("must be at least 24 characters")
        return value

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


class SettingsError(Exception):
    """One line naming the setting and what is wrong with it."""


def load_settings(**overrides: object) -> Settings:
    try:
        return Settings(**overrides)  # type: ignore[arg-type]
    except ValidationError as exc:
        first = exc.errors()[0]
        name = "CDP_" + str(first["loc"][0]).upper() if first["loc"] else "CDP_*"
        message = first["msg"].removeprefix("Value error, ")
        raise SettingsError(f"{name}: {message}") from None
