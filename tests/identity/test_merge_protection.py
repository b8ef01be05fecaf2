"""Merge protection: at most 3 emails and 20 POS ids per POS system (settings; these tests
set the POS limit to one to see it bite), and one app account a profile.

A merge that would break a limit is refused by mergeProfiles (CONFLICT, nothing changed).
Where resolution would fold a record into a member (event stitching, enroll, allocateCard)
the record keeps or gets its own profile and the pair goes to review: merge-first, never
reject, and never a profile over a limit.
"""

from __future__ import annotations

import pytest

from tests.api.helpers import codes, identifiers

from .support import (
    ALLOCATE,
    ELSEWHERE,
    LINK,
    MAX_EMAILS,
    MERGE,
    RESOLVE,
    Api,
    Configure,
    Json,
    event,
    ident,
    person,
)


async def with_identifiers(api: Api, profile: Json, *linked: tuple[str, str]) -> Json:
    for type_, value in linked:
        profile = await api.ok(LINK, {"id": profile["id"], "identifier": ident(type_, value)})
    return profile


@pytest.fixture
def one_pos_id(configure: Configure) -> None:
    """The strictest POS limit: one id per POS system a profile."""
    configure(max_pos_ids_per_system=1)


def emails(count: int, owner: str) -> list[tuple[str, str]]:
    return [("EMAIL", f"{owner}{n}@example.net") for n in range(count)]


@pytest.mark.parametrize(
    ("extra_a", "extra_b", "allowed"),
    [(1, 0, True), (1, 1, False), (0, 2, False)],
    ids=["3-emails-merge", "4-emails-refused", "4-emails-refused-other-side"],
)
async def test_merge_over_the_email_limit_is_refused_and_changes_nothing(
    api: Api, extra_a: int, extra_b: int, allowed: bool
) -> None:
    a = await with_identifiers(api, await api.member(0), *emails(extra_a, "a"))
    b = await with_identifiers(api, await api.member(1), *emails(extra_b, "b"))

    body = await api.call(MERGE, {"survivorId": a["id"], "mergedId": b["id"]})

    assert (2 + extra_a + extra_b <= MAX_EMAILS) is allowed
    if allowed:
        assert body["data"]["mergeProfiles"]["mergedFrom"] == [b["id"]]
        return
    assert codes(body) == ["CONFLICT"]
    assert body["errors"][0]["message"] == (
        f"the merged profile would hold {2 + extra_a + extra_b} emails (limit {MAX_EMAILS})"
    )
    assert await api.profile(a["id"]) == a
    assert await api.profile(b["id"]) == b


@pytest.mark.parametrize(
    ("pos_b", "allowed"),
    [("1002", False), ("WEB:1002", True), ("1001", None)],
    ids=["same-system", "other-system", "same-id"],
)
@pytest.mark.usefixtures("one_pos_id")
async def test_one_pos_id_per_pos_system(api: Api, pos_b: str, allowed: bool | None) -> None:
    a = await with_identifiers(api, await api.member(0), ("POS_CUSTOMER_ID", "1001"))
    b = await api.member(1)
    if allowed is None:  # the same id cannot even be linked to a second profile
        body = await api.call(LINK, {"id": b["id"], "identifier": ident("POS_CUSTOMER_ID", pos_b)})
        assert codes(body) == ["CONFLICT"]
        return
    b = await with_identifiers(api, b, ("POS_CUSTOMER_ID", pos_b))

    body = await api.call(MERGE, {"survivorId": a["id"], "mergedId": b["id"]})

    if allowed:
        merged = body["data"]["mergeProfiles"]
        assert {v for t, v in identifiers(merged) if t == "POS_CUSTOMER_ID"} == {"1001", pos_b}
        return
    assert codes(body) == ["CONFLICT"]
    assert await api.profile(b["id"]) == b


@pytest.mark.usefixtures("one_pos_id")
async def test_stitching_two_protected_profiles_opens_a_review_instead(api: Api) -> None:
    a = await with_identifiers(api, await api.member(0), ("POS_CUSTOMER_ID", "1001"))
    b = await with_identifiers(api, await api.member(1), ("POS_CUSTOMER_ID", "1002"))

    (result,) = await api.events(
        event("e-1", ident("POS_CUSTOMER_ID", "1001"), ident("POS_CUSTOMER_ID", "1002"))
    )

    assert result["accepted"] is True
    assert await api.profile(a["id"]) == a
    assert await api.profile(b["id"]) == b
    (item,) = await api.reviews()
    assert {p["id"] for p in item["profiles"]} == {a["id"], b["id"]}
    assert item["reasons"] == [
        "seen together in one event; "
        "the merged profile would hold 2 POS ids of system 'default' (limit 1)"
    ]
    # A reviewer cannot force it through either.
    body = await api.call(RESOLVE, {"id": item["id"], "decision": "MERGE"})
    assert codes(body) == ["CONFLICT"]
    assert [i["id"] for i in await api.reviews()] == [item["id"]]


@pytest.mark.usefixtures("one_pos_id")
async def test_a_new_identifier_over_the_limit_is_not_stitched_onto_a_profile(api: Api) -> None:
    a = await with_identifiers(api, await api.member(0), ("POS_CUSTOMER_ID", "1001"))

    (result,) = await api.events(
        event("e-1", ident("POS_CUSTOMER_ID", "1001"), ident("POS_CUSTOMER_ID", "1003"))
    )

    assert result["profileId"] == a["id"]
    assert await api.profile(a["id"]) == a
    other = await api.find("POS_CUSTOMER_ID", "1003")
    assert other is not None
    assert other["id"] != a["id"]
    (item,) = await api.reviews()
    assert {p["id"] for p in item["profiles"]} == {a["id"], other["id"]}


@pytest.mark.parametrize(
    ("changes", "identifier"),
    [
        ({}, ("POS_CUSTOMER_ID", "1002")),  # deterministic on the email, a second POS id
        (ELSEWHERE, ("POS_CUSTOMER_ID", "1002")),  # probabilistic 0.95, a second POS id
    ],
    ids=["deterministic", "probabilistic"],
)
@pytest.mark.usefixtures("one_pos_id")
async def test_an_enrollment_over_a_limit_gets_its_own_profile_and_a_review(
    api: Api, changes: dict[str, str], identifier: tuple[str, str]
) -> None:
    member = await with_identifiers(api, await api.member(0), ("POS_CUSTOMER_ID", "1001"))

    result = await api.enroll(person(0, **changes), identifiers=[ident(*identifier)])

    assert await api.profile(member["id"]) == member
    assert result["created"] is True
    assert result["profile"]["id"] != member["id"]
    assert identifier in identifiers(result["profile"])
    (item,) = await api.reviews()
    assert {p["id"] for p in item["profiles"]} == {member["id"], result["profile"]["id"]}


@pytest.mark.usefixtures("one_pos_id")
async def test_a_card_allocated_over_a_limit_gets_its_own_profile_and_a_review(api: Api) -> None:
    member = await with_identifiers(api, await api.member(0), ("POS_CUSTOMER_ID", "1001"))
    given = [ident("EMAIL", member["email"]), ident("POS_CUSTOMER_ID", "1002")]

    card = await api.ok(
        ALLOCATE,
        {"input": {"channel": "POS", "cardNumber": "6037000000000005", "identifiers": given}},
    )

    assert await api.profile(member["id"]) == member
    assert card["id"] != member["id"]
    assert identifiers(card) == {("LOYALTY_CARD", "6037000000000005"), ("POS_CUSTOMER_ID", "1002")}
    (item,) = await api.reviews()
    assert {p["id"] for p in item["profiles"]} == {member["id"], card["id"]}


async def test_by_default_several_pos_ids_of_one_system_merge(api: Api) -> None:
    a = await with_identifiers(api, await api.member(0), ("POS_CUSTOMER_ID", "1001"))
    b = await with_identifiers(api, await api.member(1), ("POS_CUSTOMER_ID", "1002"))

    merged = await api.ok(MERGE, {"survivorId": a["id"], "mergedId": b["id"]})

    assert {v for t, v in identifiers(merged) if t == "POS_CUSTOMER_ID"} == {"1001", "1002"}


async def test_the_pos_limit_counts_ids_of_each_system(api: Api, configure: Configure) -> None:
    configure(max_pos_ids_per_system=2)
    a = await with_identifiers(
        api, await api.member(0), ("POS_CUSTOMER_ID", "1001"), ("POS_CUSTOMER_ID", "WEB:7")
    )
    b = await with_identifiers(api, await api.member(1), ("POS_CUSTOMER_ID", "1002"))
    c = await with_identifiers(api, await api.member(2), ("POS_CUSTOMER_ID", "1003"))
    await api.ok(MERGE, {"survivorId": a["id"], "mergedId": b["id"]})

    body = await api.call(MERGE, {"survivorId": a["id"], "mergedId": c["id"]})

    assert codes(body) == ["CONFLICT"]
    assert body["errors"][0]["message"] == (
        "the merged profile would hold 3 POS ids of system 'default' (limit 2)"
    )
    assert await api.profile(c["id"]) == c


async def test_two_app_accounts_never_merge(api: Api) -> None:
    a = await with_identifiers(api, await api.member(0), ("APP_USER_ID", "auth0|1"))
    b = await with_identifiers(api, await api.member(1), ("APP_USER_ID", "auth0|2"))

    body = await api.call(MERGE, {"survivorId": a["id"], "mergedId": b["id"]})

    assert codes(body) == ["CONFLICT"]
    assert body["errors"][0]["message"] == "the merged profile would hold 2 app accounts"
    assert await api.profile(a["id"]) == a
    assert await api.profile(b["id"]) == b


async def test_by_default_an_enrollment_with_another_pos_id_links_to_the_member(
    api: Api,
) -> None:
    # A legacy till gave the same customer a new POS id on another visit.
    member = await with_identifiers(api, await api.member(0), ("POS_CUSTOMER_ID", "1001"))

    result = await api.enroll(
        person(0, **ELSEWHERE), identifiers=[ident("POS_CUSTOMER_ID", "1002")]
    )

    assert result["created"] is False
    assert result["profile"]["id"] == member["id"]
    held = {v for t, v in identifiers(result["profile"]) if t == "POS_CUSTOMER_ID"}
    assert held == {"1001", "1002"}
    assert await api.reviews() == []
