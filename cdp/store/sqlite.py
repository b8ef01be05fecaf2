"""The embedded store: one SQLite file, JSON documents, a writer thread and a reader.

Each collection is a table (id, version, doc). Every commit runs as one function on the
store's own thread, so a whole unit of work costs one thread hop; units that queue up
while the thread is busy share one transaction (`group_commit`), and checkpoints run on
a thread of their own (`checkpointer`). WAL and a busy timeout
let several processes share the file; commits take the write lock up front with
`BEGIN IMMEDIATE`, so a version check and the write that follows it cannot interleave
with another process's.

Small reads run on the event loop's thread, on a connection of their own: under WAL a
reader never waits for a writer, and an indexed read of a few rows takes microseconds,
far less than the two thread switches a hop costs. A read sees every commit that returned
before it started. Should the reader ever meet a lock (a WAL being recovered after a
crash), it gives up at once and the read goes to the store's thread, which may wait.
Reads that may be large (a find without a limit or above `INLINE_ROWS`, many ids, a
count) run on a reader thread of their own, so one member with a long history, or an
export, never holds up the other requests on the loop.
"""

from __future__ import annotations

import asyncio
import sqlite3
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, TypeVar

from cdp.json_text import dumps, loads
from cdp.store.catalogue import CATALOGUE
from cdp.store.checkpointer import Checkpointer
from cdp.store.filters import check_indexed
from cdp.store.group_commit import GroupCommit
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

T = TypeVar("T")
BUSY_TIMEOUT_MS = 10_000
INLINE_ROWS = 200  # at most this many rows are read on the event loop's thread


def _column(field: str) -> str:
    if field in ("id", "version"):
        return field
    return f"json_extract(doc, '$.{field}')"


def _where_sql(where: Filter) -> tuple[str, list[Any]]:
    clauses: list[str] = []
    params: list[Any] = []
    for field, value in where.items():
        column = _column(field)
        if isinstance(value, Range):
            for op, bound in (
                ("<", value.lt),
                ("<=", value.lte),
                (">", value.gt),
                (">=", value.gte),
            ):
                if bound is not None:
                    clauses.append(f"{column} {op} ?")
                    params.append(bound)
        elif isinstance(value, OneOf):
            clauses.append(f"{column} IN ({','.join('?' * len(value.values))})")
            params.extend(value.values)
        elif value is None:
            clauses.append(f"{column} IS NULL")
        else:
            clauses.append(f"{column} = ?")
            params.append(value)
    return (" AND ".join(clauses) or "1"), params


def _find_sql(query: Query) -> tuple[str, list[Any]]:
    check_indexed(query.collection, query.where, query.order_by)
    clause, params = _where_sql(query.where)
    direction = "DESC" if query.descending else "ASC"
    sql = (
        f"SELECT doc FROM {query.collection} WHERE {clause} "
        f"ORDER BY {_column(query.order_by)} {direction}, id {direction}"
    )
    if query.limit is not None:
        sql += " LIMIT ?"
        params.append(query.limit)
    return sql, params


class SQLiteStore:
    """`Store` over a SQLite file (or `:memory:` for unit tests)."""

    def __init__(self, path: str | Path) -> None:
        self._path = str(path)
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="sqlite-store")
        self._conn: sqlite3.Connection | None = None
        self._reader: sqlite3.Connection | None = None  # None for :memory:, or not started
        self._heavy_reader: sqlite3.Connection | None = None  # the same, for large reads
        self._heavy = ThreadPoolExecutor(max_workers=1, thread_name_prefix="sqlite-reader")
        self._checkpointer: Checkpointer | None = None  # None for :memory:, or not started
        self._commits = GroupCommit(
            self._executor, self._connection, _apply_one, self._committed, self._before_begin
        )

    async def _run(self, fn: Callable[[sqlite3.Connection], T]) -> T:
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._executor, self._call, fn)

    async def _read(self, fn: Callable[[sqlite3.Connection], T]) -> T:
        """`fn` on the reader, in line; on the store's thread when the reader is locked out."""
        reader = self._reader
        if reader is not None:
            try:
                return fn(reader)
            except sqlite3.OperationalError as exc:
                if "locked" not in str(exc) and "busy" not in str(exc):
                    raise StoreUnavailable(f"sqlite: {exc}") from exc
        return await self._run(fn)

    async def _read_large(self, fn: Callable[[sqlite3.Connection], T]) -> T:
        """`fn` on the large-read thread's own reader (the store's thread for :memory:)."""
        reader = self._heavy_reader
        if reader is None:
            return await self._run(fn)
        loop = asyncio.get_running_loop()
        try:
            return await loop.run_in_executor(self._heavy, fn, reader)
        except sqlite3.OperationalError as exc:
            raise StoreUnavailable(f"sqlite: {exc}") from exc

    def _call(self, fn: Callable[[sqlite3.Connection], T]) -> T:
        try:
            return fn(self._connection())
        except sqlite3.OperationalError as exc:
            raise StoreUnavailable(f"sqlite: {exc}") from exc

    async def start(self) -> None:
        loop = asyncio.get_running_loop()
        try:
            await loop.run_in_executor(self._executor, self._open)
        except (OSError, sqlite3.Error) as exc:  # a folder it cannot make, a file it cannot write
            raise StoreUnavailable(f"sqlite: cannot open {self._path}: {exc}") from exc
        if self._path != ":memory:":
            reader = sqlite3.connect(self._path, isolation_level=None, check_same_thread=False)
            reader.execute("PRAGMA busy_timeout = 0")  # never block the event loop
            reader.execute("PRAGMA query_only = 1")
            self._reader = reader
            heavy = sqlite3.connect(self._path, isolation_level=None, check_same_thread=False)
            heavy.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")  # off the loop: may wait
            heavy.execute("PRAGMA query_only = 1")
            self._heavy_reader = heavy
            self._checkpointer = Checkpointer(self._path)
            self._checkpointer.start()

    def _before_begin(self, conn: sqlite3.Connection) -> None:
        if self._checkpointer is not None:
            self._checkpointer.finish_pass(conn)

    def _committed(self, units: int) -> None:
        if self._checkpointer is not None:
            self._checkpointer.committed(units)

    def _open(self) -> None:
        if self._path != ":memory:":
            Path(self._path).parent.mkdir(parents=True, exist_ok=True)
        conn = sqlite3.connect(self._path, isolation_level=None, check_same_thread=False)
        conn.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
        _enable_wal(conn)
        conn.execute("PRAGMA synchronous = NORMAL")
        conn.execute("BEGIN IMMEDIATE")
        for collection in CATALOGUE:
            conn.execute(
                f"CREATE TABLE IF NOT EXISTS {collection.name} "
                "(id TEXT PRIMARY KEY, version INTEGER NOT NULL, doc TEXT NOT NULL)"
            )
            for index in collection.indexes:
                columns = ", ".join(_column(f) for f in index.fields)
                unique = "UNIQUE " if index.unique else ""
                conn.execute(
                    f"CREATE {unique}INDEX IF NOT EXISTS {collection.name}_{index.name} "
                    f"ON {collection.name} ({columns})"
                )
        conn.execute("COMMIT")
        self._conn = conn

    async def close(self) -> None:
        loop = asyncio.get_running_loop()
        if self._checkpointer is not None:
            await loop.run_in_executor(None, self._checkpointer.stop)
            self._checkpointer = None
        await loop.run_in_executor(self._heavy, self._close_heavy_reader)
        self._heavy.shutdown(wait=True)
        await loop.run_in_executor(self._executor, self._close)
        self._executor.shutdown(wait=True)

    def _close_heavy_reader(self) -> None:
        if self._heavy_reader is not None:
            self._heavy_reader.close()
            self._heavy_reader = None

    def _close(self) -> None:
        if self._reader is not None:
            self._reader.close()
            self._reader = None
        if self._conn is not None:
            self._conn.close()
            self._conn = None

    async def ping(self) -> None:
        await self._run(lambda conn: conn.execute("SELECT 1").fetchone())

    async def get(self, collection: str, doc_id: str) -> Document | None:
        def read(conn: sqlite3.Connection) -> Document | None:
            # fetchall, not fetchone: a statement left unfinished would hold the reader's
            # snapshot open, and later reads would not see later commits.
            rows = conn.execute(f"SELECT doc FROM {collection} WHERE id = ?", (doc_id,)).fetchall()
            return loads(rows[0][0]) if rows else None

        return await self._read(read)

    async def get_many(self, collection: str, ids: Sequence[str]) -> list[Document | None]:
        if not ids:
            return []

        def read(conn: sqlite3.Connection) -> list[Document | None]:
            marks = ",".join("?" * len(ids))
            rows = conn.execute(
                f"SELECT id, doc FROM {collection} WHERE id IN ({marks})", list(ids)
            ).fetchall()
            found = {row[0]: loads(row[1]) for row in rows}
            return [found.get(i) for i in ids]

        if len(ids) > INLINE_ROWS:
            return await self._read_large(read)
        return await self._read(read)

    async def find(self, query: Query) -> list[Document]:
        sql, params = _find_sql(query)

        def read(conn: sqlite3.Connection) -> list[Document]:
            return [loads(row[0]) for row in conn.execute(sql, params)]

        if query.limit is None or query.limit > INLINE_ROWS:
            return await self._read_large(read)
        return await self._read(read)

    async def find_batch(self, queries: Sequence[Query]) -> list[list[Document]]:
        statements = [_find_sql(query) for query in queries]

        def read(conn: sqlite3.Connection) -> list[list[Document]]:
            return [
                [loads(row[0]) for row in conn.execute(sql, params)] for sql, params in statements
            ]

        return await self._read(read)

    async def count(self, collection: str, where: Filter) -> int:
        check_indexed(collection, where, "id")
        clause, params = _where_sql(where)
        sql = f"SELECT COUNT(*) FROM {collection} WHERE {clause}"
        return await self._read_large(lambda conn: int(conn.execute(sql, params).fetchall()[0][0]))

    async def commit(self, writes: Sequence[Write]) -> None:
        if writes:
            await self._commits.commit(writes)

    def _connection(self) -> sqlite3.Connection:
        if self._conn is None:
            raise StoreUnavailable("store is not started")
        return self._conn


def _enable_wal(conn: sqlite3.Connection) -> None:
    """Switch the file to WAL, waiting out another process opening the same new file.

    While another connection is setting up a new file, the switch can fail with "database
    is locked" at once: SQLite does not apply the busy timeout to it.
    """
    deadline = time.monotonic() + BUSY_TIMEOUT_MS / 1000
    while True:
        try:
            conn.execute("PRAGMA journal_mode = WAL")
            return
        except sqlite3.OperationalError as exc:
            if "locked" not in str(exc) or time.monotonic() > deadline:
                raise
            time.sleep(0.01)


def _apply_one(conn: sqlite3.Connection, write: Write) -> None:
    if isinstance(write, Insert):
        doc = write.doc
        try:
            conn.execute(
                f"INSERT INTO {write.collection} (id, version, doc) VALUES (?, ?, ?)",
                (doc["id"], doc.get("version", 0), dumps(doc)),
            )
        except sqlite3.IntegrityError as exc:
            raise UniqueViolation(write.collection, str(doc["id"])) from exc
    elif isinstance(write, Replace):
        doc = write.doc
        try:
            cursor = conn.execute(
                f"UPDATE {write.collection} SET version = ?, doc = ? WHERE id = ? AND version = ?",
                (doc.get("version", 0), dumps(doc), doc["id"], write.expected_version),
            )
        except sqlite3.IntegrityError as exc:
            raise UniqueViolation(write.collection, str(doc["id"])) from exc
        if cursor.rowcount != 1:
            raise StaleVersion(write.collection, str(doc["id"]))
    elif isinstance(write, Delete):
        sql = f"DELETE FROM {write.collection} WHERE id = ?"
        params: list[Any] = [write.id]
        if write.expected_version is not None:
            sql += " AND version = ?"
            params.append(write.expected_version)
        if conn.execute(sql, params).rowcount != 1 and write.expected_version is not None:
            raise StaleVersion(write.collection, write.id)
