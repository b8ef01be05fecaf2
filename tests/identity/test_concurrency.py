"""One person through several channels at once ends as exactly one profile.

The calls run concurrently over the ASGI app; they race on the identifier's unique key
(invariant 1), never on a check-then-insert, so the losers re-run and find the winner.
"""

from __future__ import annotations

import asyncio

from cdp.runtime import Runtime
from cdp.store.catalogue import PROFILES
from cdp.store.port import Query
from tests.api.helpers import KeyFactory

from .support import COMPLETION_BONUS, ENROLLMENT_BONUS, Api, event, ident, ledger, person

SURFACES = [
    ("pos", "POS"),
    ("ecommerce", "ECOMMERCE"),
    ("app", "MOBILE_APP"),
    ("kiosk", "KIOSK"),
    ("crm", "CALL_CENTER"),
]
# One person as each surface types them.
EMAILS = ["ada.lovelace@example.com", "ADA.LOVELACE@example.com", " Ada.Lovelace@Example.com"]
PHONES = ["+1 415 555 0100", "(415) 555-0100", "415.555.0100"]


async def profile_count(rt: Runtime) -> int:
    return len(await rt.store.find(Query(PROFILES, {})))


async def test_ten_parallel_enrollments_of_one_person_make_one_member(
    api: Api, rt: Runtime, make_key: KeyFactory
) -> None:
    keys = [(await make_key(preset), channel) for preset, channel in SURFACES]

    results = await asyncio.gather(
        *(
            api.enroll(
                person(0, email=EMAILS[n % 3], phone=PHONES[n % 3]),
                channel=keys[n % len(keys)][1],
                key=keys[n % len(keys)][0],
            )
            for n in range(10)
        )
    )

    assert [r["created"] for r in results].count(True) == 1
    assert len({r["profile"]["id"] for r in results}) == 1
    assert await profile_count(rt) == 1
    member = await api.profile(results[0]["profile"]["id"])
    assert member["loyalty"]["balance"] == ENROLLMENT_BONUS + COMPLETION_BONUS
    bonuses = [e for e in ledger(await api.history(member["id"])) if e["type"] == "BONUS"]
    assert len(bonuses) == 2


async def test_checkouts_racing_an_enrollment_land_on_one_profile(api: Api, rt: Runtime) -> None:
    purchases = [
        api.purchase(ident("EMAIL", EMAILS[n % 3]), 10.0, f"web-{n}", channel="POS")
        for n in range(4)
    ]
    enrollments = [api.enroll(person(0), channel="ECOMMERCE") for _ in range(2)]

    await asyncio.gather(*purchases, *enrollments)

    assert await profile_count(rt) == 1
    member = await api.find("EMAIL", EMAILS[0])
    assert member is not None
    assert member["status"] == "ENROLLED"
    assert member["loyalty"]["pendingPoints"] == 4 * 10
    assert member["loyalty"]["balance"] == ENROLLMENT_BONUS + COMPLETION_BONUS


async def test_parallel_events_with_one_new_cookie_make_one_profile(api: Api, rt: Runtime) -> None:
    results = await asyncio.gather(
        *(api.events(event(f"e-{n}", ident("COOKIE_ID", "ck-1"))) for n in range(6))
    )

    assert len({batch[0]["profileId"] for batch in results}) == 1
    assert await profile_count(rt) == 1
