"""Identity resolution: normalize -> deterministic -> probabilistic -> decide.

Deterministic: a linked identifier (never a placeholder) names its profile outright.
Probabilistic: blocking keys find a few candidates, `matching.score` ranks them. The
decision (link, review, or a new profile) belongs to the caller: enrollment, purchases,
events and import apply the same thresholds from settings.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum

from cdp.identity.matching import MatchRecord, blocking_keys, score
from cdp.identity.model import IdentifierKey, IdentifierType, Profile, ProfileStatus
from cdp.identity.placeholders import is_placeholder
from cdp.identity.service import find_profiles, get_profiles
from cdp.store.catalogue import MATCH_KEYS
from cdp.store.port import OneOf, Query, Store

CANDIDATES_PER_RECORD = 200

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


async def probabilistic(
    store: Store,
    record: MatchRecord,
    *,
    exclude: frozenset[str] = frozenset(),
    limit: int = 5,
    denylist: frozenset[str] = frozenset(),
) -> list[Match]:
    """Scored candidates sharing a blocking key with `record`, best first, score > 0."""
    keys = blocking_keys(record)
    if not keys:
        return []
    rows = await store.find(
        Query(MATCH_KEYS, {"key": OneOf(tuple(sorted(keys)))}, limit=CANDIDATES_PER_RECORD)
    )
    ids = sorted({row["profile_id"] for row in rows} - exclude)
    found: list[Match] = []
    for candidate in await get_profiles(store, ids):
        if candidate is None or candidate.status in (ProfileStatus.MERGED, ProfileStatus.FORGOTTEN):
            continue
        if candidate.id in exclude:
            continue
        value, matched_on = score(record, MatchRecord.of(candidate.personal, denylist))
        if value > 0:
            found.append(Match(candidate, value, MatchMethod.PROBABILISTIC, tuple(matched_on)))
    found.sort(key=lambda m: (-m.score, m.profile.created_at))
    unique: dict[str, Match] = {}
    for match in found:
        unique.setdefault(match.profile.id, match)
    return list(unique.values())[:limit]


def decide(value: float, auto: float, review: float) -> Decision:
    if value >= auto:
        return Decision.LINK
    if value >= review:
        return Decision.REVIEW
    return Decision.NEW
