"""Profiles asked for across one request cost one store round trip."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import pytest

from cdp.channel import Channel
from cdp.loyalty.adjustments import adjust_points
from cdp.runtime import Runtime
from cdp.store.catalogue import LEDGER, PROFILES
from cdp.store.port import Document, Query, Store

from .helpers import ADMIN_KEY, Gql, KeyFactory, ProfileFactory


class CountingStore:
    """The real store, with every get_many, find and find_batch call recorded (a fake at
    the port)."""

    def __init__(self, inner: Store) -> None:
        self.inner = inner
        self.get_many_calls: list[tuple[str, list[str]]] = []
        self.find_calls: list[Query] = []
        self.find_batch_calls: list[list[Query]] = []

    def __getattr__(self, name: str) -> Any:
        return getattr(self.inner, name)

    async def get_many(self, collection: str, ids: Sequence[str]) -> list[Document | None]:
        self.get_many_calls.append((collection, list(ids)))
        return await self.inner.get_many(collection, ids)

    async def find(self, query: Query) -> list[Document]:
        self.find_calls.append(query)
        return await self.inner.find(query)

    async def find_batch(self, queries: Sequence[Query]) -> list[list[Document]]:
        self.find_batch_calls.append(list(queries))
        return await self.inner.find_batch(queries)

    def ledger_reads(self) -> int:
        """Store round trips that read the ledger."""
        singles = [q for q in self.find_calls if q.collection == LEDGER]
        batches = [b for b in self.find_batch_calls if any(q.collection == LEDGER for q in b)]
        return len(singles) + len(batches)


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


HISTORIES = """
query ($ids: [ID!]!) {
  profiles(ids: $ids) {
    id
    newest: history(first: 2) {
      edges { cursor node { points } }
      pageInfo { hasNextPage endCursor }
    }
    debits: history(first: 5, types: [ADJUST]) { edges { node { points } } }
  }
}
"""
NEXT_PAGE = """
query ($id: ID!, $after: String) {
  profile(id: $id) { history(first: 2, after: $after) { edges { node { points } } } }
}
"""


async def test_history_of_many_profiles_is_one_batch_with_a_page_per_profile(
    gql: Gql, make_profile: ProfileFactory, rt: Runtime, monkeypatch: pytest.MonkeyPatch
) -> None:
    # given ten members holding 0, 1, 2, 3, 0, 1, ... adjustments of 1, 2, 3 points
    members = [await make_profile() for _ in range(10)]
    for n, profile in enumerate(members):
        for points in range(1, n % 4 + 1):
            await adjust_points(
                rt,
                profile_id=profile.id,
                points=points,
                reason="test",
                idempotency_key=f"{profile.id}-{points}",
                channel=Channel.ADMIN,
            )
    counting = CountingStore(rt.store)
    monkeypatch.setattr(rt, "store", counting)

    body = await gql(HISTORIES, {"ids": [p.id for p in members]})

    assert "errors" not in body
    # one round trip for both history fields of all ten profiles
    assert counting.ledger_reads() == 1
    [batch] = counting.find_batch_calls
    assert len(batch) == 20
    found = body["data"]["profiles"]
    for n, (profile, got) in enumerate(zip(members, found, strict=True)):
        held = list(range(n % 4, 0, -1))  # newest first
        assert got["id"] == profile.id
        assert [e["node"]["points"] for e in got["newest"]["edges"]] == held[:2]
        assert got["newest"]["pageInfo"]["hasNextPage"] is (len(held) > 2)
        assert [e["node"]["points"] for e in got["debits"]["edges"]] == held
    # the cursor of one profile's page continues that profile's history
    third = found[3]["newest"]["pageInfo"]["endCursor"]
    rest = await gql(NEXT_PAGE, {"id": members[3].id, "after": third})
    assert rest["data"]["profile"]["history"]["edges"] == [{"node": {"points": 1}}]


async def test_a_bad_page_argument_is_refused_before_the_batch(
    gql: Gql, make_profile: ProfileFactory, rt: Runtime, monkeypatch: pytest.MonkeyPatch
) -> None:
    profile = await make_profile()
    counting = CountingStore(rt.store)
    monkeypatch.setattr(rt, "store", counting)

    body = await gql(
        """query ($id: ID!) { profile(id: $id) {
             good: history(first: 1) { edges { cursor } }
             bad: history(first: 1000) { edges { cursor } } } }""",
        {"id": profile.id},
    )

    assert body["data"] == {"profile": None}  # history is non-null: the error bubbles up
    assert [(e["path"], e["extensions"]["code"]) for e in body["errors"]] == [
        (["profile", "bad"], "BAD_USER_INPUT")
    ]
    assert [len(batch) for batch in counting.find_batch_calls] == [1]  # only the good one
