"""Listing review items and acting on a human's decision."""

from __future__ import annotations

from cdp.errors import Conflict, NotFound
from cdp.identity.merge import stage_merge
from cdp.identity.model import Profile, ProfileStatus
from cdp.identity.reviews import ReviewDecision, ReviewItem, ReviewStatus
from cdp.identity.reviews import review_id as pair_review_id
from cdp.identity.service import get_profiles
from cdp.loyalty.queries import Page, decode_cursor, encode_cursor, page_size
from cdp.runtime import Runtime
from cdp.store.catalogue import MERGES, REVIEWS
from cdp.store.port import Query, Range, Store
from cdp.store.unit_of_work import UnitOfWork


async def review_queue(
    store: Store, *, status: ReviewStatus, first: int | None, after: str | None
) -> Page[ReviewItem]:
    """Oldest first: the queue is worked from the front."""
    size = page_size(first)
    where: dict[str, object] = {"status": status.value}
    boundary = decode_cursor(after)
    if boundary is not None:
        where["sort_key"] = Range(gt=boundary)
    docs = await store.find(Query(REVIEWS, where, order_by="sort_key", limit=size + 1))
    items = [ReviewItem.from_doc(d) for d in docs[:size]]
    return Page([(encode_cursor(i.sort_key), i) for i in items], len(docs) > size)


def survivor_first(a: Profile, b: Profile) -> tuple[Profile, Profile]:
    """The enrolled one survives; between equals, the older."""
    rank = {ProfileStatus.ENROLLED: 0, ProfileStatus.ALLOCATED: 1}
    ordered = sorted((a, b), key=lambda p: (rank.get(p.status, 2), p.created_at, p.id))
    return ordered[0], ordered[1]


async def resolve_review(
    rt: Runtime, *, review_id: str, decision: ReviewDecision, actor: str
) -> ReviewItem:
    """MERGE merges the pair (enrolled or older survives); KEEP_SEPARATE dismisses it."""

    async def use_case(uow: UnitOfWork) -> ReviewItem:
        doc = await uow.get(REVIEWS, review_id)
        if doc is None:
            raise NotFound(f"review item {review_id} not found")
        item = ReviewItem.from_doc(doc)
        if item.status is not ReviewStatus.OPEN:
            wanted = (
                ReviewStatus.MERGED if decision is ReviewDecision.MERGE else ReviewStatus.DISMISSED
            )
            if item.status is wanted:
                return item
            raise Conflict(f"review item {review_id} was already {item.status.value}")
        now = rt.clock.now()
        if decision is ReviewDecision.KEEP_SEPARATE:
            resolved = item.resolved(ReviewStatus.DISMISSED, now)
        else:
            first, second = await get_profiles(uow.store, list(item.profile_ids))
            if first is None or second is None:
                raise Conflict("a profile of this review item no longer exists")
            resolved = item.resolved(ReviewStatus.MERGED, now)
            if first.id != second.id:
                survivor, merged = survivor_first(first, second)
                await stage_merge(
                    uow,
                    rt,
                    survivor=survivor,
                    merged=merged,
                    reason=f"review {review_id}",
                    actor=actor,
                    now=now,
                )
                if pair_review_id((survivor.id, merged.id)) == item.id:
                    return resolved  # the merge closed this very item (close_merged_pair)
        uow.replace(REVIEWS, resolved.to_doc(), item.version)
        return resolved

    return await rt.transaction(use_case, rerun_on={MERGES})
