"""What the loyalty tests share besides the driver and the books: the test clock's
start, program variants, customer tokens, a set-up for the jobs, other OS processes."""

from __future__ import annotations

import asyncio
import os
import sys
import tomllib
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import jwt

from cdp.loyalty.program import DEMO_PROGRAM, Program
from cdp.runtime import Runtime
from tests.realtime.support import TOKEN_SECRET

from .books import assert_books_balance, ledger
from .shop import Shop, line, ok

# Mid-June 2026: the app-weekend promotion runs (MOBILE_APP x1.1), winter-double does not.
START = datetime(2026, 6, 15, 12, tzinfo=UTC)
PENDING = timedelta(days=14)  # the demo program's return window


def demo_rules() -> dict[str, Any]:
    """The demo program's TOML as a dict, to change a rule and validate a variant."""
    with DEMO_PROGRAM.open("rb") as file:
        return tomllib.load(file)


def program_with(**changes: Any) -> Program:
    """The demo program with top-level keys replaced (validated like a program file)."""
    return Program.model_validate({**demo_rules(), **changes})


# Rewards with a stock of one and with dates, beside the demo program's own.
LIMITED = program_with(
    rewards=[
        {"id": "mug", "name": "Mug", "cost": 100, "stock": 1},
        {"id": "spring", "name": "Spring gift", "cost": 100, "starts_at": "2027-03-01T00:00:00Z"},
        {"id": "winter", "name": "Winter gift", "cost": 100, "ends_at": "2026-03-01T00:00:00Z"},
        *demo_rules()["rewards"],
    ]
)


def customer_token(app_user_id: str, *, expires_in: timedelta = timedelta(hours=1)) -> str:
    """A token from the brand's identity provider (exp is checked against real time)."""
    claims = {"sub": app_user_id, "exp": datetime.now(UTC) + expires_in}
    return jwt.encode(claims, TOKEN_SECRET, algorithm="HS256")


# -- other OS processes ------------------------------------------------------------------

ROOT = Path(__file__).resolve().parents[2]
PROCESS_TIMEOUT_S = 120


async def run_processes(
    argv: list[str], *, copies: int, env: dict[str, str], stdin: bytes | None = None
) -> list[tuple[int, str, str]]:
    """(exit code, stdout, stderr) of `copies` Python processes started together.

    `stdin` is written once every copy has printed its first line ("ready"), so
    processes that print one and wait for it start their real work together.
    """
    clean = {k: v for k, v in os.environ.items() if not k.startswith("CDP_")}
    started = [
        await asyncio.create_subprocess_exec(
            sys.executable,
            *argv,
            stdin=asyncio.subprocess.PIPE,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
            cwd=ROOT,
            env={**clean, "PYTHONPATH": str(ROOT), **env},
        )
        for _ in range(copies)
    ]
    if stdin is not None:
        for process in started:
            assert process.stdout is not None
            ready = await asyncio.wait_for(process.stdout.readline(), PROCESS_TIMEOUT_S)
            assert ready == b"ready\n", (ready, await process.communicate())
    outcomes = await asyncio.wait_for(
        asyncio.gather(*(process.communicate(stdin) for process in started)), PROCESS_TIMEOUT_S
    )
    return [
        (process.returncode or 0, out.decode(), err.decode())
        for process, (out, err) in zip(started, outcomes, strict=True)
    ]


# -- the jobs' work ----------------------------------------------------------------------

DUE_SPENDS = (100, 200, 500)  # the last one reaches silver


async def members_due_for_every_job(shop: Shop) -> list[str]:
    """Members whose purchases, 400 days on, are due for release and expiry at once, and
    one of them for a tier review (June's 500 points have left the 12-month window)."""
    receipts = [
        ok(await shop.purchase(f"603700000009{n:04d}", line(spend)))
        for n, spend in enumerate(DUE_SPENDS)
    ]
    assert [r["tier"]["id"] for r in receipts] == ["member", "member", "silver"]
    return [r["profile"]["id"] for r in receipts]


async def assert_every_job_done_once(rt: Runtime, members: list[str]) -> None:
    """Each purchase released and expired exactly once, and the tier back to the base."""
    for profile_id, spend in zip(members, DUE_SPENDS, strict=True):
        entries = await ledger(rt, profile_id)
        assert [(e.type.value, e.points) for e in entries] == [("EARN", spend), ("EXPIRE", -spend)]
    accounts = await assert_books_balance(rt, *members)
    assert [(a.balance, a.pending, a.tier_id) for a in accounts] == [(0, 0, "member")] * 3
