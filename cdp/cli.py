"""The `cdp` command: serve the API, export the schema, manage keys, load the demo."""

from __future__ import annotations

import asyncio
import sys
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Annotated, TypeVar

import typer
from rich.console import Console
from rich.table import Table

from cdp.bootstrap import build_program, build_runtime, start_runtime, stop_runtime
from cdp.errors import DomainError
from cdp.loyalty.program import ProgramError
from cdp.runtime import Runtime
from cdp.settings import Settings, SettingsError, load_settings

T = TypeVar("T")
app = typer.Typer(no_args_is_help=True, add_completion=False, help=__doc__)
keys_app = typer.Typer(no_args_is_help=True, help="API keys: create, list, revoke.")
app.add_typer(keys_app, name="keys")
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


@app.command()
def serve(
    host: Annotated[str | None, typer.Option(help="Overrides CDP_HOST.")] = None,
    port: Annotated[int | None, typer.Option(help="Overrides CDP_PORT.")] = None,
) -> None:
    """Serve the GraphQL API with uvicorn."""
    import uvicorn

    from cdp.logging import configure_logging

    settings = settings_or_exit()
    configure_logging(settings)
    uvicorn.run(
        "graphql_schema.app:create_app",
        factory=True,
        host=host or settings.host,
        port=port or settings.port,
        log_level="warning",
        ws_ping_interval=20,
        ws_ping_timeout=20,
    )


@app.command()
def schema(
    output: Annotated[Path | None, typer.Option("--output", "-o", help="File to write.")] = None,
) -> None:
    """Print (or write) the served schema as SDL."""
    from graphql_schema.schema import build_schema

    sdl = str(build_schema(settings_or_exit())) + "\n"
    if output is None:
        sys.stdout.write(sdl)
    else:
        output.write_text(sdl)


@keys_app.command("create")
def keys_create(
    name: Annotated[str, typer.Option(help="Who the key is for, e.g. 'store-42 tills'.")],
    scopes: Annotated[
        list[str], typer.Option(help="Scopes or presets (pos, ecommerce, app, kiosk, crm, admin).")
    ],
) -> None:
    """Create a key; its plain text is printed once and never stored."""
    from cdp.auth.service import create_api_key

    api_key, plain = run_with_runtime(lambda rt: create_api_key(rt, name=name, scopes=scopes))
    out.print(f"id:     {api_key.id}\nscopes: {' '.join(sorted(api_key.scopes))}")
    out.print(f"key:    {plain}", highlight=False)


@keys_app.command("list")
def keys_list() -> None:
    """List keys (never their secrets)."""
    from cdp.auth.service import list_api_keys

    keys = run_with_runtime(list_api_keys)
    table = Table("id", "name", "channel", "scopes", "created", "revoked")
    for key in keys:
        table.add_row(
            key.id,
            key.name,
            key.channel.value,
            " ".join(sorted(key.scopes)),
            key.created_at.isoformat(timespec="seconds"),
            key.revoked_at.isoformat(timespec="seconds") if key.revoked_at else "",
        )
    out.print(table)


@keys_app.command("revoke")
def keys_revoke(key_id: Annotated[str, typer.Argument(help="The key's id (key_...).")]) -> None:
    """Revoke a key."""
    from cdp.auth.service import revoke_api_key

    changed = run_with_runtime(lambda rt: revoke_api_key(rt, key_id=key_id))
    out.print(f"{key_id} revoked" if changed else f"{key_id} was already revoked")


def main() -> None:
    app()
