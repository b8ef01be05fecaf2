"""resolveReview: a human's decision on a pair that might be one person."""

from __future__ import annotations

from typing import Any

from tests.api.helpers import codes
from tests.realtime.support import MovableClock

from .support import ALLOCATE, ELSEWHERE, MERGE, RESOLVE, UPDATE, Api, Json, held, person

# Person 0 with another email and phone and no birth date: names and address alone are
# what a father and his junior share, a review.
LOOK_ALIKE = {**ELSEWHERE, "birthDate": None}


async def review_pair(api: Api, clock: MovableClock) -> tuple[Json, Json, Json]:
    """Person 0, and a day later a look-alike in the review band: (older, newer, item)."""
    older = await api.member(0)
    clock.advance(days=1)
    newer = (await api.enroll(person(0, **LOOK_ALIKE)))["profile"]
    (item,) = await api.reviews()
    return older, newer, item


async def resolve(api: Api, item: Json, decision: str) -> Any:
    return await api.call(RESOLVE, {"id": item["id"], "decision": decision})


async def test_merge_decision_folds_the_newer_member_into_the_older(
    api: Api, clock: MovableClock
) -> None:
    older, newer, item = await review_pair(api, clock)

    body = await resolve(api, item, "MERGE")

    resolved = body["data"]["resolveReview"]
    assert (resolved["status"], resolved["resolvedAt"] is not None) == ("MERGED", True)
    survivor = await api.profile(newer["id"])
    assert survivor["id"] == older["id"]
    assert survivor["mergedFrom"] == [newer["id"]]
    assert held(survivor) == held(older) + held(newer)
    audit = (await api.export(older["id"]))["audit"]
    assert {(row["action"], row["reason"]) for row in audit} == {("merge", f"review {item['id']}")}
    assert await api.reviews() == []
    assert [i["id"] for i in await api.reviews("MERGED")] == [item["id"]]


async def test_a_pair_merged_by_other_means_leaves_the_queue(api: Api, clock: MovableClock) -> None:
    # An admin (or the duplicate audit) merged the pair: nothing is left to decide.
    older, newer, item = await review_pair(api, clock)

    await api.ok(MERGE, {"survivorId": older["id"], "mergedId": newer["id"], "reason": "same"})

    assert await api.reviews() == []
    (closed,) = await api.reviews("MERGED")
    assert (closed["id"], closed["resolvedAt"] is not None) == (item["id"], True)
    replay = await resolve(api, item, "MERGE")
    assert replay["data"]["resolveReview"]["status"] == "MERGED"
    assert codes(await resolve(api, item, "KEEP_SEPARATE")) == ["CONFLICT"]


async def test_keep_separate_dismisses_the_item_for_good(api: Api, clock: MovableClock) -> None:
    older, newer, item = await review_pair(api, clock)

    body = await resolve(api, item, "KEEP_SEPARATE")
    again = await api.enroll(person(0, **LOOK_ALIKE))  # the look-alike, seen again

    assert body["data"]["resolveReview"]["status"] == "DISMISSED"
    assert await api.profile(older["id"]) == older
    assert again["profile"]["id"] == newer["id"]
    assert await api.reviews() == []


async def test_a_decision_stands(api: Api, clock: MovableClock) -> None:
    _, _, item = await review_pair(api, clock)
    first = await resolve(api, item, "KEEP_SEPARATE")

    replay = await resolve(api, item, "KEEP_SEPARATE")
    reversal = await resolve(api, item, "MERGE")

    assert replay == first
    assert codes(reversal) == ["CONFLICT"]


async def test_an_enrolled_member_survives_an_older_allocated_card(
    api: Api, clock: MovableClock
) -> None:
    card = await api.ok(ALLOCATE, {"input": {"channel": "POS", "cardNumber": "6037000000000009"}})
    names = {k: person(0)[k] for k in ("firstName", "lastName", "postalCode")}
    await api.ok(UPDATE, {"id": card["id"], "input": names})
    clock.advance(days=1)
    # Names and postal code: 0.45 + 0.25 = 0.7, a review.
    member = (await api.enroll(person(0, birthDate=None, attributes=None)))["profile"]
    (item,) = await api.reviews()

    await resolve(api, item, "MERGE")

    found = await api.find("LOYALTY_CARD", "6037000000000009")
    assert found is not None
    assert (found["id"], found["status"]) == (member["id"], "ENROLLED")


async def test_an_unknown_review_item_is_not_found(api: Api) -> None:
    body = await resolve(api, {"id": "rv_00000000000000000000"}, "MERGE")

    assert codes(body) == ["NOT_FOUND"]
