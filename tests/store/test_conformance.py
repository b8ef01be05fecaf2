"""The storage port's contract, run on every adapter (the `store` fixture is parametrized).

Documents here are plain rows in real collections of the catalogue, chosen for their
indexes: the ledger (profile_id, type, sort_key), profiles (status, due_at) and
redemptions (a unique `code`).
"""

from __future__ import annotations

from typing import Any

import pytest

from cdp.store.catalogue import DELIVERIES, LEDGER, PROFILES, REDEMPTIONS
from cdp.store.port import (
    Delete,
    Document,
    Insert,
    OneOf,
    Query,
    Range,
    Replace,
    StaleVersion,
    Store,
    UniqueViolation,
)


def entry(doc_id: str, profile_id: str = "p1", sort_key: str = "", **fields: Any) -> Document:
    """A ledger row; `sort_key` defaults to the id so id order and time order agree."""
    return {
        "id": doc_id,
        "version": 0,
        "profile_id": profile_id,
        "type": "EARN",
        "sort_key": sort_key or doc_id,
        **fields,
    }


async def stored(store: Store, *docs: Document, collection: str = LEDGER) -> None:
    await store.commit([Insert(collection, doc) for doc in docs])


async def ids(store: Store, query: Query) -> list[str]:
    return [doc["id"] for doc in await store.find(query)]


# --- reads by id ----------------------------------------------------------------------


async def test_insert_then_get_returns_the_same_document(store: Store) -> None:
    doc = entry(
        "e1",
        points=120,
        rate=1.5,
        pending=False,
        note=None,
        tags=["a", "b"],
        detail={"sku": "Crème brûlée", "qty": 2, "nested": {"ok": True}},
    )
    await stored(store, doc)

    assert await store.get(LEDGER, "e1") == doc


async def test_get_of_a_missing_id_is_none(store: Store) -> None:
    await stored(store, entry("e1"))

    assert await store.get(LEDGER, "nope") is None
    assert await store.get(PROFILES, "e1") is None


async def test_get_many_answers_in_the_order_asked_with_none_for_missing(store: Store) -> None:
    await stored(store, entry("a"), entry("b"), entry("c"))

    docs = await store.get_many(LEDGER, ["c", "missing", "a", "c"])

    assert docs == [entry("c"), None, entry("a"), entry("c")]


async def test_get_many_of_no_ids_is_empty(store: Store) -> None:
    await stored(store, entry("a"))

    assert await store.get_many(LEDGER, []) == []


# --- queries ----------------------------------------------------------------------------


async def test_find_by_equality(store: Store) -> None:
    await stored(store, entry("e1", "p1"), entry("e2", "p2"), entry("e3", "p1"))

    assert await ids(store, Query(LEDGER, {"profile_id": "p1"})) == ["e1", "e3"]
    assert await ids(store, Query(LEDGER, {"profile_id": "p3"})) == []


async def test_find_with_several_conditions_needs_all_of_them(store: Store) -> None:
    await stored(
        store,
        entry("e1", "p1", type="EARN"),
        entry("e2", "p1", type="REDEEM"),
        entry("e3", "p2", type="REDEEM"),
    )

    assert await ids(store, Query(LEDGER, {"profile_id": "p1", "type": "REDEEM"})) == ["e2"]


async def test_find_by_range(store: Store) -> None:
    await stored(store, *(entry(f"e{i}", sort_key=f"2025-01-0{i}") for i in range(1, 6)))

    half_open = Range(gte="2025-01-02", lt="2025-01-04")
    assert await ids(store, Query(LEDGER, {"sort_key": half_open})) == ["e2", "e3"]
    other_half = Range(gt="2025-01-02", lte="2025-01-04")
    assert await ids(store, Query(LEDGER, {"sort_key": other_half})) == ["e3", "e4"]
    assert await ids(store, Query(LEDGER, {"sort_key": Range(gt="2025-01-04")})) == ["e5"]
    assert await ids(store, Query(LEDGER, {"sort_key": Range(lt="2025-01-02")})) == ["e1"]


async def test_find_by_range_on_numbers(store: Store) -> None:
    await stored(
        store,
        *(entry(f"d{n}", sort_key="s", next_attempt_at=n, status="PENDING") for n in (5, 10, 20)),
        collection=DELIVERIES,
    )

    query = Query(DELIVERIES, {"status": "PENDING", "next_attempt_at": Range(gte=6, lte=20)})
    assert await ids(store, query) == ["d10", "d20"]


async def test_find_one_of(store: Store) -> None:
    await stored(store, entry("e1", "p1"), entry("e2", "p2"), entry("e3", "p3"))

    assert await ids(store, Query(LEDGER, {"profile_id": OneOf(("p3", "p1", "p9"))})) == [
        "e1",
        "e3",
    ]


async def test_find_equal_to_none_matches_null(store: Store) -> None:
    await stored(
        store,
        {"id": "p1", "version": 1, "status": "ENROLLED", "due_at": None},
        {"id": "p2", "version": 1, "status": "ENROLLED", "due_at": "2025-03-01"},
        collection=PROFILES,
    )

    assert await ids(store, Query(PROFILES, {"due_at": None})) == ["p1"]


async def test_find_orders_by_a_field_then_by_id(store: Store) -> None:
    await stored(
        store,
        entry("a", sort_key="2025-01-03"),
        entry("b", sort_key="2025-01-01"),
        entry("c", sort_key="2025-01-02"),
        entry("d", sort_key="2025-01-01"),
    )
    where = {"profile_id": "p1"}

    assert await ids(store, Query(LEDGER, where, order_by="sort_key")) == ["b", "d", "c", "a"]
    assert await ids(store, Query(LEDGER, where, order_by="sort_key", descending=True)) == [
        "a",
        "c",
        "d",
        "b",
    ]
    assert await ids(store, Query(LEDGER, where)) == ["a", "b", "c", "d"]
    assert await ids(store, Query(LEDGER, where, descending=True)) == ["d", "c", "b", "a"]


async def test_find_with_limit(store: Store) -> None:
    await stored(store, *(entry(f"e{i}", sort_key=f"2025-01-0{i}") for i in range(1, 6)))
    where = {"profile_id": "p1"}

    assert await ids(store, Query(LEDGER, where, order_by="sort_key", limit=2)) == ["e1", "e2"]
    newest = Query(LEDGER, where, order_by="sort_key", descending=True, limit=3)
    assert await ids(store, newest) == ["e5", "e4", "e3"]
    assert await ids(store, Query(LEDGER, where, limit=10)) == ["e1", "e2", "e3", "e4", "e5"]
    assert await ids(store, Query(LEDGER, where, limit=0)) == []


async def test_find_batch_answers_each_query_as_find_would_in_the_order_asked(
    store: Store,
) -> None:
    await stored(
        store,
        *(entry(f"a{i}", "pa", sort_key=f"2025-01-0{i}") for i in range(1, 5)),
        *(entry(f"b{i}", "pb", sort_key=f"2025-01-0{i}") for i in range(1, 3)),
    )
    await store.commit([Insert(PROFILES, {"id": "p1", "version": 0, "status": "ENROLLED"})])
    queries = [
        Query(LEDGER, {"profile_id": "pb"}, order_by="sort_key", descending=True, limit=5),
        Query(
            LEDGER, {"profile_id": "pa", "sort_key": Range(lt="2025-01-04")}, "sort_key", True, 2
        ),
        Query(LEDGER, {"profile_id": "nobody"}),
        Query(LEDGER, {"profile_id": "pa"}, limit=0),
        Query(PROFILES, {"status": "ENROLLED"}),
        Query(LEDGER, {"profile_id": OneOf(("pa", "pb"))}, order_by="sort_key", limit=3),
    ]

    answers = await store.find_batch(queries)

    assert [[doc["id"] for doc in docs] for docs in answers] == [
        ["b2", "b1"],
        ["a3", "a2"],
        [],
        [],
        ["p1"],
        ["a1", "b1", "a2"],
    ]
    assert answers == [await store.find(query) for query in queries]
    assert await store.find_batch([]) == []


async def test_count(store: Store) -> None:
    await stored(
        store,
        entry("e1", "p1", sort_key="1"),
        entry("e2", "p2", sort_key="2"),
        entry("e3", "p1", sort_key="3"),
    )

    assert await store.count(LEDGER, {}) == 3
    assert await store.count(LEDGER, {"profile_id": "p1"}) == 2
    assert await store.count(LEDGER, {"profile_id": "p1", "sort_key": Range(gt="1")}) == 1
    assert await store.count(LEDGER, {"profile_id": OneOf(("p1", "p2"))}) == 3
    assert await store.count(REDEMPTIONS, {}) == 0


@pytest.mark.parametrize(
    "query",
    [
        Query(LEDGER, {"points": 5}),
        Query(LEDGER, {"profile_id": "p1", "points": Range(gt=1)}),
        Query(LEDGER, {"profile_id": "p1"}, order_by="points"),
        Query(PROFILES, {"personal.email": "a@b.com"}),
    ],
    ids=["equality", "range", "order_by", "nested"],
)
async def test_a_query_on_a_field_no_index_covers_is_refused(store: Store, query: Query) -> None:
    await stored(store, entry("e1", points=5))

    with pytest.raises(ValueError, match="is not indexed") as raised:
        await store.find(query)

    field = next(f for f in (*query.where, query.order_by) if f not in ("profile_id", "id"))
    assert str(raised.value) == f"{query.collection}.{field} is not indexed"


async def test_a_count_on_a_field_no_index_covers_is_refused(store: Store) -> None:
    with pytest.raises(ValueError, match=r"^ledger\.points is not indexed$"):
        await store.count(LEDGER, {"points": 5})


async def test_a_query_on_an_unknown_collection_is_refused(store: Store) -> None:
    with pytest.raises(KeyError, match="unknown collection 'nothing'"):
        await store.find(Query("nothing", {}))


# --- writes -----------------------------------------------------------------------------


async def test_insert_of_a_taken_id_raises_unique_violation(store: Store) -> None:
    await stored(store, entry("e1", points=1))

    with pytest.raises(UniqueViolation) as raised:
        await store.commit([Insert(LEDGER, entry("e1", points=2))])

    assert (raised.value.collection, raised.value.key) == (LEDGER, "e1")
    assert await store.get(LEDGER, "e1") == entry("e1", points=1)


async def test_insert_of_a_taken_unique_key_raises_unique_violation(store: Store) -> None:
    await stored(store, redemption("r1", code="ABC"), collection=REDEMPTIONS)

    with pytest.raises(UniqueViolation) as raised:
        await store.commit([Insert(REDEMPTIONS, redemption("r2", code="ABC"))])

    assert raised.value.collection == REDEMPTIONS
    assert await store.count(REDEMPTIONS, {}) == 1


async def test_replace_onto_a_taken_unique_key_raises_and_changes_nothing(store: Store) -> None:
    await stored(
        store, redemption("r1", code="ABC"), redemption("r2", code="XYZ"), collection=REDEMPTIONS
    )

    taken = {**redemption("r2", code="ABC"), "version": 1}
    with pytest.raises(UniqueViolation) as raised:
        await store.commit([Replace(REDEMPTIONS, taken, expected_version=0)])

    assert raised.value.collection == REDEMPTIONS
    assert await store.get_many(REDEMPTIONS, ["r1", "r2"]) == [
        redemption("r1", code="ABC"),
        redemption("r2", code="XYZ"),
    ]


def redemption(doc_id: str, *, code: str) -> Document:
    return {"id": doc_id, "version": 0, "code": code, "profile_id": "p1", "sort_key": doc_id}


async def test_replace_stores_the_new_document_and_its_version(store: Store) -> None:
    await stored(store, entry("e1", points=1))

    after = {**entry("e1", points=2), "version": 1}
    await store.commit([Replace(LEDGER, after, expected_version=0)])

    assert await store.get(LEDGER, "e1") == after
    # The stored version is the one the document carries: the next writer must name it.
    with pytest.raises(StaleVersion):
        await store.commit([Replace(LEDGER, {**after, "version": 2}, expected_version=0)])
    await store.commit([Replace(LEDGER, {**after, "version": 2}, expected_version=1)])
    assert await store.get(LEDGER, "e1") == {**after, "version": 2}


async def test_replace_with_the_wrong_version_raises_stale_and_changes_nothing(
    store: Store,
) -> None:
    before = {**entry("e1", points=1), "version": 3}
    await stored(store, before)

    with pytest.raises(StaleVersion) as raised:
        await store.commit([Replace(LEDGER, {**before, "points": 9, "version": 4}, 2)])

    assert (raised.value.collection, raised.value.doc_id) == (LEDGER, "e1")
    assert await store.get(LEDGER, "e1") == before


async def test_replace_of_a_missing_document_raises_stale(store: Store) -> None:
    with pytest.raises(StaleVersion):
        await store.commit([Replace(LEDGER, {**entry("ghost"), "version": 1}, 0)])

    assert await store.get(LEDGER, "ghost") is None


async def test_delete_without_expected_version(store: Store) -> None:
    await stored(store, entry("e1"), entry("e2"))

    await store.commit([Delete(LEDGER, "e1")])
    # Deleting what is not there, without a version to check, is not an error.
    await store.commit([Delete(LEDGER, "e1"), Delete(LEDGER, "never")])

    assert await store.get_many(LEDGER, ["e1", "e2"]) == [None, entry("e2")]


async def test_delete_with_expected_version(store: Store) -> None:
    await stored(store, {**entry("e1"), "version": 2}, {**entry("e2"), "version": 2})

    await store.commit([Delete(LEDGER, "e1", expected_version=2)])
    with pytest.raises(StaleVersion) as raised:
        await store.commit([Delete(LEDGER, "e2", expected_version=1)])
    with pytest.raises(StaleVersion):
        await store.commit([Delete(LEDGER, "e1", expected_version=2)])

    assert (raised.value.collection, raised.value.doc_id) == (LEDGER, "e2")
    assert await store.get_many(LEDGER, ["e1", "e2"]) == [None, {**entry("e2"), "version": 2}]


async def test_commit_of_no_writes_does_nothing(store: Store) -> None:
    await store.commit([])

    assert await store.count(LEDGER, {}) == 0


async def test_a_commit_spans_collections(store: Store) -> None:
    await store.commit(
        [
            Insert(PROFILES, {"id": "p1", "version": 1, "status": "ALLOCATED"}),
            Insert(LEDGER, entry("e1", "p1")),
            Insert(REDEMPTIONS, redemption("r1", code="C1")),
        ]
    )

    assert await store.count(PROFILES, {}) == 1
    assert await store.count(LEDGER, {"profile_id": "p1"}) == 1
    assert await store.count(REDEMPTIONS, {}) == 1


# --- all or nothing ---------------------------------------------------------------------


async def given_three_rows(store: Store) -> tuple[Document, Document, Document]:
    a, b, taken = ({**entry(i), "version": 1} for i in ("a", "b", "taken"))
    await stored(store, a, b, taken)
    return a, b, taken


async def test_a_unique_collision_mid_batch_leaves_none_of_the_batch(store: Store) -> None:
    a, b, taken = await given_three_rows(store)

    with pytest.raises(UniqueViolation) as raised:
        await store.commit(
            [
                Replace(LEDGER, {**a, "points": 5, "version": 2}, expected_version=1),
                Delete(LEDGER, "b", expected_version=1),
                Insert(LEDGER, entry("new")),
                Insert(LEDGER, entry("taken")),  # collides
                Insert(LEDGER, entry("after")),
            ]
        )

    assert (raised.value.collection, raised.value.key) == (LEDGER, "taken")
    assert await store.get_many(LEDGER, ["a", "b", "taken", "new", "after"]) == [
        a,
        b,
        taken,
        None,
        None,
    ]
    assert await store.count(LEDGER, {}) == 3


async def test_a_stale_version_mid_batch_leaves_none_of_the_batch(store: Store) -> None:
    a, b, taken = await given_three_rows(store)

    with pytest.raises(StaleVersion):
        await store.commit(
            [
                Insert(LEDGER, entry("new")),
                Delete(LEDGER, "taken"),
                Replace(LEDGER, {**a, "points": 5, "version": 2}, expected_version=1),
                Replace(LEDGER, {**b, "points": 5, "version": 9}, expected_version=8),  # stale
            ]
        )

    assert await store.get_many(LEDGER, ["a", "b", "taken", "new"]) == [a, b, taken, None]


async def test_a_failed_commit_leaves_the_store_usable(store: Store) -> None:
    await stored(store, entry("a"))
    with pytest.raises(UniqueViolation):
        await store.commit([Insert(LEDGER, entry("b")), Insert(LEDGER, entry("a"))])

    await store.commit([Insert(LEDGER, entry("b"))])

    assert await ids(store, Query(LEDGER, {})) == ["a", "b"]


async def test_ping_answers_on_a_started_store(store: Store) -> None:
    await store.ping()
