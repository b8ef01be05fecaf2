"""The production store: MongoDB through PyMongo's native async client.

Documents keep their `id` as `_id`. A commit is one multi-document transaction (so the
server must be a replica set); transient transaction errors, write conflicts included,
re-run the whole transaction, whose version checks then decide again. The client is
bound to the event loop that called `start`.
"""

from __future__ import annotations

import asyncio
import random
from collections.abc import Sequence
from typing import Any

from pymongo import ASCENDING, DESCENDING, AsyncMongoClient
from pymongo.asynchronous.client_session import AsyncClientSession
from pymongo.asynchronous.database import AsyncDatabase
from pymongo.errors import (
    ConnectionFailure,
    DuplicateKeyError,
    OperationFailure,
    PyMongoError,
    ServerSelectionTimeoutError,
)

from cdp.store.catalogue import CATALOGUE
from cdp.store.filters import check_indexed
from cdp.store.port import (
    Delete,
    Document,
    Filter,
    Insert,
    OneOf,
    Query,
    Range,
    Replace,
    StaleVersion,
    StoreUnavailable,
    UniqueViolation,
    Write,
)

TRANSACTION_ATTEMPTS = 20
WRITE_CONFLICT = 112


def _field(name: str) -> str:
    return "_id" if name == "id" else name


def _to_mongo(doc: Document) -> Document:
    body = dict(doc)
    body["_id"] = body.pop("id")
    return body


def _with_id(raw: Document) -> Document:
    """A copy with `id` back in place (one raw document may answer several keys)."""
    doc = dict(raw)
    doc["id"] = doc.pop("_id")
    return doc


def _from_mongo(raw: Document | None) -> Document | None:
    return None if raw is None else _with_id(raw)


def _filter(where: Filter) -> Document:
    spec: Document = {}
    for name, value in where.items():
        if isinstance(value, Range):
            bounds = {"$gt": value.gt, "$gte": value.gte, "$lt": value.lt, "$lte": value.lte}
            spec[_field(name)] = {op: b for op, b in bounds.items() if b is not None}
        elif isinstance(value, OneOf):
            spec[_field(name)] = {"$in": list(value.values)}
        else:
            spec[_field(name)] = value
    return spec


def _sort(query: Query) -> list[tuple[str, int]]:
    direction = DESCENDING if query.descending else ASCENDING
    sort = [(_field(query.order_by), direction)]
    if query.order_by != "id":
        sort.append(("_id", direction))
    return sort


BATCH_TAG = "_cdp_batch"  # which query of a batch a row answers (never stored)


def _pipeline(query: Query, position: int) -> list[Document]:
    stages: list[Document] = [{"$match": _filter(query.where)}, {"$sort": dict(_sort(query))}]
    if query.limit is not None:
        stages.append({"$limit": query.limit})
    stages.append({"$addFields": {BATCH_TAG: position}})
    return stages


def _is_transient(exc: PyMongoError) -> bool:
    if exc.has_error_label("TransientTransactionError"):
        return True
    # Some servers (the test wire server among them) report a commit-time write conflict
    # without the label; it is the same retryable condition.
    return isinstance(exc, OperationFailure) and (
        exc.code == WRITE_CONFLICT or "write conflict" in str(exc).lower()
    )


class MongoStore:
    """`Store` over a MongoDB replica set."""

    def __init__(self, url: str, database: str | None = None, timeout_ms: int = 5_000) -> None:
        self._url = url
        self._database_name = database
        self._timeout_ms = timeout_ms
        self._client: AsyncMongoClient[Document] | None = None
        self._db: AsyncDatabase[Document] | None = None

    @property
    def db(self) -> AsyncDatabase[Document]:
        if self._db is None:
            raise StoreUnavailable("store is not started")
        return self._db

    async def start(self) -> None:
        self._client = AsyncMongoClient(
            self._url,
            serverSelectionTimeoutMS=self._timeout_ms,
            connectTimeoutMS=self._timeout_ms,
            tz_aware=True,
        )
        default = self._client.get_default_database(default=self._database_name or "cdp")
        self._db = default
        try:
            existing = set(await self.db.list_collection_names())
            for collection in CATALOGUE:
                if collection.name not in existing:
                    await self.db.create_collection(collection.name)
                for index in collection.indexes:
                    await self.db[collection.name].create_index(
                        [(_field(f), ASCENDING) for f in index.fields],
                        name=index.name,
                        unique=index.unique,
                    )
        except PyMongoError as exc:  # unreachable, or refused (authentication, permissions)
            raise StoreUnavailable(f"mongodb: {exc}") from exc

    async def close(self) -> None:
        if self._client is not None:
            await self._client.close()
            self._client = None
            self._db = None

    async def ping(self) -> None:
        try:
            await self.db.command("ping")
        except PyMongoError as exc:
            raise StoreUnavailable(f"mongodb: {exc}") from exc

    async def get(self, collection: str, doc_id: str) -> Document | None:
        try:
            return _from_mongo(await self.db[collection].find_one({"_id": doc_id}))
        except (ConnectionFailure, ServerSelectionTimeoutError) as exc:
            raise StoreUnavailable(f"mongodb: {exc}") from exc

    async def get_many(self, collection: str, ids: Sequence[str]) -> list[Document | None]:
        if not ids:
            return []
        try:
            rows = await self.db[collection].find({"_id": {"$in": list(ids)}}).to_list(None)
        except (ConnectionFailure, ServerSelectionTimeoutError) as exc:
            raise StoreUnavailable(f"mongodb: {exc}") from exc
        found = {row["_id"]: row for row in rows}
        return [_from_mongo(found.get(i)) for i in ids]

    async def find(self, query: Query) -> list[Document]:
        check_indexed(query.collection, query.where, query.order_by)
        if query.limit == 0:
            return []  # MongoDB reads a limit of 0 as "no limit"
        cursor = self.db[query.collection].find(_filter(query.where)).sort(_sort(query))
        if query.limit is not None:
            cursor = cursor.limit(query.limit)
        try:
            rows = await cursor.to_list(None)
        except (ConnectionFailure, ServerSelectionTimeoutError) as exc:
            raise StoreUnavailable(f"mongodb: {exc}") from exc
        return [doc for doc in map(_from_mongo, rows) if doc is not None]

    async def find_batch(self, queries: Sequence[Query]) -> list[list[Document]]:
        """One aggregation: the first query's pipeline, then each other one through
        `$unionWith` (each sub-pipeline matches, sorts and limits on its own indexes, and
        its rows follow the previous ones in its own order), every row tagged with the
        position of its query."""
        for query in queries:
            check_indexed(query.collection, query.where, query.order_by)
        asked = [(n, q) for n, q in enumerate(queries) if q.limit != 0]
        answers: list[list[Document]] = [[] for _ in queries]
        if not asked:
            return answers
        (first_n, first), rest = asked[0], asked[1:]
        pipeline = _pipeline(first, first_n) + [
            {"$unionWith": {"coll": q.collection, "pipeline": _pipeline(q, n)}} for n, q in rest
        ]
        try:
            cursor = await self.db[first.collection].aggregate(pipeline)
            rows = await cursor.to_list(None)
        except (ConnectionFailure, ServerSelectionTimeoutError) as exc:
            raise StoreUnavailable(f"mongodb: {exc}") from exc
        for row in rows:
            position = row.pop(BATCH_TAG)
            answers[position].append(_with_id(row))
        return answers

    async def count(self, collection: str, where: Filter) -> int:
        check_indexed(collection, where, "id")
        try:
            return await self.db[collection].count_documents(_filter(where))
        except (ConnectionFailure, ServerSelectionTimeoutError) as exc:
            raise StoreUnavailable(f"mongodb: {exc}") from exc

    async def commit(self, writes: Sequence[Write]) -> None:
        if not writes:
            return
        if self._client is None:
            raise StoreUnavailable("store is not started")
        for attempt in range(TRANSACTION_ATTEMPTS):
            try:
                # The transaction needs the session, so the two cannot share one `with`.
                async with self._client.start_session() as session:  # noqa: SIM117
                    async with await session.start_transaction():
                        for write in writes:
                            await self._apply(session, write)
                return
            except (ConnectionFailure, ServerSelectionTimeoutError) as exc:
                raise StoreUnavailable(f"mongodb: {exc}") from exc
            except PyMongoError as exc:
                if not _is_transient(exc) or attempt == TRANSACTION_ATTEMPTS - 1:
                    raise
                await asyncio.sleep(random.uniform(0, 0.002 * (attempt + 1)))

    async def _apply(self, session: AsyncClientSession, write: Write) -> None:
        if isinstance(write, Insert):
            try:
                await self.db[write.collection].insert_one(_to_mongo(write.doc), session=session)
            except DuplicateKeyError as exc:
                raise UniqueViolation(write.collection, str(write.doc["id"])) from exc
        elif isinstance(write, Replace):
            body = _to_mongo(write.doc)
            try:
                result = await self.db[write.collection].replace_one(
                    {"_id": body["_id"], "version": write.expected_version}, body, session=session
                )
            except DuplicateKeyError as exc:
                raise UniqueViolation(write.collection, str(body["_id"])) from exc
            if result.matched_count != 1:
                raise StaleVersion(write.collection, str(body["_id"]))
        elif isinstance(write, Delete):
            spec: dict[str, Any] = {"_id": write.id}
            if write.expected_version is not None:
                spec["version"] = write.expected_version
            deleted = await self.db[write.collection].delete_one(spec, session=session)
            if deleted.deleted_count != 1 and write.expected_version is not None:
                raise StaleVersion(write.collection, write.id)
