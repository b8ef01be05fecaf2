"""Identifier links as stored: one document per normalized identifier, naming its profile.

The document's id is the identifier's key (TYPE:value), so the store's primary key is
what keeps one identifier on one live profile (invariant 1): a second link is refused
at commit, never checked for first.
"""

from __future__ import annotations

from collections.abc import Sequence

from cdp.identity.model import IdentifierKey, identifier_link_doc
from cdp.identity.placeholders import is_placeholder
from cdp.store.catalogue import IDENTIFIERS
from cdp.store.port import Store
from cdp.store.unit_of_work import UnitOfWork


async def owners(store: Store, keys: Sequence[IdentifierKey]) -> list[str | None]:
    """The id of the profile each key is linked to (None: nobody's), in key order."""
    links = await store.get_many(IDENTIFIERS, [k.key for k in keys])
    return [link["profile_id"] if link else None for link in links]


async def owner(store: Store, key: IdentifierKey) -> str | None:
    return (await owners(store, [key]))[0]


def stage_links(
    uow: UnitOfWork, profile_id: str, keys: Sequence[IdentifierKey], denylist: frozenset[str]
) -> None:
    """Point each key at the profile; the store's unique ids refuse a key held elsewhere.

    Placeholders stay on the profile but get no link: they never find or match anyone.
    """
    for key in keys:
        if not is_placeholder(key, denylist):
            uow.insert(IDENTIFIERS, identifier_link_doc(profile_id, key))


async def move_links(uow: UnitOfWork, keys: Sequence[str], to_profile: str) -> None:
    """Point the links of `keys` (identifier keys) at another profile, each versioned."""
    for link in await uow.get_many(IDENTIFIERS, list(keys)):
        if link is not None and link["profile_id"] != to_profile:
            uow.replace(
                IDENTIFIERS,
                {**link, "profile_id": to_profile, "version": link["version"] + 1},
                link["version"],
            )


async def unlink(uow: UnitOfWork, keys: Sequence[str], profile_id: str) -> None:
    """Drop the links of `keys` that point at the profile (a key may be someone else's)."""
    for link in await uow.get_many(IDENTIFIERS, list(keys)):
        if link is not None and link["profile_id"] == profile_id:
            uow.delete(IDENTIFIERS, link["id"])
