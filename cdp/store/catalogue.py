"""Every collection the service stores, with the indexes each adapter must ensure.

Adapters read this at start-up; the domain refers to collections by these names. A
unique index on a field is how an invariant such as "one identifier, one profile" is
enforced: by the database, never by check-then-insert.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Index:
    fields: tuple[str, ...]
    unique: bool = False

    @property
    def name(self) -> str:
        return "ix_" + "_".join(self.fields) + ("_u" if self.unique else "")


@dataclass(frozen=True, slots=True)
class Collection:
    name: str
    indexes: tuple[Index, ...] = ()


PROFILES = "profiles"
IDENTIFIERS = "identifiers"
API_KEYS = "api_keys"

CATALOGUE: tuple[Collection, ...] = (
    Collection(PROFILES, (Index(("status",)),)),
    # The id of an identifier is its key (TYPE:normalized value): the primary key is
    # the unique index behind invariant 1.
    Collection(IDENTIFIERS, (Index(("profile_id",)),)),
    Collection(API_KEYS, (Index(("name",)),)),
)

INDEXED_FIELDS: dict[str, frozenset[str]] = {
    c.name: frozenset(f for ix in c.indexes for f in ix.fields) | {"id"} for c in CATALOGUE
}
