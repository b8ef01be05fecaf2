"""The version of the stored document shapes.

Every profile and lot document carries `schema`: the shape it was written in. A profile
without one was written before lots had a collection of their own (schema 1, its lots
inside it); `cdp migrate` (`cdp.migrations`) brings such a store to this version.
"""

from __future__ import annotations

SCHEMA_VERSION = 2


class OutdatedDocument(Exception):
    """A document in an earlier shape than this version reads: the store needs `cdp migrate`.

    Raised rather than read as if current: a profile of schema 1 read as schema 2 would
    lose the lots inside it the next time it is saved.
    """

    def __init__(self, collection: str, doc_id: str, schema: int) -> None:
        remedy = "run `cdp migrate`" if schema < SCHEMA_VERSION else "a later version wrote it"
        super().__init__(
            f"{collection}/{doc_id} is schema {schema}; this version reads schema "
            f"{SCHEMA_VERSION}: {remedy}"
        )


def schema_of(doc: dict[str, object]) -> int:
    """The shape a document was written in (1: before documents carried one)."""
    schema = doc.get("schema")
    return schema if isinstance(schema, int) else 1
