"""`cdp audit duplicates`: look-alike pairs among existing profiles, blocking again.

Each live profile is compared only with the profiles sharing one of its blocking keys,
scored as enrollment scores, and every pair at or above the review threshold is reported
once. A pair is auto only when resolution, seeing the candidates around each side,
scores each in the other's auto band, and any third profile in that band is alike with
both: a pair's score alone does not see a father and his junior that a record matches
equally, or a household at the address, which keeps a pair resting on names and
address alone for review (cdp/identity/resolution.py). Applying merges the auto pairs
and opens review items for the rest. A pair is decided again against the profiles as
they are when it is applied (an earlier merge may have changed one side), and a pair a
human already kept apart (a dismissed review item, an unmerge) is reported as such and
never merged.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import AsyncIterator, Callable, Sequence
from dataclasses import dataclass
from enum import StrEnum

from cdp.identity.blocking import blocking_keys, key_limit
from cdp.identity.limits import MergeBlocked
from cdp.identity.match_model import MatchModel
from cdp.identity.merge import stage_merge
from cdp.identity.model import Profile
from cdp.identity.model_in_use import model_in_use
from cdp.identity.profile_repository import LIVE, profile_pages
from cdp.identity.record import MatchRecord
from cdp.identity.resolution import probabilistic
from cdp.identity.review_queue import survivor_first
from cdp.identity.reviews import ReviewStatus, review_id, stage_review
from cdp.identity.service import get_profiles
from cdp.runtime import Runtime
from cdp.store.catalogue import AUDIT, MATCH_KEYS, MERGES, REVIEWS
from cdp.store.port import OneOf, Query, Store
from cdp.store.unit_of_work import UnitOfWork

ACTOR = "cli:audit-duplicates"


class PairDecision(StrEnum):
    AUTO = "auto"  # at or above the auto threshold: --apply merges it
    REVIEW = "review"  # between the thresholds: --apply opens a review item
    KEPT_SEPARATE = "kept_separate"  # a human already decided: left alone


class Applied(StrEnum):
    MERGED = "merged"
    REVIEW_OPENED = "review_opened"
    SKIPPED = "skipped"  # already one profile, already in review, or no longer alike


@dataclass(frozen=True, slots=True)
class DuplicatePair:
    profile_a: str  # the smaller id
    profile_b: str
    score: float
    decision: PairDecision
    matched_on: tuple[str, ...]

    def to_doc(self) -> dict[str, object]:
        return {
            "profile_a": self.profile_a,
            "profile_b": self.profile_b,
            "score": self.score,
            "decision": self.decision.value,
            "matched_on": list(self.matched_on),
        }


async def find_duplicates(
    rt: Runtime, *, on_page: Callable[[int], None] = lambda n: None
) -> AsyncIterator[DuplicatePair]:
    """Every pair of live profiles scoring at least the review threshold, once each."""
    model = await model_in_use(rt.store, rt.settings)
    async for page in profile_pages(rt.store):
        pairs: list[DuplicatePair] = []
        for a, b in await _candidate_pairs(rt.store, page):
            value, matched_on = _pair_score(rt, model, a, b)
            if value < rt.settings.match_review_threshold:
                continue
            auto = value >= rt.settings.match_auto_threshold and await _links_each_other(
                rt.store, rt, model, a, b
            )
            decision = PairDecision.AUTO if auto else PairDecision.REVIEW
            pairs.append(DuplicatePair(a.id, b.id, value, decision, matched_on))
        for pair in await _mark_kept_separate(rt.store, pairs):
            yield pair
        on_page(len(page))


def _pair_score(
    rt: Runtime, model: MatchModel, a: Profile, b: Profile
) -> tuple[float, tuple[str, ...]]:
    """The pair's score and agreeing fields, held below the auto band where resolution
    would hold it whatever the candidates around it (names and address alone, unless
    CDP_MATCH_AUTO_ON_NAMES_AND_ADDRESS)."""
    scored = model.score(MatchRecord.of(a.personal), MatchRecord.of(b.personal))
    if scored.names_and_address_only and not rt.settings.match_auto_on_names_and_address:
        scored = model.for_review(scored)
    return scored.probability, scored.matched_on


async def _links_each_other(
    store: Store, rt: Runtime, model: MatchModel, a: Profile, b: Profile
) -> bool:
    """Whether resolution puts a and b in each other's auto band, and every other profile
    in either's band is alike with the other too: a record matching a father and his
    junior (who are not alike) is a question, three records of one person are not."""
    settings = rt.settings
    for one, other in ((a, b), (b, a)):
        found = await probabilistic(
            store,
            MatchRecord.of(one.personal, settings.denylist),
            model=model,
            exclude=frozenset({one.id}),
            denylist=settings.denylist,
            auto_on_names_and_address=settings.match_auto_on_names_and_address,
        )
        alike = {m.profile.id: m.profile for m in found if m.score >= settings.match_auto_threshold}
        if other.id not in alike:
            return False
        for third in alike.values():
            if (
                third.id != other.id
                and _pair_score(rt, model, third, other)[0] < settings.match_auto_threshold
            ):
                return False
    return True


async def _candidate_pairs(store: Store, page: Sequence[Profile]) -> list[tuple[Profile, Profile]]:
    """(a, b) with a in `page`, b > a by id, live, sharing a blocking key that no more
    profiles than its `key_limit` share (as resolution skips the others)."""
    keys_of = {p.id: blocking_keys(MatchRecord.of(p.personal)) for p in page}
    every_key = sorted(set().union(*keys_of.values()))
    if not every_key:
        return []
    members: dict[str, list[str]] = defaultdict(list)
    for row in await store.find(Query(MATCH_KEYS, {"key": OneOf(tuple(every_key))})):
        members[row["key"]].append(row["profile_id"])
    usable = {key for key, held in members.items() if len(held) <= key_limit(key)}
    others_of = {
        a: sorted({b for key in keys & usable for b in members[key] if b > a})
        for a, keys in keys_of.items()
    }
    known = {p.id: p for p in page}
    wanted = sorted({b for others in others_of.values() for b in others} - known.keys())
    for profile in await get_profiles(store, wanted):
        if profile is not None:
            known.setdefault(profile.id, profile)
    return [
        (known[a], known[b])
        for a, others in others_of.items()
        for b in others
        if b in known and known[b].status in LIVE
    ]


async def _mark_kept_separate(store: Store, pairs: list[DuplicatePair]) -> list[DuplicatePair]:
    if not pairs:
        return pairs
    items = await store.get_many(REVIEWS, [review_id([p.profile_a, p.profile_b]) for p in pairs])
    marked = []
    for pair, item in zip(pairs, items, strict=True):
        decided = item is not None and item["status"] != ReviewStatus.OPEN.value
        if decided or await _unmerged(store, pair.profile_a, pair.profile_b):
            pair = DuplicatePair(
                pair.profile_a,
                pair.profile_b,
                pair.score,
                PairDecision.KEPT_SEPARATE,
                pair.matched_on,
            )
        marked.append(pair)
    return marked


async def _unmerged(store: Store, a: str, b: str) -> bool:
    """Whether someone took these two apart after a merge."""
    rows = await store.find(Query(AUDIT, {"profile_id": a}, order_by="at"))
    return any(r["action"] == "unmerge" and b in r["profiles"] for r in rows)


async def apply_pair(rt: Runtime, pair: DuplicatePair) -> Applied:
    """Merge an auto pair (review if merge protection forbids it); open one for the rest."""
    if pair.decision is PairDecision.KEPT_SEPARATE:
        return Applied.SKIPPED

    async def use_case(uow: UnitOfWork) -> Applied:
        a, b = await get_profiles(uow.store, [pair.profile_a, pair.profile_b])
        if a is None or b is None or a.id == b.id or not {a.status, b.status} <= LIVE:
            return Applied.SKIPPED
        model = await model_in_use(uow.store, rt.settings)
        value, matched_on = _pair_score(rt, model, a, b)
        now = rt.clock.now()
        reason = f"duplicate audit: {value:.2f} on {', '.join(matched_on)}"
        if (
            pair.decision is PairDecision.AUTO
            and value >= rt.settings.match_auto_threshold
            and await _links_each_other(uow.store, rt, model, a, b)
        ):
            survivor, merged = survivor_first(a, b)
            try:
                await stage_merge(
                    uow, rt, survivor=survivor, merged=merged, reason=reason, actor=ACTOR, now=now
                )
                return Applied.MERGED
            except MergeBlocked as exc:
                reason = f"{reason}; not merged: {exc.message}"
        if value < rt.settings.match_review_threshold:
            return Applied.SKIPPED
        if await uow.get(REVIEWS, review_id([a.id, b.id])) is not None:
            return Applied.SKIPPED
        await stage_review(uow, profile_ids=[a.id, b.id], score=value, reasons=[reason], at=now)
        return Applied.REVIEW_OPENED

    return await rt.transaction(use_case, rerun_on={MERGES, REVIEWS})
