"""searchProfiles: who matches these details, scored, best first."""

from __future__ import annotations

from datetime import date

from cdp.errors import BadInput
from cdp.identity.model import IdentifierKey, IdentifierType, PersonalData
from cdp.identity.model_in_use import model_in_use
from cdp.identity.normalize import clean_personal
from cdp.identity.record import MatchRecord
from cdp.identity.resolution import Match, deterministic, probabilistic
from cdp.runtime import Runtime

MAX_RESULTS = 50


async def search_profiles(rt: Runtime, *, details: PersonalData, limit: int) -> list[Match]:
    """Exact identifier matches (score 1) first, then probabilistic ones above zero."""
    if not 1 <= limit <= MAX_RESULTS:
        raise BadInput(f"limit must be 1 to {MAX_RESULTS}")
    cleaned = clean_personal(details, rt.settings.default_region, date.max)
    keys = []
    if cleaned.email:
        keys.append(IdentifierKey(IdentifierType.EMAIL, cleaned.email))
    if cleaned.phone:
        keys.append(IdentifierKey(IdentifierType.PHONE, cleaned.phone))
    if not keys and not (cleaned.last_name or cleaned.first_name):
        raise BadInput("give an email, a phone, or names to search by")
    exact = await deterministic(rt.store, keys, rt.settings.denylist)
    seen = frozenset(m.profile.id for m in exact)
    denylist = rt.settings.denylist
    scored = await probabilistic(
        rt.store,
        MatchRecord.of(cleaned, denylist),
        model=await model_in_use(rt.store, rt.settings),
        exclude=seen,
        limit=limit,
        denylist=denylist,
        auto_on_names_and_address=rt.settings.match_auto_on_names_and_address,
    )
    return [*exact, *scored][:limit]
