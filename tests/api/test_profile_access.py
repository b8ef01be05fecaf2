"""Personal data is guarded on every field that reaches it, not on root fields only.

One test walks the served schema from its roots to every field of type Profile (a
receipt's member, a match, a review's profiles, a pushed update...), builds a document
selecting every field of Profile at the end of each path, and runs it as every key
preset, every single scope, and a customer token (its own profile and another
member's), over HTTP and, for subscriptions, WebSocket. A caller without profiles:read
(a customer: but for its own profile) must get no Profile data anywhere. A field added
later that reaches Profile needs an example below, or this test fails naming it; one
added without the guard fails it too.
"""

from __future__ import annotations

import contextlib
import itertools
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from graphql import GraphQLObjectType, GraphQLSchema, get_named_type, is_leaf_type
from graphql import build_schema as schema_from_sdl

from cdp.auth.model import PRESETS, Caller, Scope, expand_scopes
from cdp.channel import Channel
from cdp.enrollment.service import enroll
from cdp.events.service import Event, record_events
from cdp.identity.merge import merge_profiles
from cdp.identity.model import IdentifierType, PersonalData
from cdp.identity.reviews import review_id
from cdp.identity.service import (
    RawIdentifier,
    create_profile,
    find_profiles,
    get_profiles,
    normalize,
)
from cdp.loyalty.model import LineItem
from cdp.loyalty.purchases import Purchase, record_purchase
from cdp.runtime import Runtime
from graphql_schema.app import create_app
from graphql_schema.schema import build_schema
from tests.loyalty.support import customer_token
from tests.realtime.support import TOKEN_SECRET, Live, serve, ws_session
from tests.realtime.support import gql as http_gql

from .helpers import KeyFactory

PERSONAL_TYPES = {"Profile"}
STORE = "store-walk"


def paths_to_personal_data(schema: GraphQLSchema) -> list[tuple[str, ...]]:
    """Every path from a root type to a field whose type is personal data."""
    found: list[tuple[str, ...]] = []

    def walk(type_: GraphQLObjectType, path: tuple[str, ...], seen: set[str]) -> None:
        for name, field in type_.fields.items():
            named = get_named_type(field.type)
            if named.name in PERSONAL_TYPES:
                found.append((*path, name))
            elif isinstance(named, GraphQLObjectType) and named.name not in seen:
                walk(named, (*path, name), seen | {named.name})

    for root in (schema.query_type, schema.mutation_type, schema.subscription_type):
        assert root is not None
        walk(root, (root.name,), {root.name})
    return found


def every_field(type_: GraphQLObjectType, depth: int = 0) -> str:
    """A selection of every field of `type_` (objects two levels down, leaves below)."""
    parts = []
    for name, field in type_.fields.items():
        named = get_named_type(field.type)
        if is_leaf_type(named):
            parts.append(name)
        elif isinstance(named, GraphQLObjectType) and depth < 2:
            parts.append(f"{name} {{ {every_field(named, depth + 1)} }}")
    return " ".join(parts)


@dataclass
class World:
    """The members the examples act on; `own` holds the customer token's app user id."""

    rt: Runtime
    own: str
    other: str
    counter: itertools.count[int]

    def fresh(self, prefix: str) -> str:
        return f"{prefix}-{next(self.counter)}"

    async def member(self, *, app_user: str | None = None) -> tuple[str, str, str]:
        """A new enrolled member: its id, card and email."""
        n = next(self.counter)
        card, email = f"60370000{n:08d}", f"walk{n}@example.com"
        identifiers = [RawIdentifier(IdentifierType.LOYALTY_CARD, card)]
        if app_user:
            identifiers.append(RawIdentifier(IdentifierType.APP_USER_ID, app_user))
        personal = PersonalData(
            first_name="Walk", last_name=f"Member{n}", email=email, phone=f"+1202555{n:04d}"
        )
        done = await enroll(
            self.rt, channel=Channel.POS, personal=personal, identifiers=identifiers
        )
        return done.profile.id, card, email

    async def bare(self) -> str:
        """A new profile holding one device id and nothing else (merges never hit limits)."""
        device = RawIdentifier(IdentifierType.DEVICE_ID, self.fresh("walk-device"))
        return (await create_profile(self.rt, channel=Channel.POS, identifiers=[device])).id

    async def card_and_email(self, profile_id: str) -> tuple[str, str]:
        (profile,) = await get_profiles(self.rt.store, [profile_id])
        assert profile is not None
        card = next(i.value for i in profile.identifiers if i.type is IdentifierType.LOYALTY_CARD)
        assert profile.personal.email is not None
        return card, profile.personal.email

    async def purchase(self, profile_id: str) -> str:
        card, _ = await self.card_and_email(profile_id)
        order = self.fresh("order")
        await record_purchase(
            self.rt,
            Purchase(
                channel=Channel.POS,
                order_id=order,
                identifier=RawIdentifier(IdentifierType.LOYALTY_CARD, card),
                lines=[LineItem("sku-1", "general", 1, 20.0)],
                store_id=STORE,
            ),
        )
        return order

    async def review(self, profile_id: str) -> str:
        """An open review item pairing `profile_id` with a new profile."""
        _, email = await self.card_and_email(profile_id)
        app_user = self.fresh("walk-app")
        identifiers = [
            RawIdentifier(IdentifierType.EMAIL, email),
            RawIdentifier(IdentifierType.APP_USER_ID, app_user),
        ]
        await record_events(
            self.rt, [Event(self.fresh("e"), "login", Channel.MOBILE_APP, identifiers)], actor="t"
        )
        key = normalize(self.rt, RawIdentifier(IdentifierType.APP_USER_ID, app_user))
        (apart,) = await find_profiles(self.rt.store, [key])
        assert apart is not None
        return review_id([profile_id, apart.id])


# An example for each root field that reaches personal data: given the world and the
# member to aim at, the root field with its arguments and the variables it uses.
Example = Callable[[World, str], Awaitable[tuple[str, dict[str, Any]]]]


async def _profile(w: World, target: str) -> tuple[str, dict[str, Any]]:
    return "profile(id: $id)", {"id": ("ID!", target)}


async def _profiles_of(w: World, target: str) -> tuple[str, dict[str, Any]]:
    return "profiles(ids: [$id])", {"id": ("ID!", target)}


async def _me(w: World, target: str) -> tuple[str, dict[str, Any]]:
    return "me", {}


async def _search(w: World, target: str) -> tuple[str, dict[str, Any]]:
    _, email = await w.card_and_email(target)
    return "searchProfiles(email: $email)", {"email": ("String!", email)}


async def _receipt(w: World, target: str) -> tuple[str, dict[str, Any]]:
    order = await w.purchase(target)
    return "receipt(channel: POS, orderId: $order)", {"order": ("String!", order)}


async def _review_queue(w: World, target: str) -> tuple[str, dict[str, Any]]:
    await w.review(target)
    return "reviewQueue(first: 2)", {}  # whole profiles: more would pass the cost limit


async def _enroll(w: World, target: str) -> tuple[str, dict[str, Any]]:
    _, email = await w.card_and_email(target)
    profile = {"firstName": "Walk", "lastName": "Again", "email": email, "phone": "+12025550199"}
    enrollment = {"channel": "POS", "profile": profile, "identifiers": []}
    return "enroll(input: $input)", {"input": ("EnrollInput!", enrollment)}


async def _allocate(w: World, target: str) -> tuple[str, dict[str, Any]]:
    _, email = await w.card_and_email(target)
    allocation = {"channel": "KIOSK", "identifiers": [{"type": "EMAIL", "value": email}]}
    return "allocateCard(input: $input)", {"input": ("AllocateCardInput!", allocation)}


async def _update(w: World, target: str) -> tuple[str, dict[str, Any]]:
    return 'updateProfile(id: $id, input: {postalCode: "10001"})', {"id": ("ID!", target)}


async def _link(w: World, target: str) -> tuple[str, dict[str, Any]]:
    device = {"type": "DEVICE_ID", "value": w.fresh("device")}
    return "linkIdentifier(profileId: $id, identifier: $device)", {
        "id": ("ID!", target),
        "device": ("IdentifierInput!", device),
    }


async def _purchase(w: World, target: str) -> tuple[str, dict[str, Any]]:
    card, _ = await w.card_and_email(target)
    purchase = {
        "channel": "POS",
        "orderId": w.fresh("order"),
        "identifier": {"type": "LOYALTY_CARD", "value": card},
        "lines": [{"amount": 10.0}],
    }
    return "recordPurchase(input: $input)", {"input": ("PurchaseInput!", purchase)}


async def _return(w: World, target: str) -> tuple[str, dict[str, Any]]:
    order = await w.purchase(target)
    returned = {
        "channel": "POS",
        "orderId": order,
        "returnId": w.fresh("return"),
        "lines": [{"sku": "sku-1", "amount": 5.0}],
    }
    return "recordReturn(input: $input)", {"input": ("ReturnInput!", returned)}


async def _merge(w: World, target: str) -> tuple[str, dict[str, Any]]:
    merged = await w.bare()
    return "mergeProfiles(survivorId: $id, mergedId: $merged)", {
        "id": ("ID!", target),
        "merged": ("ID!", merged),
    }


async def _unmerge(w: World, target: str) -> tuple[str, dict[str, Any]]:
    merged = await w.bare()
    await merge_profiles(w.rt, survivor_id=target, merged_id=merged, reason=None, actor="t")
    return 'unmergeProfile(mergedId: $merged, reason: "walk")', {"merged": ("ID!", merged)}


async def _resolve(w: World, target: str) -> tuple[str, dict[str, Any]]:
    item = await w.review(target)
    return "resolveReview(id: $item, decision: KEEP_SEPARATE)", {"item": ("ID!", item)}


async def _forget(w: World, target: str) -> tuple[str, dict[str, Any]]:
    doomed = await w.bare()  # never the target: forgetting is for good
    return "forgetProfile(id: $id)", {"id": ("ID!", doomed)}


async def _updates(w: World, target: str) -> tuple[str, dict[str, Any]]:
    return "profileUpdates(id: $id)", {"id": ("ID!", target)}


async def _receipts(w: World, target: str) -> tuple[str, dict[str, Any]]:
    return "receipts(storeId: $store)", {"store": ("String!", STORE)}


EXAMPLES: dict[tuple[str, str], Example] = {
    ("Query", "profile"): _profile,
    ("Query", "profiles"): _profiles_of,
    ("Query", "me"): _me,
    ("Query", "searchProfiles"): _search,
    ("Query", "receipt"): _receipt,
    ("Query", "reviewQueue"): _review_queue,
    ("Mutation", "enroll"): _enroll,
    ("Mutation", "allocateCard"): _allocate,
    ("Mutation", "updateProfile"): _update,
    ("Mutation", "linkIdentifier"): _link,
    ("Mutation", "recordPurchase"): _purchase,
    ("Mutation", "recordReturn"): _return,
    ("Mutation", "mergeProfiles"): _merge,
    ("Mutation", "unmergeProfile"): _unmerge,
    ("Mutation", "resolveReview"): _resolve,
    ("Mutation", "forgetProfile"): _forget,
    ("Subscription", "profileUpdates"): _updates,
    ("Subscription", "receipts"): _receipts,
}


def document(path: tuple[str, ...], root_call: str, variables: dict[str, Any], leaf: str) -> str:
    operation = path[0].lower()
    declared = ", ".join(f"${name}: {type_}" for name, (type_, _) in variables.items())
    head = f"{operation} ({declared})" if declared else operation
    inner = f"{{ {leaf} }}"
    for name in reversed(path[2:]):
        inner = f"{{ {name} {inner} }}"
    return f"{head} {{ {root_call} {inner} }}"


def profiles_at(data: Any, path: tuple[str, ...]) -> list[dict[str, Any]]:
    """The non-null objects at `path` (list levels flattened) in a response's data."""
    level = [data]
    for name in path:
        nxt: list[Any] = []
        for value in level:
            if isinstance(value, dict) and value.get(name) is not None:
                found = value[name]
                nxt.extend(found if isinstance(found, list) else [found])
        level = nxt
    return [p for p in level if p is not None]


async def run(
    live: Live, path: tuple[str, ...], text: str, values: dict[str, Any], key: str
) -> Any:
    if path[0] != "Subscription":
        return await http_gql(live, text, values, key=key)
    async with ws_session(live, key) as ws:
        await ws.subscribe("walk", text, values)
        first = await ws.receive()
        if first["type"] == "error":
            return {"data": None, "errors": first["payload"]}
        return first["payload"]


@dataclass(frozen=True)
class Who:
    name: str
    key: str
    caller: Caller


def entitled(who: Who, profile: dict[str, Any], world: World) -> bool:
    caller = who.caller
    if caller.allows(Scope.PROFILES_READ):
        return True
    return caller.is_customer and profile.get("id") == world.own


async def test_every_path_to_personal_data_is_guarded_for_every_caller(
    rt: Runtime, make_key: KeyFactory
) -> None:
    rt.settings = rt.settings.model_copy(update={"customer_token_secret": TOKEN_SECRET})
    app = create_app(runtime=rt)
    schema = schema_from_sdl(build_schema(rt.settings).as_str())
    world = World(rt, "", "", itertools.count(1))
    world.own, _, _ = await world.member(app_user="walk-customer")
    world.other, _, _ = await world.member()
    callers = [Who(f"preset {p}", await make_key(p), _caller(expand_scopes([p]))) for p in PRESETS]
    callers += [Who(f"scope {s.value}", await make_key(s.value), _caller({s})) for s in Scope]
    customer = Caller("customer", "customer", frozenset(), Channel.MOBILE_APP, world.own, True)
    callers.append(Who("customer token", customer_token("walk-customer"), customer))
    leaf = every_field(schema.type_map["Profile"])
    paths = paths_to_personal_data(schema)
    assert len(paths) >= 19  # the walk found the schema's paths, at least as many as today
    missing = sorted({path[:2] for path in paths} - set(EXAMPLES))
    assert not missing, f"no example for {missing}: add one to EXAMPLES"

    leaks: list[str] = []
    seen: set[tuple[str, ...]] = set()  # paths some entitled caller was shown a profile on
    fields = _names(leaf)
    async with serve(app) as live:
        for path, who in itertools.product(paths, callers):
            targets = [world.own, world.other] if who.caller.is_customer else [world.other]
            for target in targets:
                root_call, variables = await EXAMPLES[path[:2]](world, target)
                text = document(path, root_call, variables, leaf)
                values = {name: value for name, (_, value) in variables.items()}
                if path[:2] == ("Subscription", "receipts"):
                    body = await _pushed_receipt(live, world, text, values, who.key, target)
                else:
                    body = await run(live, path, text, values, who.key)
                where = f"{'.'.join(path)} as {who.name} aiming at {target}"
                for profile in profiles_at(body.get("data"), path[1:]):
                    if not entitled(who, profile, world):
                        leaks.append(f"{where}: shown {profile.get('id')}")
                    elif set(profile) != fields:
                        leaks.append(f"{where}: shown only {sorted(profile)}")
                    else:
                        seen.add(path)
    # Each example works: someone entitled saw every field of a profile on every path.
    assert leaks == []
    assert sorted(set(paths) - seen) == []


def _names(selection: str) -> set[str]:
    """The top-level field names of a selection."""
    names, depth = set(), 0
    for token in selection.replace("{", " { ").replace("}", " } ").split():
        if token == "{":
            depth += 1
        elif token == "}":
            depth -= 1
        elif depth == 0:
            names.add(token)
    return names


def _caller(scopes: set[Scope] | frozenset[Scope]) -> Caller:
    return Caller("k", "k", frozenset(scopes), Channel.POS)


async def _pushed_receipt(
    live: Live, world: World, text: str, values: dict[str, Any], key: str, target: str
) -> Any:
    """The receipts subscription's first push: a purchase by `target` at the store."""
    async with ws_session(live, key) as ws:
        await ws.subscribe("walk", text, values)
        with contextlib.suppress(TimeoutError):  # a refused subscription answers at once
            refused = await ws.receive(0.2)
            return {"data": None, "errors": refused["payload"]}
        await world.purchase(target)
        first = await ws.receive()
        if first["type"] == "error":
            return {"data": None, "errors": first["payload"]}
        return first["payload"]
