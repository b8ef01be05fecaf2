"""Enrollment, card allocation and profile updates: the flows POS integrations use.

`enroll` searches before it creates: a deterministic match, or a probabilistic one at or
above the auto threshold, enrolls the existing member (created: false); a doubtful match
creates the profile and opens a review item (merge-first, never reject); otherwise a new
member. When linking the record's identifiers to the member would break merge protection
(cdp/identity/limits.py), the record is created as its own profile with a review item
instead; `allocate_card` does the same. Concurrent enrollments of one person race on the
identifier's unique key: the loser re-runs, finds the winner's profile, and returns it.
`import_member` resolves an imported record through the same search (`stage_enrollment`),
without required fields.
"""

from __future__ import annotations

import secrets
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import datetime

from cdp.channel import Channel
from cdp.enrollment.completion import enrolled, missing
from cdp.errors import BadInput, Conflict
from cdp.identity import link_repository
from cdp.identity.limits import MergeBlocked, check_credential_link, check_limits
from cdp.identity.model import (
    Enrollment,
    EnrollmentMethod,
    Identifier,
    IdentifierKey,
    IdentifierType,
    PersonalData,
    Profile,
    ProfileStatus,
)
from cdp.identity.normalize import clean_personal
from cdp.identity.resolution import (
    Decision,
    Match,
    deterministic,
    match_keys_of,
    resolve,
)
from cdp.identity.reviews import stage_review
from cdp.identity.service import (
    RawIdentifier,
    get_profile,
    live_profile,
    new_profile,
    normalize,
    save_change,
)
from cdp.loyalty.common import fingerprint
from cdp.runtime import Runtime
from cdp.store.catalogue import IDEMPOTENCY, IDENTIFIERS, MATCH_KEYS, REVIEWS
from cdp.store.unit_of_work import UnitOfWork
from cdp.updates import UpdateKind

RACED = frozenset({IDENTIFIERS, REVIEWS, MATCH_KEYS})
CARD_LENGTH = 16


@dataclass(frozen=True, slots=True)
class Enrolled:
    profile: Profile
    created: bool
    match: Match | None


def personal_keys(personal: PersonalData) -> list[IdentifierKey]:
    """Email and phone given as profile fields are identifiers too."""
    keys = []
    if personal.email:
        keys.append(IdentifierKey(IdentifierType.EMAIL, personal.email))
    if personal.phone:
        keys.append(IdentifierKey(IdentifierType.PHONE, personal.phone))
    return keys


def _keys(rt: Runtime, personal: PersonalData, raw: Sequence[RawIdentifier]) -> list[IdentifierKey]:
    return list(dict.fromkeys([*personal_keys(personal), *(normalize(rt, r) for r in raw)]))


def fill_blanks(current: PersonalData, given: PersonalData) -> PersonalData:
    """What we hold, with empty fields taken from `given` (never overwriting)."""
    return PersonalData(
        first_name=current.first_name or given.first_name,
        last_name=current.last_name or given.last_name,
        email=current.email or given.email,
        phone=current.phone or given.phone,
        postal_code=current.postal_code or given.postal_code,
        birth_date=current.birth_date or given.birth_date,
        street_address=current.street_address or given.street_address,
        attributes={**given.attributes, **current.attributes},
    )


def with_identifiers(
    profile: Profile, keys: Sequence[IdentifierKey], channel: Channel, now: datetime
) -> tuple[Profile, list[IdentifierKey]]:
    held = {i.key for i in profile.identifiers}
    fresh = [k for k in keys if k.key not in held]
    added = tuple(Identifier(k.type, k.value, False, channel, now) for k in fresh)
    return replace(profile, identifiers=(*profile.identifiers, *added)), fresh


async def _free_keys(uow: UnitOfWork, keys: Sequence[IdentifierKey]) -> list[IdentifierKey]:
    """The keys no profile holds yet (held ones stay with their owner)."""
    held_by = await link_repository.owners(uow.store, keys)
    return [k for k, holder in zip(keys, held_by, strict=True) if holder is None]


async def enroll(
    rt: Runtime,
    *,
    channel: Channel,
    personal: PersonalData,
    identifiers: Sequence[RawIdentifier] = (),
    method: EnrollmentMethod = EnrollmentMethod.STANDARD,
    may_link_credentials: bool = False,
) -> Enrolled:
    """Enroll a customer, finding them first; required fields missing are BAD_USER_INPUT.

    Without `may_link_credentials` (identity:admin), a credential-grade identifier given
    for a member found by other details does not reach that member: the record becomes
    a profile of its own, beside the member in review (cdp/identity/limits.py).
    """
    settings = rt.settings
    cleaned = clean_personal(personal, settings.default_region, rt.clock.now().date())
    absent = missing(cleaned, settings.required_fields)
    if absent:
        raise BadInput(f"missing required fields: {', '.join(absent)}")
    keys = _keys(rt, cleaned, identifiers)

    async def use_case(uow: UnitOfWork) -> Enrolled:
        return await stage_enrollment(
            uow,
            rt,
            personal=cleaned,
            keys=keys,
            channel=channel,
            method=method,
            may_link_credentials=may_link_credentials,
        )

    return await rt.transaction(use_case, rerun_on=RACED)


async def import_member(
    rt: Runtime,
    *,
    personal: PersonalData,
    identifiers: Sequence[RawIdentifier] = (),
    occurrence: int = 1,
    birth_typed: str | None = None,
) -> Enrolled:
    """Enroll one imported record like `enroll` (method IMPORT, no required fields).

    Without an identifier, a record must be `identifiable`. A replay creates nothing:
    a record with a usable identifier finds its profile by it; one without is
    remembered under a digest of its normalized content and its `occurrence` (the n-th
    identical record of a file), so identical records without an identifier, such as a
    father and son at one address, are each resolved. `birth_typed`: the digits of a
    birth date the file gave that is no calendar date (see `resolve`).
    """
    settings = rt.settings
    cleaned = clean_personal(personal, settings.default_region, rt.clock.now().date())
    keys = _keys(rt, cleaned, identifiers)
    usable = match_keys_of(keys, settings.denylist)
    if not usable and not identifiable(cleaned):
        raise BadInput(f"nothing identifies this record: {IDENTIFIABLE}")
    marker_id = None if usable else f"import:{import_digest(cleaned, keys)}:{occurrence}"

    async def use_case(uow: UnitOfWork) -> Enrolled:
        if marker_id is not None:
            marker = await uow.get(IDEMPOTENCY, marker_id)
            if marker is not None:
                seen = await get_profile(uow.store, marker["profile_id"])
                assert seen is not None, "an import marker names an existing profile"
                return Enrolled(seen, False, None)
        result = await stage_enrollment(
            uow,
            rt,
            personal=cleaned,
            keys=keys,
            channel=Channel.IMPORT,
            method=EnrollmentMethod.IMPORT,
            may_link_credentials=True,  # the operator's own file
            birth_typed=birth_typed,
        )
        if marker_id is not None:
            uow.insert(IDEMPOTENCY, {"id": marker_id, "profile_id": result.profile.id})
        return result

    return await rt.transaction(use_case, rerun_on=RACED | {IDEMPOTENCY})


IDENTIFIABLE = "give an identifier, both names, or a name with a birth date, postal code or street"


def identifiable(personal: PersonalData) -> bool:
    """Enough to tell a person by without an identifier: both names, or one name with
    something that places them (a till that lost one name still knows the member)."""
    named = [n for n in (personal.first_name, personal.last_name) if n]
    placed = personal.birth_date or personal.postal_code or personal.street_address
    return len(named) == 2 or bool(named and placed)


def import_digest(personal: PersonalData, keys: Sequence[IdentifierKey]) -> str:
    """Stable over field order and formatting: the normalized record, not its text."""
    return fingerprint([personal.to_doc(), sorted(k.key for k in keys)])


async def stage_enrollment(
    uow: UnitOfWork,
    rt: Runtime,
    *,
    personal: PersonalData,
    keys: Sequence[IdentifierKey],
    channel: Channel,
    method: EnrollmentMethod,
    may_link_credentials: bool,
    birth_typed: str | None = None,
) -> Enrolled:
    """Search before create (see the module docstring), staged in `uow`. `birth_typed`:
    see `resolve`."""
    settings = rt.settings
    now = rt.clock.now()
    found = await deterministic(uow.store, keys, settings.denylist)
    for other in found[1:]:
        await stage_review(
            uow,
            profile_ids=[found[0].profile.id, other.profile.id],
            score=1.0,
            reasons=["identifiers of both profiles given in one enrollment"],
            at=now,
        )
    match = found[0] if found else None
    reviews: list[Match] = []
    if match is None:
        decision, candidates = await resolve(uow.store, personal, settings, birth_typed)
        if decision is Decision.LINK:
            match = candidates[0]
        elif decision is Decision.REVIEW:
            # Both candidates when both are alike enough: a record that could be either
            # of two people (a father and his junior) is a question about both.
            reviews = [c for c in candidates if c.score >= settings.match_review_threshold]
    if match is not None:
        free = await _free_keys(uow, keys)
        linked, _ = with_identifiers(match.profile, free, channel, now)
        try:
            check_limits(match.profile, linked, settings)
            if not may_link_credentials:
                check_credential_link(match.profile, linked)
        except MergeBlocked as blocked:
            # Linking would break merge protection: the record becomes a profile of its
            # own with the identifiers nobody holds, and the pair goes to review.
            profile = _enroll_new(uow, rt, personal, free, channel, method)
            await _review_beside(uow, profile, match, now, why=blocked.message)
            return Enrolled(profile, True, match)
        profile = await _enroll_existing(uow, rt, match.profile, personal, keys, channel, method)
        return Enrolled(profile, False, match)
    profile = _enroll_new(uow, rt, personal, keys, channel, method)
    for review in reviews:
        await _review_beside(uow, profile, review, now)
    return Enrolled(profile, True, reviews[0] if reviews else None)


async def _review_beside(
    uow: UnitOfWork, profile: Profile, match: Match, now: datetime, why: str | None = None
) -> None:
    """Put the new `profile` and the one it `match`ed to a person's review."""
    reason = f"matched on {', '.join(match.matched_on)}"
    await stage_review(
        uow,
        profile_ids=[profile.id, match.profile.id],
        score=match.score,
        reasons=[f"{reason}; {why}" if why else reason],
        at=now,
    )


def _enroll_new(
    uow: UnitOfWork,
    rt: Runtime,
    personal: PersonalData,
    keys: Sequence[IdentifierKey],
    channel: Channel,
    method: EnrollmentMethod,
) -> Profile:
    now = rt.clock.now()
    profile = new_profile(now=now, channel=channel, keys=keys, personal=personal)
    profile = enrolled(profile, method, channel, now)
    return save_change(
        uow,
        rt,
        before=None,
        after=profile,
        new_keys=keys,
        channel=channel,
        kind=UpdateKind.ENROLLED,
        enrolling=True,
    )


async def _enroll_existing(
    uow: UnitOfWork,
    rt: Runtime,
    profile: Profile,
    personal: PersonalData,
    keys: Sequence[IdentifierKey],
    channel: Channel,
    method: EnrollmentMethod,
) -> Profile:
    """Enroll a member we already know: fill what we lack, link identifiers nobody holds."""
    now = rt.clock.now()
    free = await _free_keys(uow, keys)
    after, fresh = with_identifiers(profile, free, channel, now)
    after = replace(after, personal=fill_blanks(profile.personal, personal))
    was_enrolled = profile.status is ProfileStatus.ENROLLED
    after = enrolled(after, method, channel, now)
    return save_change(
        uow,
        rt,
        before=profile,
        after=after,
        new_keys=fresh,
        channel=channel,
        kind=UpdateKind.PROFILE_CHANGED if was_enrolled else UpdateKind.ENROLLED,
        enrolling=not was_enrolled,
    )


def luhn_digit(digits: str) -> str:
    """The check digit that makes `digits + it` pass the Luhn check."""
    total = 0
    for index, char in enumerate(reversed(digits)):
        value = int(char) * (2 if index % 2 == 0 else 1)
        total += value - 9 if value > 9 else value
    return str((10 - total % 10) % 10)


def new_card_number(prefix: str) -> str:
    body = prefix + "".join(
        secrets.choice("0123456789") for _ in range(CARD_LENGTH - 1 - len(prefix))
    )
    return body + luhn_digit(body)


async def allocate_card(
    rt: Runtime,
    *,
    channel: Channel,
    card_number: str | None,
    identifiers: Sequence[RawIdentifier] = (),
    may_link_credentials: bool = False,
) -> Profile:
    """Hand out a card that earns before enrollment; a known customer gets it linked.

    A generated number is unique (a collision draws another) and ends in a Luhn digit;
    a given number already held elsewhere is CONFLICT. A card is a credential: without
    `may_link_credentials` (identity:admin) it is not linked to a known customer but
    starts a profile of its own, beside theirs in review.
    """
    other_keys = [normalize(rt, r) for r in identifiers]
    given = (
        normalize(rt, RawIdentifier(IdentifierType.LOYALTY_CARD, card_number))
        if card_number
        else None
    )

    async def use_case(uow: UnitOfWork) -> Profile:
        now = rt.clock.now()
        card = given or IdentifierKey(
            IdentifierType.LOYALTY_CARD, new_card_number(rt.settings.card_prefix)
        )
        if await link_repository.owner(uow.store, card) is not None:
            if given is not None:
                raise Conflict("this card number is already allocated")
            raise _Collision
        found = await deterministic(uow.store, other_keys, rt.settings.denylist)
        keys = list(dict.fromkeys([card, *other_keys]))
        blocked: tuple[Profile, MergeBlocked] | None = None
        if found:
            owner = found[0].profile
            free = await _free_keys(uow, keys)
            after, fresh = with_identifiers(owner, free, channel, now)
            try:
                check_limits(owner, after, rt.settings)
                if not may_link_credentials:
                    check_credential_link(owner, after)
            except MergeBlocked as refusal:
                # Merge protection: the card and the free identifiers start a profile of
                # their own, and the pair goes to review.
                keys, blocked = free, (owner, refusal)
            else:
                return save_change(
                    uow,
                    rt,
                    before=owner,
                    after=after,
                    new_keys=fresh,
                    channel=channel,
                    kind=UpdateKind.IDENTIFIER_LINKED,
                )
        profile = replace(
            new_profile(now=now, channel=channel, keys=keys),
            enrollment=Enrollment(EnrollmentMethod.ALLOCATION, channel, None),
        )
        saved = save_change(
            uow,
            rt,
            before=None,
            after=profile,
            new_keys=keys,
            channel=channel,
            kind=UpdateKind.PROFILE_CHANGED,
        )
        if blocked is not None:
            holder, why = blocked
            await stage_review(
                uow,
                profile_ids=[saved.id, holder.id],
                score=1.0,
                reasons=[f"card allocated with identifiers of this member; {why.message}"],
                at=now,
            )
        return saved

    for _ in range(5):
        try:
            return await rt.transaction(use_case, rerun_on=RACED if given is None else frozenset())
        except _Collision:
            continue
    raise Conflict("could not draw an unused card number; try again")


class _Collision(Exception):
    """A generated card number is taken: draw again."""


async def update_profile(
    rt: Runtime, *, profile_id: str, changes: PersonalData, channel: Channel, given: frozenset[str]
) -> Profile:
    """Change the fields named in `given`; email and phone become identifiers too.

    Completing the required fields enrolls an ALLOCATED profile (method AUTO).
    """
    cleaned = clean_personal(changes, rt.settings.default_region, rt.clock.now().date())

    async def use_case(uow: UnitOfWork) -> Profile:
        now = rt.clock.now()
        profile = await live_profile(uow.store, profile_id)
        current = profile.personal
        personal = replace(
            current,
            **{name: getattr(cleaned, name) for name in given if name != "attributes"},
            attributes={**current.attributes, **cleaned.attributes}
            if "attributes" in given
            else current.attributes,
        )
        keys = personal_keys(personal)
        held_by = await link_repository.owners(uow.store, keys)
        for key, holder in zip(keys, held_by, strict=True):
            if holder is not None and holder != profile.id:
                raise Conflict(f"this {key.type.value} is already linked to another profile")
        free = [k for k, holder in zip(keys, held_by, strict=True) if holder is None]
        after, fresh = with_identifiers(replace(profile, personal=personal), free, channel, now)
        return save_change(
            uow,
            rt,
            before=profile,
            after=after,
            new_keys=fresh,
            channel=channel,
            kind=UpdateKind.PROFILE_CHANGED,
        )

    return await rt.transaction(use_case, rerun_on=RACED)
