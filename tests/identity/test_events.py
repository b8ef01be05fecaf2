"""recordEvents: identifiers seen together are stitched to one profile, each event once."""

from __future__ import annotations

from tests.api.helpers import KeyFactory, identifiers

from .support import COMPLETION_BONUS, ENROLLMENT_BONUS, Api, event, held, ident


async def test_an_unknown_identifier_seen_with_a_known_one_joins_its_profile(api: Api) -> None:
    member = await api.member(0)

    (result,) = await api.events(
        event("e-1", ident("COOKIE_ID", "ck-1"), ident("EMAIL", " Ada.Lovelace@example.com"))
    )

    assert (result["accepted"], result["duplicate"], result["profileId"]) == (
        True,
        False,
        member["id"],
    )
    joined = await api.find("COOKIE_ID", "ck-1")
    assert joined is not None
    assert joined["id"] == member["id"]
    cookie = next(i for i in joined["identifiers"] if i["type"] == "COOKIE_ID")
    assert (cookie["source"], joined["version"]) == ("MOBILE_APP", member["version"] + 1)


async def test_unknown_identifiers_start_one_allocated_profile(api: Api) -> None:
    (first,) = await api.events(event("e-1", ident("DEVICE_ID", "dev-1"), ident("COOKIE_ID", "c")))
    (second,) = await api.events(event("e-2", ident("COOKIE_ID", "c"), ident("APP_USER_ID", "u1")))

    assert first["profileId"] == second["profileId"]
    profile = await api.profile(first["profileId"])
    assert profile["status"] == "ALLOCATED"
    assert identifiers(profile) == {
        ("DEVICE_ID", "dev-1"),
        ("COOKIE_ID", "c"),
        ("APP_USER_ID", "u1"),
    }


async def test_identifiers_of_two_profiles_seen_together_merge_them(
    api: Api, make_key: KeyFactory
) -> None:
    member = await api.member(0)
    receipt = await api.purchase(ident("DEVICE_ID", "kiosk-tablet-7"), 30.0, "o-1")
    device_profile = receipt["profile"]["id"]
    app = await make_key("app")

    (result,) = await api.events(
        event("e-1", ident("DEVICE_ID", "kiosk-tablet-7"), ident("EMAIL", member["email"])),
        key=app,
    )

    # The email outranks a device id, so the member's profile survives.
    assert result["profileId"] == member["id"]
    survivor = await api.profile(device_profile)
    assert survivor["id"] == member["id"]
    assert held(survivor) == ENROLLMENT_BONUS + COMPLETION_BONUS + 30
    assert survivor["mergedFrom"] == [device_profile]
    exported = await api.export(member["id"])
    (audit,) = [row for row in exported["audit"] if row["profile_id"] == member["id"]]
    assert (audit["action"], audit["reason"]) == ("merge", "identifiers seen together in one event")
    assert audit["actor"].startswith("key_")


async def test_a_replayed_event_is_a_duplicate_and_changes_nothing(api: Api) -> None:
    member = await api.member(0)
    (first,) = await api.events(event("e-1", ident("EMAIL", member["email"])))
    before = await api.profile(member["id"])

    (replay,) = await api.events(event("e-1", ident("EMAIL", member["email"])))
    (other_channel,) = await api.events(
        event("e-1", ident("EMAIL", member["email"]), channel="ECOMMERCE")
    )

    assert (replay["duplicate"], replay["profileId"]) == (True, first["profileId"])
    assert await api.profile(member["id"]) == before
    assert (other_channel["duplicate"], other_channel["profileId"]) == (False, member["id"])


async def test_an_event_id_reused_for_other_identifiers_or_by_another_caller_is_refused(
    api: Api, make_key: KeyFactory
) -> None:
    member = await api.member(0)
    ok = await api.events(event("e-1", ident("EMAIL", member["email"])))
    before = await api.profile(member["id"])
    refused = {
        "eventId": "e-1",
        "accepted": False,
        "duplicate": False,
        "profileId": None,
        "error": "eventId was already used for another request",
    }

    (other_identifiers,) = await api.events(event("e-1", ident("COOKIE_ID", "z")))
    (other_caller,) = await api.events(
        event("e-1", ident("EMAIL", member["email"])), key=await make_key("app")
    )

    assert ok[0]["profileId"] == member["id"]
    assert [other_identifiers, other_caller] == [refused, refused]
    assert await api.profile(member["id"]) == before
    assert await api.find("COOKIE_ID", "z") is None


async def test_a_bad_event_is_refused_alone_and_changes_nothing(api: Api) -> None:
    bad, good = await api.events(
        event("e-1", ident("EMAIL", "not an email"), ident("COOKIE_ID", "c-1")),
        event("e-2", ident("COOKIE_ID", "c-2")),
    )

    assert bad == {
        "eventId": "e-1",
        "accepted": False,
        "duplicate": False,
        "profileId": None,
        "error": "email is not a valid address",
    }
    assert (good["accepted"], good["error"]) == (True, None)
    assert await api.find("COOKIE_ID", "c-1") is None
