"""Blocking on each store: every rule finds candidates when a field is missing, an
over-frequent key is skipped, and a survivor is found through a profile merged into it."""

from __future__ import annotations

from dataclasses import replace
from datetime import date

from cdp.channel import Channel
from cdp.identity.blocking import MAX_PER_KEY, MAX_PER_NAMES_KEY
from cdp.identity.match_model import model_of
from cdp.identity.merge import merge_profiles
from cdp.identity.model import PersonalData, Profile, ProfileStatus
from cdp.identity.privacy import forget_profile
from cdp.identity.record import MatchRecord
from cdp.identity.resolution import probabilistic
from cdp.identity.service import create_profile
from cdp.runtime import Runtime
from cdp.store.catalogue import MATCH_KEYS
from cdp.store.port import Query

BIRTH = date(1970, 1, 10)
ADA = PersonalData(
    "Ada", "Lovelace", postal_code="94100", birth_date=BIRTH, street_address="1 Main Street"
)


async def found(rt: Runtime, personal: PersonalData) -> list[str]:
    record = MatchRecord.of(personal)
    matches = await probabilistic(rt.store, record, model=model_of(rt.settings), limit=50)
    return [m.profile.id for m in matches]


async def enrolled(rt: Runtime, personal: PersonalData) -> Profile:
    return await create_profile(
        rt, channel=Channel.POS, personal=personal, status=ProfileStatus.ENROLLED
    )


async def test_a_record_without_names_still_meets_its_candidates(rt: Runtime) -> None:
    ada = await enrolled(rt, ADA)

    by_birth = PersonalData(birth_date=BIRTH)
    by_address = PersonalData(postal_code="94100", street_address="1 Main St")
    by_one_name = PersonalData(last_name="Lovelace", postal_code="94100")

    for personal in (by_birth, by_address, by_one_name):
        assert await found(rt, personal) == [ada.id], personal


async def test_names_alone_meet_a_record_with_no_birth_date_and_no_address(rt: Runtime) -> None:
    ada = await enrolled(rt, ADA)

    for personal in (
        PersonalData("Ada", "Lovelace"),
        PersonalData("Adah", "Lovelace", postal_code="10001"),  # moved, and one sound alike
        PersonalData("Lovelace", "Ada", postal_code="94010"),  # swapped, postal code mistyped
    ):
        assert await found(rt, personal) == [ada.id], personal


async def test_a_key_shared_by_too_many_profiles_is_skipped(rt: Runtime) -> None:
    # Strangers sharing one birth date (a till's default, say) and nothing else.
    for n in range(MAX_PER_KEY):
        await create_profile(
            rt, channel=Channel.POS, personal=PersonalData(f"P{n}", f"Q{n}", birth_date=BIRTH)
        )
    probe = PersonalData(birth_date=BIRTH)
    assert len(await found(rt, probe)) == MAX_PER_KEY

    await create_profile(rt, channel=Channel.POS, personal=PersonalData("X", "Y", birth_date=BIRTH))

    assert await found(rt, probe) == []


async def test_names_alone_are_skipped_sooner_than_other_keys(rt: Runtime) -> None:
    # Namesakes at as many addresses: past a few, shared names say nothing by themselves.
    namesakes = [
        (await enrolled(rt, PersonalData("Ada", "Lovelace", postal_code=f"{20000 + n}"))).id
        for n in range(MAX_PER_NAMES_KEY)
    ]
    probe = PersonalData("Ada", "Lovelace")
    assert sorted(await found(rt, probe)) == sorted(namesakes)

    await enrolled(rt, PersonalData("Ada", "Lovelace", postal_code="29999"))

    assert await found(rt, probe) == []


async def test_a_survivor_is_found_through_a_record_merged_into_it(rt: Runtime) -> None:
    ada = await enrolled(rt, ADA)
    # The same member under her married name at her new home, merged by a reviewer.
    king = await enrolled(
        rt,
        PersonalData(
            "Ada", "King", postal_code="10001", birth_date=BIRTH, street_address="9 Elm Road"
        ),
    )
    await merge_profiles(rt, survivor_id=ada.id, merged_id=king.id, reason=None, actor="test")

    # Only the merged record knows this postal code, street and surname.
    again = PersonalData("Ada", "King", postal_code="10001", street_address="9 Elm Road")

    [match] = await probabilistic(
        rt.store, MatchRecord.of(again), model=model_of(rt.settings), limit=5
    )
    assert match.profile.id == ada.id
    assert match.matched_on == ("firstName", "lastName", "postalCode", "streetAddress")


async def test_forgetting_a_survivor_drops_the_keys_of_what_was_merged_into_it(
    rt: Runtime,
) -> None:
    ada = await enrolled(rt, ADA)
    king = await enrolled(rt, replace(ADA, last_name="King", postal_code="10001"))
    await merge_profiles(rt, survivor_id=ada.id, merged_id=king.id, reason=None, actor="test")

    await forget_profile(rt, profile_id=ada.id, actor="test")

    for profile_id in (ada.id, king.id):
        assert await rt.store.find(Query(MATCH_KEYS, {"profile_id": profile_id})) == []
