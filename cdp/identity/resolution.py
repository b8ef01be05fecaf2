"""Identity resolution: normalize -> deterministic -> probabilistic -> decide.

Deterministic: a linked identifier (never a placeholder) names its profile outright.
Probabilistic: blocking keys find a few candidates (cdp/identity/blocking.py), the
match model scores them (cdp/identity/match_model.py). A candidate is compared through
each record it holds: its own data and that of every profile merged into it. The
decision (link, review, or a new profile) belongs to the caller: enrollment, purchases,
events and import apply the same thresholds from settings.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from enum import StrEnum

from cdp.clock import to_iso
from cdp.identity.blocking import blocking_keys, key_limit
from cdp.identity.match_model import MatchModel, Scored
from cdp.identity.model import IdentifierKey, IdentifierType, PersonalData, Profile, ProfileStatus
from cdp.identity.model_in_use import model_in_use
from cdp.identity.placeholders import is_placeholder
from cdp.identity.profile_repository import LIVE
from cdp.identity.record import MatchRecord
from cdp.identity.service import find_profiles, get_profiles
from cdp.settings import Settings
from cdp.store.catalogue import MATCH_KEYS, PROFILES
from cdp.store.port import Query, Store

# Which identifier wins when two profiles claim parts of one record.
PRIORITY = (
    IdentifierType.LOYALTY_CARD,
    IdentifierType.APP_USER_ID,
    IdentifierType.POS_CUSTOMER_ID,
    IdentifierType.CRM_CONTACT_ID,
    IdentifierType.EMAIL,
    IdentifierType.PHONE,
    IdentifierType.DEVICE_ID,
    IdentifierType.COOKIE_ID,
)


class MatchMethod(StrEnum):
    DETERMINISTIC = "DETERMINISTIC"
    PROBABILISTIC = "PROBABILISTIC"


class Decision(StrEnum):
    LINK = "link"
    REVIEW = "review"
    NEW = "new"


@dataclass(frozen=True, slots=True)
class Match:
    profile: Profile
    score: float
    method: MatchMethod
    matched_on: tuple[str, ...]


def field_name(type_: IdentifierType) -> str:
    """EMAIL -> email, LOYALTY_CARD -> loyaltyCard: how `matchedOn` names identifiers."""
    head, *rest = type_.value.lower().split("_")
    return head + "".join(part.title() for part in rest)


def match_keys_of(keys: Sequence[IdentifierKey], denylist: frozenset[str]) -> list[IdentifierKey]:
    """The keys that may be used to match: no placeholders, highest priority first."""
    usable = [k for k in keys if not is_placeholder(k, denylist)]
    return sorted(usable, key=lambda k: PRIORITY.index(k.type))


async def deterministic(
    store: Store, keys: Sequence[IdentifierKey], denylist: frozenset[str]
) -> list[Match]:
    """Distinct live profiles holding any of `keys`, the highest-priority identifier first."""
    usable = match_keys_of(keys, denylist)
    owners = await find_profiles(store, usable)
    matches: dict[str, Match] = {}
    for key, owner in zip(usable, owners, strict=True):
        if owner is None or owner.status is ProfileStatus.FORGOTTEN:
            continue
        held = matches.get(owner.id)
        on = (*held.matched_on, field_name(key.type)) if held else (field_name(key.type),)
        matches[owner.id] = Match(owner, 1.0, MatchMethod.DETERMINISTIC, on)
    return list(matches.values())


async def candidate_ids(store: Store, keys: set[str]) -> list[str]:
    """Profiles (merged ones included) sharing a key; a key shared by more than its
    `key_limit` is skipped, so the count stays bounded however large the store."""
    found: set[str] = set()
    for key in sorted(keys):
        limit = key_limit(key)
        rows = await store.find(Query(MATCH_KEYS, {"key": key}, limit=limit + 1))
        if len(rows) <= limit:
            found.update(row["profile_id"] for row in rows)
    return sorted(found)


async def probabilistic(
    store: Store,
    record: MatchRecord,
    *,
    model: MatchModel,
    exclude: frozenset[str] = frozenset(),
    limit: int = 5,
    denylist: frozenset[str] = frozenset(),
    auto_on_names_and_address: bool = False,
) -> list[Match]:
    """Live profiles sharing a blocking key with `record`, each scored through its best
    record, best first (by score, then by match weight: capped scores tie), score > 0.
    A pair resting on names and address alone stays below the auto band unless
    `auto_on_names_and_address`, and even then when another candidate shows a household
    at that address (CDP_MATCH_AUTO_ON_NAMES_AND_ADDRESS; cdp/identity/match_model.py)."""
    found = await store.get_many(PROFILES, await candidate_ids(store, blocking_keys(record)))
    docs = {doc["id"]: doc for doc in found if doc is not None}
    merged = [i for i, doc in docs.items() if doc["status"] == ProfileStatus.MERGED.value]
    survivors = {
        merged_id: survivor
        for merged_id, survivor in zip(merged, await get_profiles(store, merged), strict=True)
        if survivor is not None and survivor.status in LIVE
    }
    # The live profile each stored record speaks for: its own, or its survivor.
    owner = {i: i for i, doc in docs.items() if ProfileStatus(doc["status"]) in LIVE}
    owner.update({merged_id: survivor.id for merged_id, survivor in survivors.items()})
    created = {i: doc["created_at"] for i, doc in docs.items()}
    created.update({s.id: to_iso(s.created_at) for s in survivors.values()})
    best: dict[str, Scored] = {}
    households: set[str] = set()  # live profiles holding a member of the record's household
    for record_id, doc in docs.items():
        live = owner.get(record_id)
        if live is None or live in exclude:
            continue
        scored = model.score(
            record, MatchRecord.of(PersonalData.from_doc(doc["personal"]), denylist)
        )
        if scored.household_member:
            households.add(live)
        kept = best.get(live)
        if scored.probability > 0 and (kept is None or scored[:2] > kept[:2]):
            best[live] = scored
    for live, scored in best.items():
        if scored.names_and_address_only and (not auto_on_names_and_address or households - {live}):
            # The record may be a junior of the same names at that address.
            best[live] = model.for_review(scored)
    ranked = sorted(best, key=lambda i: (-best[i].probability, -best[i].weight, created[i]))
    profiles = {s.id: s for s in survivors.values()}
    return [
        Match(
            profiles.get(i) or Profile.from_doc(docs[i]),
            best[i].probability,
            MatchMethod.PROBABILISTIC,
            best[i].matched_on,
        )
        for i in ranked[:limit]
    ]


def decide(candidates: Sequence[Match], auto: float, review: float) -> Decision:
    """What to do with the best of `candidates` (best first). Two profiles that both
    score in the auto band make the record ambiguous, and a person decides: a father
    and his junior at one address both match a record that gives no birth date, and
    a store holding one person twice is better joined by a reviewer than by chance."""
    if not candidates or candidates[0].score < review:
        return Decision.NEW
    if candidates[0].score >= auto and (len(candidates) < 2 or candidates[1].score < auto):
        return Decision.LINK
    return Decision.REVIEW


async def resolve(
    store: Store, personal: PersonalData, settings: Settings, birth_typed: str | None = None
) -> tuple[Decision, list[Match]]:
    """The decision on `personal` under the configured model and thresholds, with the
    two best candidates: what enrollment (and so import) applies to a record no
    identifier names. `birth_typed`: the digits of a birth date the record gave that is
    no calendar date (dropped from `personal`, still evidence)."""
    record = replace(MatchRecord.of(personal, settings.denylist), birth_typed=birth_typed)
    candidates = await probabilistic(
        store,
        record,
        model=await model_in_use(store, settings),
        limit=2,
        denylist=settings.denylist,
        auto_on_names_and_address=settings.match_auto_on_names_and_address,
    )
    decision = decide(candidates, settings.match_auto_threshold, settings.match_review_threshold)
    return decision, candidates
