"""Validation of queries against the catalogue, shared by both adapters."""

from __future__ import annotations

from cdp.store.catalogue import INDEXED_FIELDS
from cdp.store.port import Filter


def check_indexed(collection: str, where: Filter, order_by: str) -> None:
    """Refuse a query on a field no index covers, so no query scans a whole collection."""
    indexed = INDEXED_FIELDS.get(collection)
    if indexed is None:
        raise KeyError(f"unknown collection {collection!r}")
    for field in (*where, order_by):
        if field not in indexed:
            raise ValueError(f"{collection}.{field} is not indexed")
