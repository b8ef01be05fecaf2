"""Settings: read from CDP_* variables, refused with one line naming the setting."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from cdp.loyalty.program import DEMO_PROGRAM
from cdp.settings import DEFAULT_STORE_URL, SettingsError, load_settings


@pytest.fixture(autouse=True)
def clean_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    """No CDP_* variable of the machine running the tests leaks into these."""
    for name in list(os.environ):
        if name.startswith("CDP_"):
            monkeypatch.delenv(name)


def test_defaults_are_a_development_service_on_a_local_sqlite_file() -> None:
    settings = load_settings()

    assert settings.env == "development"
    assert settings.production is False
    assert settings.store_url == DEFAULT_STORE_URL
    assert settings.sqlite_path == "./var/cdp.db"
    assert settings.default_region == "US"
    assert settings.admin_key is None
    assert (settings.max_query_depth, settings.max_query_tokens, settings.max_aliases) == (
        12,
        2000,
        30,
    )


def test_settings_come_from_cdp_environment_variables(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CDP_ENV", "production")
    monkeypatch.setenv("CDP_MAX_ALIASES", "5")
    monkeypatch.setenv("CDP_DEFAULT_REGION", "gb")

    settings = load_settings()

    assert settings.production is True
    assert settings.max_aliases == 5
    assert settings.default_region == "GB"


def test_overrides_beat_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CDP_MAX_QUERY_DEPTH", "20")

    assert load_settings(max_query_depth=3).max_query_depth == 3


@pytest.mark.parametrize(
    ("url", "path"),
    [
        ("sqlite:///relative/cdp.db", "relative/cdp.db"),
        ("sqlite:////abs/cdp.db", "/abs/cdp.db"),
        ("sqlite://", ":memory:"),
    ],
)
def test_sqlite_path_follows_the_url(url: str, path: str) -> None:
    assert load_settings(store_url=url).sqlite_path == path


@pytest.mark.parametrize(
    "url", ["sqlite:///x.db", "mongodb://localhost:27017/cdp", "mongodb+srv://cluster/cdp"]
)
def test_known_store_urls_are_accepted(url: str) -> None:
    assert load_settings(store_url=url).store_url == url


@pytest.mark.parametrize(("value", "expected"), [("", None), ("a" * 24, "a" * 24)])
def test_admin_key_is_optional_but_long_when_set(value: str, expected: str | None) -> None:
    assert load_settings(admin_key=value).admin_key == expected


@pytest.mark.parametrize(
    ("variable", "value", "message"),
    [
        ("CDP_ENV", "staging", "CDP_ENV: Input should be 'development' or 'production'"),
        (
            "CDP_STORE_URL",
            "ftp://x",
            "CDP_STORE_URL: must start with sqlite://, mongodb:// or mongodb+srv://",
        ),
        (
            "CDP_REDIS_URL",
            "http://cache",
            "CDP_REDIS_URL: must start with redis://, rediss:// or unix://",
        ),
        ("CDP_ADMIN_KEY", "short", "CDP_ADMIN_KEY: must be at least 24 characters"),
        (
            "CDP_CUSTOMER_TOKEN_SECRET",
            "s" * 31,
            "CDP_CUSTOMER_TOKEN_SECRET: must be at least 32 characters (HS256 secret)",
        ),
        (
            "CDP_DEFAULT_REGION",
            "XX",
            "CDP_DEFAULT_REGION: must be a two-letter region such as US, GB or DE",
        ),
        ("CDP_PROGRAM_FILE", "/no/such/program.toml", "CDP_PROGRAM_FILE: no such file: "),
        ("CDP_PORT", "0", "CDP_PORT: Input should be greater than or equal to 1"),
        (
            "CDP_MAX_QUERY_DEPTH",
            "1",
            "CDP_MAX_QUERY_DEPTH: Input should be greater than or equal to 2",
        ),
        (
            "CDP_MAX_QUERY_TOKENS",
            "lots",
            "CDP_MAX_QUERY_TOKENS: Input should be a valid integer",
        ),
        ("CDP_LOG_LEVEL", "trace", "CDP_LOG_LEVEL: Input should be "),
        (
            "CDP_MATCH_REVIEW_THRESHOLD",
            "0.95",
            "CDP_MATCH_REVIEW_THRESHOLD must not exceed CDP_MATCH_AUTO_THRESHOLD",
        ),
        (
            "CDP_WEBHOOK_SOURCES",
            '{"pos": {"secret": "short"}}',
            "CDP_WEBHOOK_SOURCES (pos.secret): String should have at least 16 characters",
        ),
        ("CDP_WEBHOOK_SOURCES", "not json", "CDP_WEBHOOK_SOURCES: is not valid JSON"),
    ],
)
def test_bad_setting_raises_one_line_naming_it(
    monkeypatch: pytest.MonkeyPatch, variable: str, value: str, message: str
) -> None:
    monkeypatch.setenv(variable, value)

    with pytest.raises(SettingsError) as refused:
        load_settings()

    text = str(refused.value)
    assert text.startswith(message)
    assert "\n" not in text
    assert refused.value.__cause__ is None
    assert refused.value.__suppress_context__ is True


def test_program_file_that_exists_is_accepted() -> None:
    assert load_settings(program_file=DEMO_PROGRAM).program_file == Path(DEMO_PROGRAM)


def test_only_the_first_problem_is_reported(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CDP_ENV", "staging")
    monkeypatch.setenv("CDP_STORE_URL", "ftp://x")

    with pytest.raises(SettingsError) as refused:
        load_settings()

    assert str(refused.value).count("CDP_") == 1
