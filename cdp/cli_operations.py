"""Commands for operators: loyalty jobs, webhook endpoints and workers, sync health."""

from __future__ import annotations

from typing import Annotated

import httpx
import typer
from rich.table import Table

from cdp.cli_support import out, run_with_runtime
from cdp.loyalty.jobs import ALL_JOBS, Job, JobReport, run_jobs
from cdp.retention import RetentionReport, apply_retention
from cdp.runtime import Runtime
from cdp.webhooks import service as webhooks
from cdp.webhooks.dispatcher import Dispatcher
from cdp.webhooks.health import sync_health

jobs_app = typer.Typer(
    no_args_is_help=True, help="Loyalty jobs: release, expire, tiers; and retention."
)
webhooks_app = typer.Typer(no_args_is_help=True, help="Outbound webhook endpoints and deliveries.")
sync_app = typer.Typer(no_args_is_help=True, help="Health of every sync point.")


@jobs_app.command("run")
def jobs_run(
    only: Annotated[
        list[Job] | None, typer.Option("--only", help="Run just these (default: all).")
    ] = None,
) -> None:
    """Release pending points, expire points and review tiers for every profile due now,
    and delete what retention lets go of.

    Safe to run from cron while `cdp serve` runs its own loop: each change is one
    versioned transaction, so two runners never apply it twice.
    """
    chosen = frozenset(only) if only else ALL_JOBS

    async def work(rt: Runtime) -> tuple[JobReport, RetentionReport | None]:
        report = await run_jobs(rt, chosen)
        return report, await apply_retention(rt) if Job.RETENTION in chosen else None

    report, retained = run_with_runtime(work)
    out.print(f"visited {report.visited} profiles, changed {report.changed}")
    if retained is not None:
        counts = ", ".join(f"{name} {count}" for name, count in retained.deleted.items())
        out.print(f"retention deleted: {counts}")


@webhooks_app.command("register")
def webhooks_register(
    url: Annotated[str, typer.Argument(help="Where to POST deliveries.")],
    events: Annotated[list[str], typer.Option("--event", help="Event type, or * for all.")],
) -> None:
    """Register an endpoint; its signing secret is printed once."""
    endpoint = run_with_runtime(lambda rt: webhooks.register_webhook(rt, url=url, events=events))
    out.print(f"id:     {endpoint.id}\nevents: {' '.join(endpoint.events)}")
    out.print(f"secret: {endpoint.secret}", highlight=False)


@webhooks_app.command("list")
def webhooks_list() -> None:
    """List endpoints (never their secrets)."""
    table = Table("id", "url", "events", "active")
    for endpoint in run_with_runtime(webhooks.list_endpoints):
        table.add_row(endpoint.id, endpoint.url, " ".join(endpoint.events), str(endpoint.active))
    out.print(table)


@webhooks_app.command("disable")
def webhooks_disable(endpoint_id: str) -> None:
    """Stop sending to an endpoint."""
    run_with_runtime(lambda rt: webhooks.disable_webhook(rt, endpoint_id=endpoint_id))
    out.print(f"{endpoint_id} disabled")


@webhooks_app.command("redeliver")
def webhooks_redeliver(delivery_id: str) -> None:
    """Queue a delivery again (a DEAD one included)."""
    run_with_runtime(lambda rt: webhooks.redeliver(rt, delivery_id=delivery_id))
    out.print(f"{delivery_id} queued")


@webhooks_app.command("deliveries")
def webhooks_deliveries(
    endpoint: Annotated[str | None, typer.Option(help="Only this endpoint.")] = None,
    status: Annotated[str | None, typer.Option(help="PENDING, DELIVERED, FAILED or DEAD.")] = None,
    first: Annotated[int, typer.Option(help="How many, newest first.")] = 20,
) -> None:
    """Recent deliveries with their outcome."""
    found = run_with_runtime(
        lambda rt: webhooks.deliveries(rt, endpoint_id=endpoint, status=status, first=first)
    )
    table = Table("id", "endpoint", "event", "status", "attempts", "code", "error")
    for d in found:
        table.add_row(
            d.id,
            d.endpoint_id,
            d.event,
            d.status.value,
            str(d.attempts),
            str(d.response_code or ""),
            d.last_error or "",
        )
    out.print(table)


@webhooks_app.command("dispatch")
def webhooks_dispatch(
    once: Annotated[bool, typer.Option(help="One round, then exit.")] = False,
    interval: Annotated[float, typer.Option(help="Seconds between idle rounds.")] = 1.0,
) -> None:
    """Run the dispatcher as a worker (several may run at once without double-sending)."""

    async def work(rt: Runtime) -> int:
        async with httpx.AsyncClient(follow_redirects=False) as client:
            dispatcher = Dispatcher(rt, client)
            if once:
                return await dispatcher.run_once()
            await dispatcher.run_forever(interval)
            return 0

    try:
        attempted = run_with_runtime(work)
    except KeyboardInterrupt:
        return
    out.print(f"attempted {attempted} deliveries")


@sync_app.command("report")
def sync_report(
    window_hours: Annotated[int, typer.Option(help="Window to count over.")] = 24,
) -> None:
    """Attempts, failures and failure rate per sync point; alerting ones in red."""
    health = run_with_runtime(lambda rt: sync_health(rt, window_hours=window_hours))
    table = Table(
        "sync point",
        "attempts",
        "failures",
        "rate",
        "alerting",
        "last success",
        "last failure",
        "last error",
        title=f"last {health.window_hours} h, alert above {health.threshold:.1%}",
    )
    for p in health.points:
        style = "red" if p.alerting else None
        table.add_row(
            p.name,
            str(p.attempts),
            str(p.failures),
            f"{p.failure_rate:.1%}",
            "yes" if p.alerting else "no",
            p.last_success_at.isoformat(timespec="seconds") if p.last_success_at else "",
            p.last_failure_at.isoformat(timespec="seconds") if p.last_failure_at else "",
            p.last_error or "",
            style=style,
        )
    out.print(table)
