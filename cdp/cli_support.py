"""What every `cdp` command shares: settings checked up front, a started runtime."""

from __future__ import annotations

import asyncio
import sys
from collections.abc import Awaitable, Callable
from typing import TypeVar

import typer
from rich.console import Console

from cdp.bootstrap import build_program, build_runtime, start_runtime, stop_runtime
from cdp.errors import DomainError
from cdp.loyalty.program import ProgramError
from cdp.runtime import Runtime
from cdp.settings import Settings, SettingsError, load_settings

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
