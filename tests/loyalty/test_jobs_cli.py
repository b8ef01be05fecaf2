"""`cdp jobs run` as operators run it from cron: real processes on the test's store, on
the system clock, so the data is written on a clock set far enough back to be due now."""

from __future__ import annotations

import re
import tomllib
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from cdp.loyalty.program import DEMO_PROGRAM, Program
from cdp.runtime import Runtime
from tests.realtime.support import MovableClock

from .books import assert_books_balance
from .shop import Shop, line, ok
from .support import assert_every_job_done_once, members_due_for_every_job, run_processes

CLI = ["-c", "from cdp.cli import main; main()", "jobs", "run"]
REPORT = re.compile(r"^visited (\d+) profiles, changed (\d+)$", re.MULTILINE)
# The demo program with everything expiring after one month without activity.
INACTIVITY_TOML = re.sub(
    r'^policy = "lot".*\nmonths = 12',
    'policy = "inactivity"\nmonths = 1',
    DEMO_PROGRAM.read_text(),
    flags=re.MULTILINE,
)
INACTIVITY = Program.model_validate(tomllib.loads(INACTIVITY_TOML))


async def cdp_jobs(rt: Runtime, *args: str, copies: int = 1, **env: str) -> list[int]:
    """Run `cdp jobs run ARGS` in `copies` processes at once; how many each changed."""
    results = await run_processes(
        [*CLI, *args], copies=copies, env={"CDP_STORE_URL": rt.settings.store_url, **env}
    )
    changed = []
    for code, out, err in results:
        assert code == 0, err
        report = REPORT.search(out)
        assert report is not None, out
        changed.append(int(report.group(2)))
    return changed


async def test_two_cli_runs_at_once_apply_each_change_once(
    rt: Runtime, shop: Shop, clock: MovableClock
) -> None:
    clock.moment = datetime.now(UTC) - timedelta(days=400)
    members = await members_due_for_every_job(shop)

    changed = await cdp_jobs(rt, copies=2)
    again = await cdp_jobs(rt)

    assert (sum(changed), again) == (3, [0])
    await assert_every_job_done_once(rt, members)


async def test_cli_release_only_leaves_expiry_for_later(
    rt: Runtime, shop: Shop, clock: MovableClock
) -> None:
    clock.moment = datetime.now(UTC) - timedelta(days=20)  # released six days ago
    receipt = ok(await shop.purchase("603700000000030", line(70.00)))

    changed = await cdp_jobs(rt, "--only", "release")

    assert changed == [1]
    (account,) = await assert_books_balance(rt, receipt["profile"]["id"])
    assert (account.balance, account.pending) == (70, 0)


@pytest.mark.parametrize("program", [INACTIVITY], indirect=True, ids=["inactivity"])
async def test_cli_expiry_follows_the_program_file(
    rt: Runtime, shop: Shop, clock: MovableClock, tmp_path: Path
) -> None:
    program_file = tmp_path / "program.toml"
    program_file.write_text(INACTIVITY_TOML)
    clock.moment = datetime.now(UTC) - timedelta(days=70)  # idle for over a month
    receipt = ok(await shop.purchase("603700000000040", line(90.00)))

    with_demo_rules = await cdp_jobs(rt, "--only", "expire")
    with_its_rules = await cdp_jobs(rt, "--only", "expire", CDP_PROGRAM_FILE=str(program_file))

    assert (with_demo_rules, with_its_rules) == ([0], [1])
    (account,) = await assert_books_balance(rt, receipt["profile"]["id"])
    assert (account.balance, account.pending) == (0, 0)
