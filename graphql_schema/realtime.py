"""What subscriptions push: profile updates (receipts reuse the Receipt type)."""

from __future__ import annotations

from datetime import datetime

import strawberry

from cdp.realtime.messages import PushedUpdate
from cdp.updates import UpdateKind
from graphql_schema.loyalty import LedgerEntry, Reward
from graphql_schema.profiles import Profile
from resolvers import pushed as pushed_fields
from resolvers.permissions import profile_field

strawberry.enum(UpdateKind)


@strawberry.type
class ProfileUpdate:
    kind: UpdateKind
    version: int
    profile: Profile = profile_field(resolver=pushed_fields.profile_of_update)
    entry: LedgerEntry | None
    tier_changed: bool
    at: datetime
    pushed: strawberry.Private[PushedUpdate]

    @strawberry.field
    async def rewards_unlocked(self, info: strawberry.Info) -> list[Reward]:
        reward_ids = self.pushed.rewards_unlocked
        if not reward_ids:
            return []
        rt = info.context.runtime
        issued = await info.context.stock_issued()
        now = rt.clock.now()
        rules = (rt.program.reward(rid) for rid in reward_ids)
        return [Reward.from_domain(r, rt.program, issued, now) for r in rules if r is not None]

    @classmethod
    def from_domain(cls, update: PushedUpdate) -> ProfileUpdate:
        return cls(
            kind=update.kind,
            version=update.version,
            entry=LedgerEntry.from_domain(update.entry) if update.entry else None,
            tier_changed=update.tier_changed,
            at=update.at,
            pushed=update,
        )
