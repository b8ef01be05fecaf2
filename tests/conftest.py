"""Fixtures every test folder may use: a started store and runtime, on each adapter.

`store` and `runtime` are parametrized over "sqlite" and "mongo". The MongoDB adapter
runs over the real wire protocol: against CDP_TEST_MONGODB_URL when set (a replica
set), else against one mongoeco wire server started for the session. Every test gets
its own database (or SQLite file), so tests never see each other's data.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import pytest

from cdp.runtime import Runtime
from cdp.store.mongo import MongoStore
from cdp.store.port import Store
from cdp.store.sqlite import SQLiteStore
from tests.support.mongo import start_mongoeco
from tests.support.runtime import runtime_on, settings_for

STORES = ["sqlite", pytest.param("mongo", marks=pytest.mark.mongo)]


@pytest.fixture(scope="session")
def mongo_url() -> Iterator[str]:
    """A MongoDB server for the whole session (synchronous: no event loop is bound)."""
    configured = os.environ.get("CDP_TEST_MONGODB_URL")
    if configured:
        yield configured
        return
    uri, stop = start_mongoeco()
    try:
        yield uri
    finally:
        stop()


def with_database(url: str, database: str) -> str:
    """`url` naming `database` as its default database."""
    parts = urlsplit(url)
    return urlunsplit(parts._replace(path=f"/{database}"))


@asynccontextmanager
async def open_store(
    kind: str, request: pytest.FixtureRequest, tmp_path: Path
) -> AsyncIterator[tuple[Store, str]]:
    """A started store of `kind` on fresh data, and its store URL; dropped afterwards."""
    if kind == "sqlite":
        path = tmp_path / "cdp.db"
        sqlite = SQLiteStore(path)
        await sqlite.start()
        try:
            yield sqlite, f"sqlite:///{path}"
        finally:
            await sqlite.close()
        return
    # Made here, in the test's own event loop: a PyMongo async client is bound to it.
    database = f"t_{uuid.uuid4().hex}"
    url = with_database(request.getfixturevalue("mongo_url"), database)
    mongo = MongoStore(url, database=database)
    await mongo.start()
    try:
        yield mongo, url
    finally:
        await mongo.db.client.drop_database(database)
        await mongo.close()


@pytest.fixture(params=STORES)
async def opened_store(
    request: pytest.FixtureRequest, tmp_path: Path
) -> AsyncIterator[tuple[Store, str]]:
    """A started store on each adapter, with the URL a `cdp` process would reach it by."""
    async with open_store(request.param, request, tmp_path) as opened:
        yield opened


@pytest.fixture
def store(opened_store: tuple[Store, str]) -> Store:
    return opened_store[0]


@pytest.fixture
async def runtime(opened_store: tuple[Store, str]) -> AsyncIterator[Runtime]:
    """A started runtime with the demo program, on each store."""
    store, url = opened_store
    async with runtime_on(store, settings_for(url)) as rt:
        yield rt
