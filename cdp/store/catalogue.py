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
ORDERS = "orders"
ORDER_EXPIRIES = "order_expiries"
RETURNS = "returns"
LEDGER = "ledger"
LOTS = "lots"
REDEMPTIONS = "redemptions"
REWARD_STOCK = "reward_stock"
IDEMPOTENCY = "idempotency"
MATCH_KEYS = "match_keys"
REVIEWS = "reviews"
AUDIT = "audit"
EVENTS = "events"
MERGES = "merges"
WEBHOOK_ENDPOINTS = "webhook_endpoints"
DELIVERIES = "deliveries"
SYNC_LOG = "sync_log"
INBOUND = "inbound"

CATALOGUE: tuple[Collection, ...] = (
    Collection(PROFILES, (Index(("status",)), Index(("due_at",)))),
    # The id of an identifier is its key (TYPE:normalized value): the primary key is
    # the unique index behind invariant 1.
    Collection(IDENTIFIERS, (Index(("profile_id",)),)),
    Collection(API_KEYS, (Index(("name",)),)),
    # Ids carry the idempotency keys: "<channel>:<orderId>" and "<channel>:<returnId>".
    Collection(ORDERS, (Index(("profile_id",)),)),
    Collection(RETURNS, (Index(("order_key",)),)),
    # What expired of an order's points, one document per expired lot (id: the lot's), so
    # a later return does not take those points back a second time.
    Collection(ORDER_EXPIRIES, (Index(("order_key",)),)),
    # Ids are "<profile id>.<sequence>"; sort_key is "<created at>|<id>", the time order
    # a history page follows, across a survivor and the profiles merged into it.
    Collection(
        LEDGER, (Index(("profile_id", "sort_key")), Index(("profile_id", "type", "sort_key")))
    ),
    # Points lots, held by one profile each (`profile_id`), indexed for what the engine
    # asks: a member's due lots, the available ones oldest first (spend_key is unset
    # while pending), those with an expiry, and an order's (a return).
    Collection(
        LOTS,
        (
            Index(("profile_id", "due_at")),
            Index(("profile_id", "spend_key")),
            Index(("profile_id", "expires_at")),
            Index(("order_key",)),
        ),
    ),
    Collection(
        REDEMPTIONS,
        (Index(("code",), unique=True), Index(("profile_id", "sort_key"))),
    ),
    Collection(REWARD_STOCK),
    # "<operation>:<caller's key>" -> what the first call produced, for replays. Markers
    # with an `at` expire (cdp.retention); import markers carry none and stay.
    Collection(IDEMPOTENCY, (Index(("at",)),)),
    # Blocking keys for probabilistic matching: id "<key>#<profile id>". Ordered by id
    # within a key, so reading a key's first `key_limit` + 1 rows stops there however
    # many profiles share it.
    Collection(MATCH_KEYS, (Index(("key", "id")), Index(("profile_id",)))),
    # One review item per pair of profiles: id derived from the sorted pair.
    Collection(REVIEWS, (Index(("status", "sort_key")),)),
    # One row per profile an audited action touched: id "<action id>:<profile id>".
    Collection(AUDIT, (Index(("profile_id", "at")), Index(("action", "at")))),
    # Inbound events, id "<channel>:<eventId>" (the idempotency key).
    Collection(EVENTS, (Index(("profile_id",)),)),
    # What a merge moved, keyed by the merged profile's id, so it can be undone exactly.
    Collection(MERGES, (Index(("survivor_id",)),)),
    Collection(WEBHOOK_ENDPOINTS, (Index(("active",)),)),
    # The outbox: written in the same commit as the change it announces (invariant 7).
    Collection(
        DELIVERIES,
        (
            Index(("status", "next_attempt_at")),
            Index(("status", "sort_key")),
            Index(("endpoint_id", "status", "sort_key")),
            Index(("endpoint_id", "profile_id", "status", "sort_key")),
            Index(("profile_id",)),  # a member's deliveries, to export or redact them
        ),
    ),
    # Every inbound delivery and outbound attempt, per sync point, for syncHealth.
    Collection(SYNC_LOG, (Index(("point", "at")), Index(("point", "ok", "at")), Index(("at",)))),
    # Inbound events already applied, id "<source>:<event id>".
    Collection(INBOUND, (Index(("at",)),)),
)

INDEXED_FIELDS: dict[str, frozenset[str]] = {
    c.name: frozenset(f for ix in c.indexes for f in ix.fields) | {"id"} for c in CATALOGUE
}
