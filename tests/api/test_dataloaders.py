"""Profiles asked for across one request cost one store round trip."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import pytest

from cdp.runtime import Runtime
from cdp.store.catalogue import PROFILES
from cdp.store.port import Document, Store

from .helpers import ADMIN_KEY, Gql, KeyFactory, ProfileFactory


class CountingStore:
    """The real store, with every get_many call recorded (a fake at the port)."""

    def __init__(self, inner: Store) -> None:
        self.inner = inner
        self.get_many_calls: list[tuple[str, list[str]]] = []

    def __getattr__(self, name: str) -> Any:
        return getattr(self.inner, name)

    async def get_many(self, collection: str, ids: Sequence[str]) -> list[Document | None]:
        self.get_many_calls.append((collection, list(ids)))
        return await self.inner.get_many(collection, ids)


QUERY = """
query ($a: ID!, $b: ID!, $ids: [ID!]!) {
  a: profile(id: $a) { id }
  b: profile(id: $b) { id }
  c: profiles(ids: $ids) { id }
}
"""


@pytest.mark.parametrize("caller", ["admin key", "stored key"])
async def test_profile_lookups_in_one_request_are_one_get_many(
    gql: Gql,
    make_profile: ProfileFactory,
    make_key: KeyFactory,
    rt: Runtime,
    monkeypatch: pytest.MonkeyPatch,
    caller: str,
) -> None:
    first = await make_profile()
    second = await make_profile()
    # A stored key is looked up (not yet cached) while the root fields wait on it.
    key = ADMIN_KEY if caller == "admin key" else await make_key("pos")
    counting = CountingStore(rt.store)
    monkeypatch.setattr(rt, "store", counting)

    body = await gql(
        QUERY, {"a": first.id, "b": second.id, "ids": [second.id, "p_unknown"]}, key=key
    )

    assert body == {
        "data": {
            "a": {"id": first.id},
            "b": {"id": second.id},
            "c": [{"id": second.id}, None],
        }
    }
    profile_calls = [ids for collection, ids in counting.get_many_calls if collection == PROFILES]
    assert profile_calls == [[first.id, second.id, "p_unknown"]]
