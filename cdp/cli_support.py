"""What every `cdp` command shares: settings checked up front, a started runtime."""

from __future__ import annotations

import asyncio
import sys
from collections.abc import Awaitable, Callable
from typing import TypeVar
from urllib.parse import urlsplit, urlunsplit

import typer
from rich.console import Console

from cdp.bootstrap import build_program, build_runtime, start_runtime, stop_runtime
from cdp.errors import DomainError
from cdp.loyalty.program import ProgramError
from cdp.runtime import Runtime
from cdp.settings import Settings, SettingsError, load_settings
from cdp.store.port import StoreUnavailable

T = TypeVar("T")
out = Console()
err = Console(stderr=True)


def settings_or_exit() -> Settings:
    """Settings (with a program that loads), or one line naming what is wrong, exit code 2."""
    try:
        settings = load_settings()
        build_program(settings)
        return settings
    except (SettingsError, ProgramError) as exc:
        sys.stderr.write(f"configuration error: {exc}\n")
        raise typer.Exit(2) from None


def run_with_runtime(work: Callable[[Runtime], Awaitable[T]]) -> T:
    """Start the configured stores, run `work`, stop them; domain errors exit 1 cleanly."""
    settings = settings_or_exit()

    async def main() -> T:
        rt = build_runtime(settings)
        await start_runtime(rt)
        try:
            return await work(rt)
        finally:
            await stop_runtime(rt)

    try:
        return asyncio.run(main())
    except DomainError as exc:
        err.print(f"[red]{exc.code}:[/red] {exc.message}", highlight=False)
        raise typer.Exit(1) from None
    except StoreUnavailable as exc:
        shown = without_password(settings.store_url)
        sys.stderr.write(f"store unavailable: CDP_STORE_URL={shown}: {exc}\n")
        raise typer.Exit(2) from None


def store_reachable_or_exit() -> None:
    """Start the configured store once and ping it: one line and exit code 2 if it cannot
    be opened, before a server starts that would only fail each request."""
    run_with_runtime(lambda rt: rt.store.ping())


def without_password(url: str) -> str:
    """`url` fit to print: a password in it is masked."""
    parts = urlsplit(url)
    if parts.password is None:
        return url
    host = parts.netloc.rpartition("@")[2]
    return urlunsplit(parts._replace(netloc=f"{parts.username}:***@{host}"))
