"""Invariant 1 and optimistic versions through the identity use cases, on every store."""

from __future__ import annotations

import asyncio

import pytest

from cdp.channel import Channel
from cdp.errors import Conflict
from cdp.identity.model import IdentifierType, Profile
from cdp.identity.service import (
    RawIdentifier,
    create_profile,
    find_profiles,
    get_profiles,
    link_identifier,
    normalize,
)
from cdp.runtime import Runtime
from cdp.store.catalogue import IDENTIFIERS, PROFILES
from cdp.store.port import Query

WRITERS = 20
EMAIL = IdentifierType.EMAIL


async def make_profile(rt: Runtime, *identifiers: tuple[IdentifierType, str]) -> Profile:
    return await create_profile(
        rt,
        channel=Channel.POS,
        identifiers=[RawIdentifier(type_, value) for type_, value in identifiers],
    )


async def links(rt: Runtime) -> list[tuple[str, str]]:
    """(identifier key, profile id) of every stored link."""
    return [(d["id"], d["profile_id"]) for d in await rt.store.find(Query(IDENTIFIERS, {}))]


async def test_concurrent_creates_claiming_one_email_leave_exactly_one_link(
    runtime: Runtime,
) -> None:
    results = await asyncio.gather(
        *(make_profile(runtime, (EMAIL, "ada@example.com")) for _ in range(WRITERS)),
        return_exceptions=True,
    )

    created = [r for r in results if isinstance(r, Profile)]
    conflicts = [r for r in results if isinstance(r, Conflict)]
    assert (len(created), len(conflicts)) == (1, WRITERS - 1)
    assert {c.code for c in conflicts} == {"CONFLICT"}
    assert await links(runtime) == [("EMAIL:ada@example.com", created[0].id)]
    # The losers wrote nothing else either: no profile without its identifier.
    assert [d["id"] for d in await runtime.store.find(Query(PROFILES, {}))] == [created[0].id]


async def test_a_create_claiming_a_taken_identifier_writes_nothing(runtime: Runtime) -> None:
    first = await make_profile(runtime, (EMAIL, "ada@example.com"))

    with pytest.raises(Conflict) as raised:
        await make_profile(
            runtime, (IdentifierType.DEVICE_ID, "device-1"), (EMAIL, " ADA@example.com")
        )

    assert raised.value.code == "CONFLICT"
    assert await links(runtime) == [("EMAIL:ada@example.com", first.id)]
    assert await runtime.store.count(PROFILES, {}) == 1


async def test_concurrent_links_to_one_profile_all_land(runtime: Runtime) -> None:
    # Given a profile at version 1 with one identifier, when 20 writers each link another
    # one at once, then every link lands: stale reads are re-run, none is overwritten.
    profile = await make_profile(runtime, (IdentifierType.DEVICE_ID, "device-0"))
    assert profile.version == 1

    await asyncio.gather(
        *(
            link_identifier(
                runtime,
                profile_id=profile.id,
                identifier=RawIdentifier(IdentifierType.DEVICE_ID, f"device-{n}"),
                verified=False,
                channel=Channel.MOBILE_APP,
            )
            for n in range(1, WRITERS + 1)
        )
    )

    [stored] = await get_profiles(runtime.store, [profile.id])
    assert stored is not None
    assert stored.version == WRITERS + 1
    expected = {f"DEVICE_ID:device-{n}" for n in range(WRITERS + 1)}
    assert len(stored.identifiers) == WRITERS + 1
    assert {i.key for i in stored.identifiers} == expected
    assert sorted(await links(runtime)) == sorted((key, profile.id) for key in expected)


async def test_linking_an_identifier_held_by_another_profile_is_a_conflict(
    runtime: Runtime,
) -> None:
    holder = await make_profile(runtime, (EMAIL, "ada@example.com"))
    other = await make_profile(runtime, (IdentifierType.DEVICE_ID, "device-1"))

    with pytest.raises(Conflict):
        await link_identifier(
            runtime,
            profile_id=other.id,
            identifier=RawIdentifier(EMAIL, "Ada@Example.com"),
            verified=True,
            channel=Channel.KIOSK,
        )

    [after] = await get_profiles(runtime.store, [other.id])
    assert after == other
    assert sorted(await links(runtime)) == sorted(
        [("EMAIL:ada@example.com", holder.id), ("DEVICE_ID:device-1", other.id)]
    )


IDENTIFIERS_OF_ADA = [
    (IdentifierType.EMAIL, "ada@example.com", " Ada@Example.COM "),
    (IdentifierType.PHONE, "+12025550143", "(202) 555-0143"),
    (IdentifierType.LOYALTY_CARD, "603712345678", "6037 1234-5678"),
    (IdentifierType.POS_CUSTOMER_ID, "pos-77", "  pos-77 "),
    (IdentifierType.APP_USER_ID, "app-ada", "app-ada"),
    (IdentifierType.DEVICE_ID, "device-ada", " device-ada"),
    (IdentifierType.COOKIE_ID, "cookie-ada", "cookie-ada "),
    (IdentifierType.CRM_CONTACT_ID, "crm-9", "crm-9"),
]


async def test_lookups_by_id_and_by_every_identifier_type(runtime: Runtime) -> None:
    ada = await make_profile(runtime, *((t, raw) for t, _, raw in IDENTIFIERS_OF_ADA))
    bob = await make_profile(runtime, (EMAIL, "bob@example.com"))

    assert await get_profiles(runtime.store, [bob.id, "p_missing", ada.id]) == [bob, None, ada]
    assert sorted((i.type, i.value) for i in ada.identifiers) == sorted(
        (t, stored) for t, stored, _ in IDENTIFIERS_OF_ADA
    )
    for type_, stored, raw in IDENTIFIERS_OF_ADA:
        by_stored = RawIdentifier(type_, stored)
        by_raw = RawIdentifier(type_, raw)
        keys = [normalize(runtime, by_stored), normalize(runtime, by_raw)]
        assert await find_profiles(runtime.store, keys) == [ada, ada], type_


async def test_find_profiles_answers_in_key_order_with_none_for_unknown(
    runtime: Runtime,
) -> None:
    ada = await make_profile(runtime, (EMAIL, "ada@example.com"))
    bob = await make_profile(runtime, (EMAIL, "bob@example.com"))
    keys = [
        normalize(runtime, RawIdentifier(EMAIL, raw))
        for raw in ("BOB@example.com", "nobody@example.com", "ada@example.com", "bob@example.com")
    ]

    assert await find_profiles(runtime.store, keys) == [bob, None, ada, bob]
    assert await find_profiles(runtime.store, []) == []
