"""The `cdp` command: serve the API, export the schema, manage keys, load the demo."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated, TypeVar

import typer
from rich import box
from rich.table import Column, Table

from cdp.cli_identity import register as register_identity_commands
from cdp.cli_matching import identity_app
from cdp.cli_operations import jobs_app, sync_app, webhooks_app
from cdp.cli_support import out, run_with_runtime, settings_or_exit, store_reachable_or_exit
from cdp.identity.model import IdentifierType

T = TypeVar("T")
app = typer.Typer(no_args_is_help=True, add_completion=False, help=__doc__)
keys_app = typer.Typer(no_args_is_help=True, help="API keys: create, list, revoke.")
app.add_typer(keys_app, name="keys")
app.add_typer(jobs_app, name="jobs")
app.add_typer(webhooks_app, name="webhooks")
app.add_typer(sync_app, name="sync")
demo_app = typer.Typer(no_args_is_help=True, help="Demo data for development.")
app.add_typer(demo_app, name="demo")
app.add_typer(identity_app, name="identity")


@app.command()
def serve(
    host: Annotated[str | None, typer.Option(help="Overrides CDP_HOST.")] = None,
    port: Annotated[int | None, typer.Option(help="Overrides CDP_PORT.")] = None,
) -> None:
    """Serve the GraphQL API with uvicorn."""
    from cdp.logging import configure_logging
    from graphql_schema.server import serve as serve_api

    settings = settings_or_exit()
    store_reachable_or_exit()
    configure_logging(settings)
    host, port = host or settings.host, port or settings.port
    out.print(f"serving on http://{host}:{port}/graphql (Ctrl+C stops)", highlight=False)
    serve_api(settings, host, port)


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


@app.command()
def migrate() -> None:
    """Bring the store to the current document schema (idempotent: safe to rerun, and to
    run again after a crash). Run it with the service stopped."""
    from cdp.migrations import migrate as run_migrations

    report = run_with_runtime(lambda rt: run_migrations(rt.store))
    out.print(
        f"profiles migrated: {report.profiles}\nlots moved out of them: {report.lots}\n"
        f"merge records rewritten: {report.merges}",
        highlight=False,
    )


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
    # soft_wrap: the key is shown once; folding it at the console width breaks copying.
    out.print(f"key:    {plain}", highlight=False, soft_wrap=True)


@keys_app.command("list")
def keys_list() -> None:
    """List keys (never their secrets)."""
    from cdp.auth.service import list_api_keys

    keys = run_with_runtime(list_api_keys)
    # The id is what `keys revoke` takes: never cut it short, whatever the width.
    table = Table(Column("id", no_wrap=True), "name", "channel", "scopes", "created", "revoked")
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


@demo_app.command("load")
def demo_load() -> None:
    """Load the demo members (idempotent) and print where to try them."""
    from cdp.demo import DEMO_REGISTER, DEMO_STORE, load_demo

    settings = settings_or_exit()
    members = run_with_runtime(load_demo)
    table = Table(
        Column("name", no_wrap=True),
        Column("email", no_wrap=True),
        Column("card", no_wrap=True),
        "balance",
        "pending",
        "tier",
        box=box.SIMPLE,
    )
    for member in members:
        table.add_row(
            f"{member.personal.first_name} {member.personal.last_name}",
            member.personal.email or "",
            ", ".join(i.value for i in member.identifiers if i.type is IdentifierType.LOYALTY_CARD),
            str(member.loyalty.balance),
            str(member.loyalty.pending),
            member.loyalty.tier_id,
        )
    out.print(table)
    host = "localhost" if settings.host in ("0.0.0.0", "::") else settings.host
    base = f"http://{host}:{settings.port}"
    key = settings.admin_key or "<your CDP_ADMIN_KEY>"
    sample = '{ profile(identifier: {type: EMAIL, value: "ada@example.com"}) '
    sample += "{ firstName loyalty { balance pendingPoints tier { name } } } }"
    out.print(
        f"GraphiQL:  {base}/graphql\n"
        f"Kiosk:     {base}/demo/kiosk?key={key}\n"
        f"Receipts:  {base}/demo/receipts?key={key}&store={DEMO_STORE}&register={DEMO_REGISTER}\n"
        f"Demo key:  {key}  (send it as  Authorization: Bearer {key})\n"
        f"Try:       {sample}",
        highlight=False,
        soft_wrap=True,
    )


register_identity_commands(app)


def main() -> None:
    app()
