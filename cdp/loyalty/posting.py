"""Point movements on one account, each explained by a ledger entry written with it.

A `Posting` starts from a stored account and the lots a use case loaded for it (only
those it needs: the due ones, enough to spend, an order's; see `cdp.loyalty.lot_repository`),
applies movements (earn, spend, reverse, release, expire, restore) and hands back the new
account, the entries to insert and the lots to write in the same commit. Every movement
keeps invariant 2: balance + pending == sum of entries.
"""

from __future__ import annotations

import calendar
from collections.abc import Iterable
from dataclasses import dataclass, replace
from datetime import datetime, timedelta

from cdp.channel import Channel
from cdp.loyalty.model import (
    Account,
    LedgerEntry,
    LedgerEntryType,
    Lot,
    SpentLot,
    ledger_entry_id,
)
from cdp.loyalty.program import ExpiryPolicy, Program
from cdp.loyalty.tiers import month_key, pruned_months, tier_rank


def add_months(moment: datetime, months: int) -> datetime:
    """The same day `months` later (the month's last day when it has fewer days)."""
    month_index = moment.month - 1 + months
    year, month = moment.year + month_index // 12, month_index % 12 + 1
    day = min(moment.day, calendar.monthrange(year, month)[1])
    return moment.replace(year=year, month=month, day=day)


@dataclass(frozen=True, slots=True)
class LotChanges:
    """What a posting did to the stored lots: lots to add, to rewrite, to remove (with the
    version each was read at)."""

    added: list[Lot]
    changed: list[tuple[Lot, int]]
    removed: list[tuple[Lot, int]]


class Posting:
    def __init__(
        self,
        profile_id: str,
        account: Account,
        program: Program,
        now: datetime,
        channel: Channel,
        lots: Iterable[tuple[Lot, int]] = (),
    ) -> None:
        self.profile_id = profile_id
        self.program = program
        self.now = now
        self.channel = channel
        self.balance = account.balance
        self.pending = account.pending
        self.lifetime = account.lifetime
        self.tier_id = account.tier_id or program.tiers.levels[0].id
        self.qualifying = dict(account.qualifying_by_month)
        self.lots: list[Lot] = []
        self.loaded: dict[str, tuple[Lot, int]] = {}  # as stored: (lot, version)
        # No stored lot left unloaded is due before this (a lower bound).
        self.unloaded_due = account.lots_due_at
        self.foreign_lot_ids: set[str] = set()  # ids another profile's lots hold now
        self.add_loaded(lots)
        self.seq = account.ledger_seq
        self.last_activity_at = account.last_activity_at
        self.bonuses_granted = list(account.bonuses_granted)
        self.entries: list[LedgerEntry] = []
        self.expired: list[Lot] = []  # lots written off here, for their orders' records

    # -- lots loaded from the store ----------------------------------------------------

    def add_loaded(self, lots: Iterable[tuple[Lot, int]]) -> None:
        """Hold stored lots (with their versions) too; one already held stays as it is now."""
        for lot, version in lots:
            if lot.id not in self.loaded:
                self.loaded[lot.id] = (lot, version)
                self.lots.append(lot)

    def held_points(self, lot_ids: Iterable[str]) -> int:
        """Points the named lots hold now (0 for one spent or gone)."""
        held = {lot.id: lot.points for lot in self.lots}
        return sum(held.get(lot_id, 0) for lot_id in lot_ids)

    def lot_changes(self) -> LotChanges:
        now_held = {lot.id: lot for lot in self.lots}
        return LotChanges(
            added=[lot for lot in self.lots if lot.id not in self.loaded],
            changed=[
                (now_held[lot_id], version)
                for lot_id, (lot, version) in self.loaded.items()
                if lot_id in now_held and now_held[lot_id] != lot
            ],
            removed=[
                (lot, v) for lot_id, (lot, v) in self.loaded.items() if lot_id not in now_held
            ],
        )

    def lots_due_at(self) -> datetime | None:
        moments = [m for m in (lot.due_at for lot in self.lots) if m is not None]
        if self.unloaded_due is not None:
            moments.append(self.unloaded_due)
        return min(moments) if moments else None

    # -- bookkeeping -------------------------------------------------------------------

    def _entry(
        self,
        type_: LedgerEntryType,
        points: int,
        *,
        reason: str | None = None,
        order_id: str | None = None,
        lot: Lot | None = None,
    ) -> LedgerEntry:
        self.seq += 1
        entry = LedgerEntry(
            id=ledger_entry_id(self.profile_id, self.seq),
            profile_id=self.profile_id,
            type=type_,
            points=points,
            balance_after=self.balance,
            channel=self.channel,
            created_at=self.now,
            reason=reason,
            order_id=order_id,
            available_at=lot.available_at if lot else None,
            expires_at=lot.expires_at if lot else None,
        )
        self.entries.append(entry)
        return entry

    def _expires_at(self, earned_at: datetime) -> datetime | None:
        expiry = self.program.expiry
        if expiry.policy is ExpiryPolicy.LOT:
            return add_months(earned_at, expiry.months)
        return None

    def _add_available(self, lot: Lot) -> None:
        """Credit an available lot; a negative balance is paid back from it first."""
        debt = max(0, -self.balance)
        self.balance += lot.points
        kept = lot.points - min(debt, lot.points)
        if kept:
            self._keep(replace(lot, points=kept, available_at=None))

    def _keep(self, lot: Lot) -> None:
        """Hold a lot; one of the same order, earned, released and expiring at the same
        moments as the last one held (a purchase's base and bonus points) joins it instead.

        Every lot is a document of its own, so an account holds one lot per order, not
        two: the two would be spent, returned and expired together anyway, and ordering
        them by (expiry, earned) cannot tell them apart.
        """
        last = self.lots[-1] if self.lots else None
        if (
            last is not None
            and lot.order_key is not None
            and last.order_key == lot.order_key
            and (last.earned_at, last.available_at, last.expires_at)
            == (lot.earned_at, lot.available_at, lot.expires_at)
        ):
            self.lots[-1] = replace(last, points=last.points + lot.points)
        else:
            self.lots.append(lot)

    def _available_lots_oldest_first(self) -> list[Lot]:
        usable = [lot for lot in self.lots if not lot.pending_at(self.now)]
        return sorted(usable, key=lambda lot: lot.spend_key)

    def _take(self, lot: Lot, points: int) -> None:
        index = self.lots.index(lot)
        if points == lot.points:
            del self.lots[index]
        else:
            self.lots[index] = replace(lot, points=lot.points - points)

    def touch(self) -> None:
        """Count as activity for the inactivity expiry policy."""
        self.last_activity_at = self.now

    # -- movements ---------------------------------------------------------------------

    def earn(
        self,
        type_: LedgerEntryType,
        points: int,
        *,
        earned_at: datetime,
        pending: bool,
        qualifying: bool,
        order_key: str | None = None,
        order_id: str | None = None,
        reason: str | None = None,
    ) -> LedgerEntry | None:
        """Credit points (pending through the return window when `pending`)."""
        if points <= 0:
            return None
        available_at = None
        if pending and self.program.pending_days:
            available_at = earned_at + timedelta(days=self.program.pending_days)
        lot = Lot(
            id=ledger_entry_id(self.profile_id, self.seq + 1),
            points=points,
            earned_at=earned_at,
            available_at=available_at,
            expires_at=self._expires_at(earned_at),
            order_key=order_key,
        )
        if lot.pending_at(self.now):
            self.pending += points
            self._keep(lot)
        else:
            self._add_available(lot)
        self.lifetime += points
        if qualifying:
            month = month_key(earned_at)
            self.qualifying[month] = self.qualifying.get(month, 0) + points
        self.touch()
        return self._entry(type_, points, reason=reason, order_id=order_id, lot=lot)

    def spend(
        self, type_: LedgerEntryType, points: int, *, reason: str | None = None
    ) -> tuple[LedgerEntry, list[SpentLot]]:
        """Debit available points, oldest-expiring lots first. The caller checked the balance."""
        if points > self.balance:
            raise ValueError("spend beyond the available balance")
        spent: list[SpentLot] = []
        remaining = points
        for lot in self._available_lots_oldest_first():
            if remaining == 0:
                break
            taken = min(lot.points, remaining)
            self._take(lot, taken)
            spent.append(SpentLot(lot.id, taken, lot.earned_at, lot.expires_at))
            remaining -= taken
        self.balance -= points
        self.touch()
        return self._entry(type_, -points, reason=reason), spent

    def restore(
        self, type_: LedgerEntryType, spent: list[SpentLot], *, reason: str | None = None
    ) -> LedgerEntry | None:
        """Give spent points back into the lots they came from (keeping their expiry)."""
        total = sum(s.points for s in spent)
        if total <= 0:
            return None
        for piece in spent:
            held = next((lot for lot in self.lots if lot.id == piece.lot_id), None)
            already = held.points if held else 0
            if held is not None:
                self.lots.remove(held)
                self.balance -= already  # counted again by _add_available below
            # A lot an unmerge gave to the other profile since: the points come back here,
            # in a lot of their own.
            lot_id = piece.lot_id
            if held is None and lot_id in self.foreign_lot_ids:
                lot_id = f"{piece.lot_id}+{ledger_entry_id(self.profile_id, self.seq + 1)}"
            self._add_available(
                Lot(lot_id, already + piece.points, piece.earned_at, None, piece.expires_at)
            )
        self.touch()
        return self._entry(type_, total, reason=reason)

    def reverse(
        self, points: int, *, order_key: str, order_month: str, order_id: str, reason: str | None
    ) -> LedgerEntry | None:
        """Take back what an order earned: its pending lots first, then available points.

        Without `allow_negative_balance` the balance stops at zero and the rest is
        forgiven; the entry records only what was actually taken back.
        """
        remaining = points
        for lot in [lot for lot in self.lots if lot.order_key == order_key]:
            if remaining == 0:
                break
            taken = min(lot.points, remaining)
            self._take(lot, taken)
            if lot.pending_at(self.now):
                self.pending -= taken
            else:
                self.balance -= taken
            remaining -= taken
        for lot in self._available_lots_oldest_first():
            if remaining == 0:
                break
            taken = min(lot.points, remaining)
            self._take(lot, taken)
            self.balance -= taken
            remaining -= taken
        if remaining and self.program.allow_negative_balance:
            self.balance -= remaining
            remaining = 0
        taken_back = points - remaining
        self.qualifying[order_month] = max(0, self.qualifying.get(order_month, 0) - points)
        self.lifetime -= taken_back
        if taken_back == 0:
            return None
        return self._entry(LedgerEntryType.REVERSAL, -taken_back, reason=reason, order_id=order_id)

    def adjust_down(self, points: int, *, reason: str) -> LedgerEntry:
        entry, _ = self.spend(LedgerEntryType.ADJUST, points, reason=reason)
        return entry

    def release_due(self) -> int:
        """Pending lots whose return window has passed become available; no entry needed."""
        released = 0
        for lot in [lot for lot in self.lots if lot.available_at and not lot.pending_at(self.now)]:
            self.lots.remove(lot)
            self.pending -= lot.points
            self._add_available(lot)
            released += lot.points
        return released

    def expire_due(self) -> LedgerEntry | None:
        """Write off lots past their expiry, or everything after the inactivity period."""
        expiry = self.program.expiry
        if expiry.policy is ExpiryPolicy.LOT:
            due = [lot for lot in self.lots if lot.expires_at and lot.expires_at <= self.now]
        elif expiry.policy is ExpiryPolicy.INACTIVITY and self.last_activity_at is not None:
            inactive_since = add_months(self.last_activity_at, expiry.months)
            due = list(self.lots) if inactive_since <= self.now else []
        else:
            due = []
        total = 0
        for lot in due:
            self.lots.remove(lot)
            self.expired.append(lot)
            # Held as pending until released, even past its return window: the expire
            # job may run before the release job has.
            if lot.available_at is not None:
                self.pending -= lot.points
            else:
                self.balance -= lot.points
            total += lot.points
        if total == 0:
            return None
        return self._entry(LedgerEntryType.EXPIRE, -total, reason="points expired")

    def hand_over(
        self, type_: LedgerEntryType, reason: str
    ) -> tuple[Account, list[Lot], LedgerEntry | None]:
        """Give everything this account holds to another (a merge): what it was, its lots
        (every one must be loaded), and the entry that takes it out of this ledger."""
        handed, lots = self.account(), list(self.lots)
        total = self.balance + self.pending
        self.balance = self.pending = self.lifetime = 0
        self.lots = []
        self.qualifying = {}
        entry = self._entry(type_, -total, reason=reason) if total else None
        return handed, lots, entry

    def take_over(
        self, other: Account, lots: list[Lot], type_: LedgerEntryType, reason: str
    ) -> LedgerEntry | None:
        """Receive another account's points, lots (with their expiry), qualifying points,
        lifetime and bonuses; the tier is the higher of the two."""
        self.balance += other.balance
        self.pending += other.pending
        self.lifetime += other.lifetime
        self.lots.extend(lots)
        for month, points in other.qualifying_by_month.items():
            self.qualifying[month] = self.qualifying.get(month, 0) + points
        self.bonuses_granted = sorted(set(self.bonuses_granted) | set(other.bonuses_granted))
        if other.tier_id and tier_rank(self.program, other.tier_id) > tier_rank(
            self.program, self.tier_id
        ):
            self.tier_id = other.tier_id
        total = other.balance + other.pending
        return self._entry(type_, total, reason=reason) if total else None

    def give_back_lots(
        self, lot_ids: set[str], type_: LedgerEntryType, reason: str
    ) -> tuple[list[Lot], LedgerEntry | None]:
        """Take out what remains of the named lots (an unmerge): points spent from them
        since stay spent."""
        taken = [lot for lot in self.lots if lot.id in lot_ids]
        for lot in taken:
            self.lots.remove(lot)
            if lot.pending_at(self.now):
                self.pending -= lot.points
            else:
                self.balance -= lot.points
        total = sum(lot.points for lot in taken)
        return taken, (self._entry(type_, -total, reason=reason) if total else None)

    def receive_lots(
        self, lots: list[Lot], type_: LedgerEntryType, reason: str
    ) -> LedgerEntry | None:
        for lot in lots:
            if lot.pending_at(self.now):
                self.pending += lot.points
                self.lots.append(lot)
            else:
                self._add_available(lot)
        total = sum(lot.points for lot in lots)
        return self._entry(type_, total, reason=reason) if total else None

    # -- result ------------------------------------------------------------------------

    def account(self) -> Account:
        return Account(
            balance=self.balance,
            pending=self.pending,
            lifetime=self.lifetime,
            tier_id=self.tier_id,
            qualifying_by_month=pruned_months(
                self.program, Account(qualifying_by_month=self.qualifying), self.now
            ),
            ledger_seq=self.seq,
            last_activity_at=self.last_activity_at,
            bonuses_granted=tuple(self.bonuses_granted),
            lots_due_at=self.lots_due_at(),
        )
