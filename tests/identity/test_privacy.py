"""A member's rights: exportProfile shows everything held; forgetProfile erases the person
but keeps the anonymous ledger amounts, and the erased identifiers find nobody."""

from __future__ import annotations

from tests.api.helpers import codes

from .support import (
    COFFEE,
    COMPLETION_BONUS,
    ENROLLMENT_BONUS,
    FORGET,
    UNMERGE,
    UPDATE,
    Api,
    Json,
    e164,
    event,
    ident,
    ledger_sum,
    person,
)

PERSONAL = ("firstName", "lastName", "email", "phone", "postalCode", "birthDate")
LOT_FIELDS = (
    "available_at",
    "due_at",
    "earned_at",
    "expires_at",
    "id",
    "order_key",
    "points",
    "profile_id",
    "schema",
    "spend_key",
    "version",
)


async def busy_member(api: Api) -> Json:
    """Person 0 with a purchase, a redemption and an app event on record."""
    member = await api.member(0)
    await api.purchase(ident("EMAIL", member["email"]), 30.0, "o-1")
    await api.redeem(member["id"], "coffee", "r-1")
    await api.events(event("e-1", ident("EMAIL", member["email"]), ident("COOKIE_ID", "ck-1")))
    return await api.profile(member["id"])


async def test_export_returns_everything_held(api: Api) -> None:
    member = await busy_member(api)

    exported = await api.export(member["id"])

    profile = exported["profile"]
    assert profile["personal"] == {
        "first_name": "Ada",
        "last_name": "Lovelace",
        "email": "ada.lovelace@example.com",
        "phone": e164(0),
        "postal_code": "94100",
        "birth_date": "1970-01-10",
        "street_address": "1 Main Street",
        "attributes": {"streetAddress": "1 Main Street"},
    }
    assert {(i["type"], i["value"]) for i in profile["identifiers"]} == {
        ("EMAIL", "ada.lovelace@example.com"),
        ("PHONE", e164(0)),
        ("COOKIE_ID", "ck-1"),
    }
    assert sorted(e["points"] for e in exported["ledger"]) == sorted(
        [-COFFEE, COMPLETION_BONUS, ENROLLMENT_BONUS, 30]
    )
    assert [r["reward_id"] for r in exported["redemptions"]] == ["coffee"]
    assert [o["id"] for o in exported["orders"]] == ["POS:o-1"]
    assert [e["id"] for e in exported["events"]] == ["MOBILE_APP:e-1"]
    # The lots behind the balance: the bonuses (less the coffee) and the pending purchase.
    held = member["loyalty"]["balance"] + member["loyalty"]["pendingPoints"]
    assert sum(lot["points"] for lot in exported["lots"]) == held
    assert {lot["profile_id"] for lot in exported["lots"]} == {member["id"]}
    assert [lot["order_key"] for lot in exported["lots"] if lot["available_at"]] == ["POS:o-1"]


async def test_forget_erases_the_person_and_keeps_the_amounts(api: Api) -> None:
    member = await busy_member(api)

    forgotten = await api.ok(FORGET, {"id": member["id"]})

    assert forgotten["status"] == "FORGOTTEN"
    assert [forgotten[f] for f in PERSONAL] == [None] * len(PERSONAL)
    assert forgotten["identifiers"] == []
    assert forgotten["loyalty"]["balance"] == member["loyalty"]["balance"]
    assert forgotten["loyalty"]["pendingPoints"] == 30
    assert ledger_sum(await api.history(member["id"])) == member["loyalty"]["balance"] + 30
    exported = await api.export(member["id"])
    erased = dict.fromkeys(["first_name", "last_name", "email", "phone", "postal_code"], None)
    erased |= {"birth_date": None, "street_address": None, "attributes": {}}
    assert exported["profile"]["personal"] == erased
    assert exported["profile"]["identifiers"] == []
    assert exported["events"] == []
    assert exported["audit"][-1]["action"] == "forget"
    # The lots stay behind the amounts kept; they name no one.
    assert sum(lot["points"] for lot in exported["lots"]) == member["loyalty"]["balance"] + 30
    assert {tuple(sorted(lot)) for lot in exported["lots"]} == {LOT_FIELDS}


async def test_erased_identifiers_no_longer_find_the_profile(api: Api) -> None:
    member = await busy_member(api)
    await api.ok(FORGET, {"id": member["id"]})

    assert await api.find("EMAIL", "ada.lovelace@example.com") is None
    assert await api.find("PHONE", e164(0)) is None
    assert await api.find("COOKIE_ID", "ck-1") is None
    names = {"firstName": "Ada", "lastName": "Lovelace", "postalCode": "94100"}
    assert await api.search(email="ada.lovelace@example.com", **names) == []
    # The email is free again: enrolling with it is somebody new.
    again = await api.enroll(person(0))
    assert again["created"] is True
    assert again["profile"]["id"] != member["id"]


async def test_forgetting_a_survivor_erases_what_was_merged_into_it(api: Api) -> None:
    a = await api.member(0)
    b = await api.member(1)
    await api.merge(a["id"], b["id"])

    await api.ok(FORGET, {"id": a["id"]})

    assert await api.find("EMAIL", b["email"]) is None
    unmerge = await api.call(UNMERGE, {"mergedId": b["id"], "reason": "undo"})
    assert codes(unmerge) == ["CONFLICT"]  # nothing to bring the person back from


async def test_a_forgotten_profile_cannot_be_changed_or_forgotten_twice(api: Api) -> None:
    member = await api.member(0)
    forgotten = await api.ok(FORGET, {"id": member["id"]})

    update = await api.call(UPDATE, {"id": member["id"], "input": {"firstName": "Ada"}})
    replay = await api.ok(FORGET, {"id": member["id"]})
    unknown = await api.call(FORGET, {"id": "p_00000000000000000000"})

    assert codes(update) == ["NOT_FOUND"]
    assert replay == forgotten
    assert codes(unknown) == ["NOT_FOUND"]
    assert await api.profile(member["id"]) == forgotten
