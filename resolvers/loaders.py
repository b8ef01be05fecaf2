"""Per-request DataLoaders: one store round trip for a batch, results in key order."""

from __future__ import annotations

from dataclasses import dataclass

from strawberry.dataloader import DataLoader

from cdp.identity.model import IdentifierKey, Profile
from cdp.identity.service import find_profiles, get_profiles
from cdp.store.port import Store


@dataclass(slots=True)
class Loaders:
    profile_by_id: DataLoader[str, Profile | None]
    profile_by_identifier: DataLoader[IdentifierKey, Profile | None]


def build_loaders(store: Store) -> Loaders:
    async def profiles_by_id(ids: list[str]) -> list[Profile | None]:
        return await get_profiles(store, ids)

    async def profiles_by_identifier(keys: list[IdentifierKey]) -> list[Profile | None]:
        return await find_profiles(store, keys)

    return Loaders(
        profile_by_id=DataLoader(profiles_by_id),
        profile_by_identifier=DataLoader(profiles_by_identifier),
    )
