"""Read side of the loyalty engine: account views, history pages, receipts, quotes."""

from __future__ import annotations

import base64
import binascii
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Generic, TypeVar

from cdp.channel import Channel
from cdp.errors import BadInput
from cdp.identity.model import Profile, ProfileStatus
from cdp.identity.service import RawIdentifier, find_profiles, normalize
from cdp.loyalty.accrual import Quote, check_lines, quote
from cdp.loyalty.lot_repository import expiring_points, released_points
from cdp.loyalty.model import LedgerEntry, LedgerEntryType, LineItem, Receipt, Redemption
from cdp.loyalty.program import Program
from cdp.loyalty.tiers import Standing, standing
from cdp.runtime import Runtime
from cdp.store.catalogue import LEDGER, ORDERS, REDEMPTIONS
from cdp.store.port import Document, OneOf, Query, Range, Store

T = TypeVar("T")
MAX_PAGE = 100
EXPIRING_SHOWN = 10


@dataclass(frozen=True, slots=True)
class Page(Generic[T]):
    items: list[tuple[str, T]]  # (cursor, item)
    has_next: bool

    @property
    def end_cursor(self) -> str | None:
        return self.items[-1][0] if self.items else None


def encode_cursor(sort_key: str) -> str:
    return base64.urlsafe_b64encode(sort_key.encode()).decode()


def decode_cursor(cursor: str | None) -> str | None:
    if cursor is None:
        return None
    try:
        sort_key = base64.urlsafe_b64decode(cursor.encode("ascii")).decode()
    except (binascii.Error, UnicodeError, ValueError):
        sort_key = ""
    # The decoder skips characters outside its alphabet ("!!!" decodes to nothing): only
    # a cursor this API wrote, which encodes back to itself, is one.
    if not sort_key or encode_cursor(sort_key) != cursor:
        raise BadInput("after is not a cursor this API returned")
    return sort_key


def page_size(first: int | None) -> int:
    size = 20 if first is None else first
    if not 0 <= size <= MAX_PAGE:
        raise BadInput(f"first must be 0 to {MAX_PAGE}")
    return size


@dataclass(frozen=True, slots=True)
class HistoryPage:
    """One page of one profile's history, as asked (checked on construction; hashable,
    so a DataLoader can key on it)."""

    profile_ids: tuple[str, ...]  # the profile and those merged into it
    size: int
    boundary: str | None  # the sort key the page starts below
    types: tuple[str, ...]

    @classmethod
    def asked(
        cls,
        profile_ids: Sequence[str],
        *,
        first: int | None,
        after: str | None,
        types: Sequence[LedgerEntryType] | None,
    ) -> HistoryPage:
        return cls(
            tuple(profile_ids),
            page_size(first),
            decode_cursor(after),
            tuple(t.value for t in types or ()),
        )

    def query(self) -> Query:
        """Newest first; one more than the page, to tell whether another follows."""
        where: dict[str, object] = {"profile_id": OneOf(self.profile_ids)}
        if self.boundary is not None:
            where["sort_key"] = Range(lt=self.boundary)
        if self.types:
            where["type"] = OneOf(self.types)
        return Query(LEDGER, where, order_by="sort_key", descending=True, limit=self.size + 1)

    def page(self, docs: list[Document]) -> Page[LedgerEntry]:
        entries = [LedgerEntry.from_doc(d) for d in docs[: self.size]]
        return Page([(encode_cursor(e.sort_key), e) for e in entries], len(docs) > self.size)


async def history_pages(store: Store, asked: Sequence[HistoryPage]) -> list[Page[LedgerEntry]]:
    """Several profiles' history pages in one store round trip, in the order asked.

    Newest first, over a profile and those merged into it. The cursor is a position in
    time, so entries that arrive while a client pages land before its first page, never
    inside a later one."""
    answers = await store.find_batch([page.query() for page in asked])
    return [page.page(docs) for page, docs in zip(asked, answers, strict=True)]


async def redemptions(
    store: Store, profile_ids: Sequence[str], *, first: int | None, after: str | None
) -> Page[Redemption]:
    """Newest first, keyed by the ledger entry that paid for each."""
    size = page_size(first)
    where: dict[str, object] = {"profile_id": OneOf(tuple(profile_ids))}
    boundary = decode_cursor(after)
    if boundary is not None:
        where["sort_key"] = Range(lt=boundary)
    docs = await store.find(
        Query(REDEMPTIONS, where, order_by="sort_key", descending=True, limit=size + 1)
    )
    return Page(
        [(encode_cursor(d["sort_key"]), Redemption.from_doc(d)) for d in docs[:size]],
        len(docs) > size,
    )


async def receipt(store: Store, channel: Channel, order_id: str) -> Receipt | None:
    doc = await store.get(ORDERS, f"{channel.value}:{order_id.strip()}")
    return Receipt.from_doc(doc["receipt"]) if doc else None


async def points_quote(
    rt: Runtime, *, channel: Channel, lines: list[LineItem], identifier: RawIdentifier | None
) -> Quote:
    """What a cart would earn: for this member's tier, or the base tier when anonymous."""
    program = rt.program
    check_lines(program, lines)
    tier = program.tiers.levels[0]
    if identifier is not None:
        member = (await find_profiles(rt.store, [normalize(rt, identifier)]))[0]
        if member is not None:
            tier = program.tier(member.loyalty.tier_id)
    return quote(program, lines, channel=channel, tier=tier, at=rt.clock.now())


@dataclass(frozen=True, slots=True)
class AccountView:
    profile_id: str
    balance: int
    pending: int
    lifetime: int
    standing: Standing
    can_redeem: bool


async def account_view(
    store: Store, program: Program, profile: Profile, now: datetime
) -> AccountView:
    """The account as of `now`: points whose return window has closed count as available
    even before a job or a write releases them (a release moves no ledger amount, so
    balance + pending still equals the ledger's sum). Reads no lot unless one is due."""
    account = profile.loyalty
    released = await released_points(store, profile, now)
    return AccountView(
        profile_id=profile.id,
        balance=account.balance + released,
        pending=account.pending - released,
        lifetime=account.lifetime,
        standing=standing(program, account, now),
        can_redeem=profile.status is ProfileStatus.ENROLLED,
    )


async def expiring(store: Store, profile_id: str) -> list[tuple[int, datetime]]:
    """(points, expires at) soonest first, at most `EXPIRING_SHOWN` moments."""
    return await expiring_points(store, profile_id, shown=EXPIRING_SHOWN)
