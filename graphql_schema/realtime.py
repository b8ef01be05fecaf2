"""What subscriptions push: profile updates (receipts reuse the Receipt type)."""

from __future__ import annotations

from datetime import datetime

import strawberry

from cdp import updates
from cdp.updates import UpdateKind
from graphql_schema.loyalty import LedgerEntry, Reward
from graphql_schema.profiles import Profile
from resolvers.permissions import profile_field

strawberry.enum(UpdateKind)


@strawberry.type
class ProfileUpdate:
    kind: UpdateKind
    version: int
    profile: Profile = profile_field()
    entry: LedgerEntry | None
    tier_changed: bool
    at: datetime
    reward_ids: strawberry.Private[tuple[str, ...]]

    @strawberry.field
    async def rewards_unlocked(self, info: strawberry.Info) -> list[Reward]:
        if not self.reward_ids:
            return []
        rt = info.context.runtime
        issued = await info.context.stock_issued()
        now = rt.clock.now()
        rules = (rt.program.reward(rid) for rid in self.reward_ids)
        return [Reward.from_domain(r, rt.program, issued, now) for r in rules if r is not None]

    @classmethod
    def from_domain(cls, update: updates.ProfileUpdate) -> ProfileUpdate:
        return cls(
            kind=update.kind,
            version=update.version,
            profile=Profile.from_domain(update.profile),
            entry=LedgerEntry.from_domain(update.entry) if update.entry else None,
            tier_changed=update.tier_changed,
            at=update.at,
            reward_ids=update.rewards_unlocked,
        )
