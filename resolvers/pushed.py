"""The profile behind a pushed update or receipt.

A pushed message carries a member's id, version, status, balances and tier, not the
profile (cdp/realtime/messages.py). When a subscription asks only for those, the profile
is answered from the message; when it asks for anything else, the profile is read afresh
through the request's DataLoader (whose cache is new for every push, `forget_cached`).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from strawberry.types.nodes import SelectedField, Selection

from cdp.identity.model import PersonalData
from cdp.identity.model import Profile as DomainProfile
from cdp.loyalty.model import Account
from cdp.realtime.messages import PushedUpdate
from resolvers.context import Info

if TYPE_CHECKING:
    from graphql_schema.profiles import Profile
    from graphql_schema.realtime import ProfileUpdate

ANY = None  # every field below this one is carried
# Profile fields a message answers (GraphQL names), nested as the schema nests them.
CARRIED: Mapping[str, Any] = {
    "id": ANY,
    "version": ANY,
    "status": ANY,
    "mergedInto": ANY,
    "loyalty": {
        "balance": ANY,
        "pendingPoints": ANY,
        "lifetimePoints": ANY,
        "canRedeem": ANY,
        "tier": ANY,  # built from the program by the tier's id
    },
}


def carried(selections: Sequence[Selection], shape: Mapping[str, Any]) -> bool:
    """Whether every field asked (through fragments too) is in `shape`."""
    for selection in selections:
        if not isinstance(selection, SelectedField):
            if not carried(selection.selections, shape):
                return False
            continue
        if selection.name == "__typename":
            continue
        if selection.name not in shape:
            return False
        below = shape[selection.name]
        if below is not ANY and not carried(selection.selections, below):
            return False
    return True


def _from_message(pushed: PushedUpdate) -> DomainProfile:
    """The profile as far as the message knows it; only for selections `carried` allows
    (everything else in it is blank)."""
    return DomainProfile(
        id=pushed.profile_id,
        version=pushed.version,
        status=pushed.status,
        personal=PersonalData(),
        identifiers=(),
        created_at=pushed.at,
        updated_at=pushed.at,
        merged_into=pushed.merged_into,
        loyalty=Account(
            balance=pushed.balance,
            pending=pushed.pending,
            lifetime=pushed.lifetime,
            tier_id=pushed.tier_id,
        ),
    )


async def pushed_profile(info: Info, pushed: PushedUpdate) -> Profile | None:
    """The member of a pushed change, read only when the selection needs more than the
    message carries."""
    from graphql_schema.profiles import Profile

    if pushed.profile is not None:  # the watcher has just read it
        return Profile.from_domain(pushed.profile)
    if all(carried(field.selections, CARRIED) for field in info.selected_fields):
        return Profile.from_domain(_from_message(pushed))
    found = await info.context.loaders.profile_by_id.load(pushed.profile_id)
    return Profile.from_domain(found) if found else None


async def profile_of_update(root: ProfileUpdate, info: Info) -> Profile:
    found = await pushed_profile(info, root.pushed)
    assert found is not None, "profiles are never deleted"
    return found
