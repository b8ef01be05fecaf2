"""Invariant 1 across OS processes sharing one SQLite file (the embedded store's promise)."""

from __future__ import annotations

import asyncio
import json
import os
import sqlite3
import sys
from pathlib import Path

from cdp.store.catalogue import IDENTIFIERS, PROFILES
from cdp.store.port import Query
from cdp.store.sqlite import SQLiteStore

ROOT = Path(__file__).resolve().parents[2]
PROCESSES = 2
CLAIMS = 50
TIMEOUT_S = 120

# Each writer opens the file, says "ready", waits for "go" (so all start together), then
# tries to create one profile per n claiming both EMAIL user<n> and LOYALTY_CARD <n>.
# One goes up and the other down, so they meet mid-way and race for the same claims;
# paced claims make their runs overlap however their start-up jitters.
WRITER = """
import asyncio, json, sys
from cdp.bootstrap import build_runtime, start_runtime, stop_runtime
from cdp.channel import Channel
from cdp.errors import Conflict
from cdp.identity.model import IdentifierType
from cdp.identity.service import RawIdentifier, create_profile
from cdp.settings import load_settings

async def main(path: str, claims: int, descending: bool) -> None:
    rt = build_runtime(load_settings(store_url=f"sqlite:///{path}"))
    await start_runtime(rt)
    print("ready", flush=True)
    sys.stdin.readline()
    created, conflicts = [], 0
    for n in sorted(range(claims), reverse=descending):
        identifiers = [
            RawIdentifier(IdentifierType.EMAIL, f"user{n}@example.com"),
            RawIdentifier(IdentifierType.LOYALTY_CARD, f"60370000{n:04d}"),
        ]
        try:
            profile = await create_profile(rt, channel=Channel.POS, identifiers=identifiers)
            created.append(profile.id)
        except Conflict:
            conflicts += 1
        await asyncio.sleep(0.002)  # spread the run so the writers overlap, not queue
    await stop_runtime(rt)
    print(json.dumps({"created": created, "conflicts": conflicts}), flush=True)

asyncio.run(main(sys.argv[1], int(sys.argv[2]), sys.argv[3] == "descending"))
"""


async def start_writer(db: Path, order: str) -> asyncio.subprocess.Process:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    env.pop("CDP_STORE_URL", None)
    return await asyncio.create_subprocess_exec(
        sys.executable,
        "-c",
        WRITER,
        str(db),
        str(CLAIMS),
        order,
        stdin=asyncio.subprocess.PIPE,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
        cwd=ROOT,
        env=env,
    )


async def run_writers(db: Path) -> list[tuple[int, str, str]]:
    """(exit code, stdout, stderr) of each writer, all released at once."""
    orders = ["ascending", "descending"]
    writers = [await start_writer(db, orders[n % 2]) for n in range(PROCESSES)]
    for writer in writers:
        assert writer.stdout is not None
        ready = await asyncio.wait_for(writer.stdout.readline(), TIMEOUT_S)
        if ready != b"ready\n":
            _, err = await writer.communicate()
            raise AssertionError(f"writer did not start: {ready!r}\n{err.decode()}")
    outcomes = await asyncio.wait_for(
        asyncio.gather(*(writer.communicate(b"go\n") for writer in writers)), TIMEOUT_S
    )
    return [
        (writer.returncode or 0, out.decode(), err.decode())
        for writer, (out, err) in zip(writers, outcomes, strict=True)
    ]


async def test_two_processes_claiming_the_same_identifiers_link_each_once(
    tmp_path: Path,
) -> None:
    db = tmp_path / "shared.db"

    results = await run_writers(db)

    for code, _, err in results:
        assert "database is locked" not in err
        assert code == 0, err
    reports = [json.loads(out) for _, out, _ in results]
    created = [profile_id for report in reports for profile_id in report["created"]]
    assert len(created) == CLAIMS
    assert sum(report["conflicts"] for report in reports) == CLAIMS * (PROCESSES - 1)

    store = SQLiteStore(db)
    await store.start()
    try:
        links = await store.find(Query(IDENTIFIERS, {}))
        profiles = await store.find(Query(PROFILES, {}))
    finally:
        await store.close()
    owner = {link["id"]: link["profile_id"] for link in links}
    assert len(links) == 2 * CLAIMS
    for n in range(CLAIMS):
        # Both identifiers of one claim went to one profile: a create is all or nothing.
        assert owner[f"EMAIL:user{n}@example.com"] == owner[f"LOYALTY_CARD:60370000{n:04d}"]
    assert sorted(set(owner.values())) == sorted(created)
    assert sorted(p["id"] for p in profiles) == sorted(created)


async def test_a_store_opening_a_new_file_waits_for_another_writer_setting_it_up(
    tmp_path: Path,
) -> None:
    # Given another connection (as another process's store does while it creates the
    # tables) holding the write lock on a brand-new file, when this store starts, then it
    # waits for that writer instead of failing at once with "database is locked".
    path = tmp_path / "new.db"
    other = sqlite3.connect(path, isolation_level=None)
    other.execute("BEGIN IMMEDIATE")
    store = SQLiteStore(path)
    starting = asyncio.create_task(store.start())
    await asyncio.sleep(0.2)
    assert not starting.done()

    other.execute("COMMIT")
    other.close()
    await asyncio.wait_for(starting, TIMEOUT_S)

    try:
        await store.ping()
        assert await store.count(PROFILES, {}) == 0
    finally:
        await store.close()
