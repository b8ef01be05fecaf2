"""mergeProfiles and unmergeProfile: invariant 5, the unmerge policy, and the audit trail.

The pair: B (older) earned 500 pending (silver), redeemed a coffee from its bonuses and
got 300 by adjustment; a day later A enrolled and earned 20 pending. Policy
(cdp/identity/merge.py): an unmerge gives B the identifiers it brought and what remains
of the lots it brought; points spent from those lots after the merge stay spent.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

import pytest

from tests.api.helpers import KeyFactory, codes, identifiers
from tests.realtime.support import MovableClock

from .support import (
    COFFEE,
    COMPLETION_BONUS,
    ENROLLMENT_BONUS,
    EXPIRY_MONTHS,
    MERGE,
    SILVER,
    UNMERGE,
    Api,
    Json,
    held,
    ident,
    ledger,
    ledger_sum,
)

BONUSES = ENROLLMENT_BONUS + COMPLETION_BONUS
B_PURCHASE, B_ADJUSTMENT, A_PURCHASE = SILVER, 300, 20  # B's purchase reaches silver


@dataclass
class Pair:
    a: Json
    b: Json
    b_earned_at: datetime
    a_earned_at: datetime

    @property
    def ids(self) -> tuple[str, str]:
        return self.a["id"], self.b["id"]


@pytest.fixture
async def pair(api: Api, clock: MovableClock) -> Pair:
    b = await api.member(1)
    await api.purchase(ident("EMAIL", b["email"]), float(B_PURCHASE), "b-1")
    await api.redeem(b["id"], "coffee", "b-coffee")
    await api.adjust(b["id"], B_ADJUSTMENT, "b-adjust")
    b_earned_at = clock.now()
    clock.advance(days=1)
    a = await api.member(0)
    await api.purchase(ident("EMAIL", a["email"]), float(A_PURCHASE), "a-1")
    return Pair(await api.profile(a["id"]), await api.profile(b["id"]), b_earned_at, clock.now())


def expiry(earned_at: datetime) -> datetime:
    return earned_at.replace(year=earned_at.year + EXPIRY_MONTHS // 12)


def account(profile: Json) -> tuple[int, int, int, int, str]:
    loyalty = profile["loyalty"]
    return (
        loyalty["balance"],
        loyalty["pendingPoints"],
        loyalty["lifetimePoints"],
        loyalty["qualifyingPoints"],
        loyalty["tier"]["id"],
    )


def key_id(plain: str) -> str:
    """The id inside an issued key "cdp_<key id>_<secret>"."""
    return plain.removeprefix("cdp_").rpartition("_")[0]


async def test_the_pair_holds_what_the_rules_say(pair: Pair) -> None:
    """The starting figures every other test here builds on."""
    b_lifetime = BONUSES + B_PURCHASE + B_ADJUSTMENT
    assert account(pair.b) == (B_ADJUSTMENT, B_PURCHASE, b_lifetime, B_PURCHASE, "silver")
    assert account(pair.a) == (BONUSES, A_PURCHASE, BONUSES + A_PURCHASE, A_PURCHASE, "member")


async def test_merge_carries_everything_over_and_counts_nothing_twice(api: Api, pair: Pair) -> None:
    a_id, b_id = pair.ids
    before = account(pair.a), account(pair.b)

    survivor = await api.merge(a_id, b_id, "same person at two tills")

    (a_bal, a_pend, a_life, a_qual, _), (b_bal, b_pend, b_life, b_qual, _) = before
    assert account(survivor) == (
        a_bal + b_bal,
        a_pend + b_pend,
        a_life + b_life,
        a_qual + b_qual,
        "silver",  # the higher tier of the two
    )
    assert survivor["mergedFrom"] == [b_id]
    assert identifiers(survivor) == identifiers(pair.a) | identifiers(pair.b)
    # Lots keep their own expiry: B's were earned a day before A's.
    expiring = survivor["loyalty"]["expiringPoints"]
    assert [(e["points"], datetime.fromisoformat(e["expiresAt"])) for e in expiring] == [
        (B_ADJUSTMENT + B_PURCHASE, expiry(pair.b_earned_at)),
        (BONUSES + A_PURCHASE, expiry(pair.a_earned_at)),
    ]
    history = await api.history(a_id)
    assert ledger_sum(history) == a_bal + a_pend + b_bal + b_pend
    merge_entries = [(e["points"], e["reason"]) for e in ledger(history) if e["type"] == "MERGE"]
    assert sorted(merge_entries) == [
        (-(b_bal + b_pend), f"merged into {a_id}"),
        (b_bal + b_pend, f"merged from {b_id}"),
    ]
    assert [r["node"]["reward"]["id"] for r in history["redemptions"]["edges"]] == ["coffee"]


async def test_old_id_and_identifiers_resolve_to_the_survivor(api: Api, pair: Pair) -> None:
    a_id, b_id = pair.ids
    survivor = await api.merge(a_id, b_id)

    assert await api.profile(b_id) == survivor
    assert await api.find("EMAIL", pair.b["email"]) == survivor
    assert await api.find("PHONE", pair.b["phone"]) == survivor
    # A purchase on B's email now earns on the survivor.
    receipt = await api.purchase(ident("EMAIL", pair.b["email"]), 10.0, "b-2")
    assert receipt["profile"]["id"] == a_id


async def test_merging_again_changes_nothing(api: Api, pair: Pair) -> None:
    a_id, b_id = pair.ids
    survivor = await api.merge(a_id, b_id)

    assert await api.merge(a_id, b_id) == survivor
    assert await api.merge(b_id, a_id) == survivor


async def test_unmerge_gives_back_what_remains_of_the_merged_lots(api: Api, pair: Pair) -> None:
    a_id, b_id = pair.ids
    await api.merge(a_id, b_id)
    # Spent after the merge from the oldest-expiring available lot: B's adjustment.
    await api.redeem(a_id, "coffee", "a-coffee")

    restored = await api.ok(UNMERGE, {"mergedId": b_id, "reason": "two people"})

    survivor = await api.profile(a_id)
    b_lifetime = BONUSES + B_PURCHASE + B_ADJUSTMENT
    assert account(restored) == (
        B_ADJUSTMENT - COFFEE,
        B_PURCHASE,
        b_lifetime,
        B_PURCHASE,
        "silver",
    )
    assert account(survivor) == (BONUSES, A_PURCHASE, BONUSES + A_PURCHASE, A_PURCHASE, "member")
    assert held(restored, survivor) == held(pair.a, pair.b) - COFFEE
    assert (restored["id"], restored["status"], restored["mergedInto"]) == (b_id, "ENROLLED", None)
    assert survivor["mergedFrom"] == []
    assert identifiers(restored) == identifiers(pair.b)
    assert identifiers(survivor) == identifiers(pair.a)
    assert await api.find("EMAIL", pair.b["email"]) == restored
    for side in (restored, survivor):
        history = await api.history(side["id"])
        assert ledger_sum(history) == held(side)
    assert len((await api.history(b_id))["redemptions"]["edges"]) == 1
    assert len((await api.history(a_id))["redemptions"]["edges"]) == 1


def lots_of(exported: Json) -> dict[str, int]:
    """Lot id -> points, of the lots an export lists (each id once)."""
    lots = {lot["id"]: lot["points"] for lot in exported["lots"]}
    assert len(lots) == len(exported["lots"])
    return lots


async def test_a_merge_moves_each_lot_once_and_an_unmerge_moves_them_back(
    api: Api, pair: Pair
) -> None:
    a_id, b_id = pair.ids
    a_lots, b_lots = lots_of(await api.export(a_id)), lots_of(await api.export(b_id))

    await api.merge(a_id, b_id)
    merged = lots_of(await api.export(a_id))
    await api.ok(UNMERGE, {"mergedId": b_id, "reason": "two people"})

    assert merged == a_lots | b_lots  # B's lots held by A, none left behind, none twice
    assert sum(merged.values()) == held(pair.a, pair.b)
    assert (lots_of(await api.export(a_id)), lots_of(await api.export(b_id))) == (a_lots, b_lots)


async def test_merge_and_unmerge_are_audited(
    api: Api, pair: Pair, make_key: KeyFactory, clock: MovableClock
) -> None:
    a_id, b_id = pair.ids
    admin = await make_key("identity:admin", "profiles:read")
    await api.ok(MERGE, {"survivorId": a_id, "mergedId": b_id, "reason": "same card"}, admin)
    clock.advance(minutes=5)
    await api.ok(UNMERGE, {"mergedId": b_id, "reason": "two people"}, admin)

    audit = (await api.export(a_id))["audit"]

    merge, unmerge = audit
    brought = B_ADJUSTMENT + B_PURCHASE
    assert (merge["action"], merge["actor"], merge["reason"]) == (
        "merge",
        key_id(admin),
        "same card",
    )
    assert merge["details"] == {
        "survivor": a_id,
        "merged": b_id,
        "identifier_types": ["EMAIL", "PHONE"],
        "points": brought,
    }
    assert (unmerge["action"], unmerge["actor"], unmerge["reason"]) == (
        "unmerge",
        key_id(admin),
        "two people",
    )
    assert unmerge["details"] == {
        "survivor": a_id,
        "merged": b_id,
        "identifiers_returned": 2,
        "points_restored": brought,
        "points_brought": brought,
    }
    assert datetime.fromisoformat(unmerge["at"]) - datetime.fromisoformat(merge["at"]) == (
        timedelta(minutes=5)
    )
    assert [row["action"] for row in (await api.export(b_id))["audit"]] == ["merge", "unmerge"]


@pytest.mark.parametrize(
    ("mutation", "variables", "code"),
    [
        (MERGE, {"survivorId": "A", "mergedId": "A"}, "BAD_USER_INPUT"),
        (MERGE, {"survivorId": "A", "mergedId": "p_00000000000000000000"}, "NOT_FOUND"),
        (UNMERGE, {"mergedId": "B", "reason": "never merged"}, "CONFLICT"),
        (UNMERGE, {"mergedId": "B", "reason": "  "}, "BAD_USER_INPUT"),
    ],
    ids=["into-itself", "unknown", "unmerge-unmerged", "no-reason"],
)
async def test_bad_merge_requests_are_refused_and_change_nothing(
    api: Api, pair: Pair, mutation: str, variables: dict[str, str], code: str
) -> None:
    named = dict(zip(("A", "B"), pair.ids, strict=True))
    resolved = {k: named.get(v, v) for k, v in variables.items()}

    body = await api.call(mutation, resolved)

    assert codes(body) == [code]
    assert await api.profile(pair.a["id"]) == pair.a
    assert await api.profile(pair.b["id"]) == pair.b


async def test_a_chain_of_merges_resolves_and_unwinds_one_step_at_a_time(
    api: Api, pair: Pair
) -> None:
    a_id, b_id = pair.ids
    c = await api.member(2)
    await api.merge(b_id, c["id"])
    survivor = await api.merge(a_id, b_id)

    assert survivor["mergedFrom"] == [b_id, c["id"]]
    assert await api.profile(c["id"]) == survivor  # two hops
    assert await api.find("EMAIL", c["email"]) == survivor
    assert held(survivor) == held(pair.a, pair.b, c)
    # C's survivor (B) was merged since: B must come back first, bringing C with it.
    refused = await api.call(UNMERGE, {"mergedId": c["id"], "reason": "wrong order"})
    assert codes(refused) == ["CONFLICT"]
    restored = await api.ok(UNMERGE, {"mergedId": b_id, "reason": "two people"})
    assert restored["mergedFrom"] == [c["id"]]
    assert await api.find("EMAIL", c["email"]) == restored
    assert held(restored, await api.profile(a_id)) == held(pair.a, pair.b, c)
