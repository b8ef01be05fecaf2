"""Per-request DataLoaders: one store round trip for a batch, results in key order."""

from __future__ import annotations

from strawberry.dataloader import DataLoader

from cdp.identity.model import IdentifierKey, Profile
from cdp.identity.service import find_profiles, get_profiles
from cdp.loyalty.model import LedgerEntry
from cdp.loyalty.queries import HistoryPage, Page, history_pages
from cdp.store.port import Store


class Loaders:
    """Each loader is made on first use: most requests need one of them, or none."""

    __slots__ = ("_history_page", "_profile_by_id", "_profile_by_identifier", "_store")

    def __init__(self, store: Store) -> None:
        self._store = store
        self._profile_by_id: DataLoader[str, Profile | None] | None = None
        self._profile_by_identifier: DataLoader[IdentifierKey, Profile | None] | None = None
        self._history_page: DataLoader[HistoryPage, Page[LedgerEntry]] | None = None

    @property
    def profile_by_id(self) -> DataLoader[str, Profile | None]:
        if self._profile_by_id is None:
            store = self._store

            async def profiles_by_id(ids: list[str]) -> list[Profile | None]:
                return await get_profiles(store, ids)

            self._profile_by_id = DataLoader(profiles_by_id)
        return self._profile_by_id

    @property
    def profile_by_identifier(self) -> DataLoader[IdentifierKey, Profile | None]:
        if self._profile_by_identifier is None:
            store = self._store

            async def profiles_by_identifier(keys: list[IdentifierKey]) -> list[Profile | None]:
                return await find_profiles(store, keys)

            self._profile_by_identifier = DataLoader(profiles_by_identifier)
        return self._profile_by_identifier

    @property
    def history_page(self) -> DataLoader[HistoryPage, Page[LedgerEntry]]:
        """Each profile's page of history asked in one request: one store round trip."""
        if self._history_page is None:
            store = self._store

            async def history_by_page(asked: list[HistoryPage]) -> list[Page[LedgerEntry]]:
                return await history_pages(store, asked)

            self._history_page = DataLoader(history_by_page)
        return self._history_page


def build_loaders(store: Store) -> Loaders:
    return Loaders(store)
