"""What the identity tests share: the GraphQL documents, a thin caller, and people.

`Api` sends one operation and returns its data, failing the test on any error; `call`
returns the raw response for tests that expect an error. Figures the tests assert come
from the demo program (cdp/loyalty/demo_program.toml) and the default settings, named
here once.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from typing import Any

from tests.api.helpers import ADMIN_KEY, Gql, Json

Configure = Callable[..., None]  # the `configure` fixture: settings overrides

# Demo program and default settings.
ENROLLMENT_BONUS = 100
COMPLETION_BONUS = 50
COFFEE = 150  # reward "coffee"
SILVER = 500  # qualifying points for the silver tier
EXPIRY_MONTHS = 12
AUTO, REVIEW = 0.9, 0.1  # match thresholds
MAX_EMAILS = 3

PROFILE = """
fragment P on Profile {
  id status version mergedInto mergedFrom
  firstName lastName email phone postalCode birthDate
  enrollment { method channel enrolledAt profileComplete missingFields }
  identifiers { type value verified source }
  loyalty {
    balance pendingPoints lifetimePoints qualifyingPoints tier { id }
    expiringPoints { points expiresAt } canRedeem
  }
}
"""
MATCH = "score method matchedOn profile { ...P }"
ENROLL = f"""
mutation ($input: EnrollInput!) {{
  enroll(input: $input) {{ created profile {{ ...P }} match {{ {MATCH} }} }}
}}
{PROFILE}"""
ALLOCATE = f"""
mutation ($input: AllocateCardInput!) {{ allocateCard(input: $input) {{ ...P }} }}
{PROFILE}"""
UPDATE = f"""
mutation ($id: ID!, $input: ProfileInput!) {{ updateProfile(id: $id, input: $input) {{ ...P }} }}
{PROFILE}"""
LINK = f"""
mutation ($id: ID!, $identifier: IdentifierInput!) {{
  linkIdentifier(profileId: $id, identifier: $identifier) {{ ...P }}
}}
{PROFILE}"""
PURCHASE = """
mutation ($input: PurchaseInput!) {
  recordPurchase(input: $input) {
    orderId pointsEarned bonusPoints pendingPoints balanceAfter profile { id status }
  }
}"""
EVENTS = """
mutation ($events: [EventInput!]!) {
  recordEvents(events: $events) { results { eventId accepted duplicate profileId error } }
}"""
BY_ID = f"query ($id: ID!) {{ profile(id: $id) {{ ...P }} }}\n{PROFILE}"
BY_IDENTIFIER = f"""
query ($identifier: IdentifierInput!) {{ profile(identifier: $identifier) {{ ...P }} }}
{PROFILE}"""
SEARCH = f"""
query ($email: String, $phone: String, $firstName: String, $lastName: String,
       $postalCode: String, $birthDate: Date) {{
  searchProfiles(email: $email, phone: $phone, firstName: $firstName, lastName: $lastName,
                 postalCode: $postalCode, birthDate: $birthDate) {{ {MATCH} }}
}}
{PROFILE}"""
HISTORY = """
query ($id: ID!) {
  profile(id: $id) {
    history(first: 100) { edges { node { type points reason orderId expiresAt } } }
    redemptions { edges { node { id points reward { id } } } }
  }
}"""
REVIEWS = """
query ($status: ReviewStatus) {
  reviewQueue(status: $status) {
    edges { node { id score reasons status resolvedAt profiles { id status } } }
  }
}"""
RESOLVE = """
mutation ($id: ID!, $decision: ReviewDecision!) {
  resolveReview(id: $id, decision: $decision) { id status resolvedAt profiles { id status } }
}"""
MERGE = f"""
mutation ($survivorId: ID!, $mergedId: ID!, $reason: String) {{
  mergeProfiles(survivorId: $survivorId, mergedId: $mergedId, reason: $reason) {{ ...P }}
}}
{PROFILE}"""
UNMERGE = f"""
mutation ($mergedId: ID!, $reason: String!) {{
  unmergeProfile(mergedId: $mergedId, reason: $reason) {{ ...P }}
}}
{PROFILE}"""
ADJUST = """
mutation ($id: ID!, $points: Int!, $key: String!) {
  adjustPoints(profileId: $id, points: $points, reason: "goodwill", idempotencyKey: $key) {
    points
  }
}"""
REDEEM = """
mutation ($input: RedeemInput!) { redeemReward(input: $input) { id points } }"""
EXPORT = "query ($id: ID!) { exportProfile(id: $id) }"
FORGET = f"mutation ($id: ID!) {{ forgetProfile(id: $id) {{ ...P }} }}\n{PROFILE}"

# Person 0 as typed on another till: same person, another email and phone (-0.1 each).
ELSEWHERE = {"email": "ada@work.example.org", "phone": "+1 415 555 0199"}

PEOPLE = [
    ("Ada", "Lovelace"),
    ("Grace", "Hopper"),
    ("Alan", "Turing"),
    ("Edsger", "Dijkstra"),
    ("Barbara", "Liskov"),
    ("Donald", "Knuth"),
]


def person(n: int, **changes: Any) -> Json:
    """A complete ProfileInput for person `n`: required fields, postal code, birth date
    and street (given in attributes), every value distinct from the other people's."""
    first, last = PEOPLE[n]
    fields: Json = {
        "firstName": first,
        "lastName": last,
        "email": f"{first}.{last}@example.com".lower(),
        "phone": f"+1 415 555 01{n:02d}",
        "postalCode": f"9410{n}",
        "birthDate": date(1970 + n, n + 1, n + 10).isoformat(),
        "attributes": {"streetAddress": f"{n + 1} Main Street"},
    }
    fields.update(changes)
    return {k: v for k, v in fields.items() if v is not None}


def e164(n: int) -> str:
    """Person `n`'s phone as the API stores it."""
    return f"+141555501{n:02d}"


def luhn_valid(number: str) -> bool:
    """The Luhn check, written here independently of the product's check-digit code."""
    digits = [int(c) for c in reversed(number)]
    doubled = [d * 2 - 9 if d * 2 > 9 else d * 2 for d in digits[1::2]]
    return (sum(digits[0::2]) + sum(doubled)) % 10 == 0


def held(*profiles: Json) -> int:
    """balance + pending: what the profiles hold in all."""
    return sum(p["loyalty"]["balance"] + p["loyalty"]["pendingPoints"] for p in profiles)


class Api:
    """One GraphQL operation per call, as the admin key unless `key` is given."""

    def __init__(self, gql: Gql) -> None:
        self.gql = gql

    async def call(
        self, document: str, variables: Json | None = None, key: str = ADMIN_KEY
    ) -> Json:
        return await self.gql(document, variables, key=key)

    async def ok(self, document: str, variables: Json | None = None, key: str = ADMIN_KEY) -> Any:
        body = await self.call(document, variables, key)
        assert "errors" not in body, body["errors"]
        (value,) = body["data"].values()
        return value

    async def enroll(
        self,
        profile: Json,
        *,
        channel: str = "POS",
        identifiers: list[Json] | None = None,
        key: str = ADMIN_KEY,
    ) -> Json:
        variables = {"channel": channel, "profile": profile, "identifiers": identifiers}
        result: Json = await self.ok(ENROLL, {"input": variables}, key)
        return result

    async def member(self, n: int, **changes: Any) -> Json:
        """Person `n` enrolled on POS: the profile."""
        enrolled = await self.enroll(person(n, **changes))
        assert enrolled["created"] is True
        profile: Json = enrolled["profile"]
        return profile

    async def profile(self, profile_id: str) -> Json:
        found: Json = await self.ok(BY_ID, {"id": profile_id})
        return found

    async def find(self, type_: str, value: str) -> Json | None:
        found: Json | None = await self.ok(BY_IDENTIFIER, {"identifier": ident(type_, value)})
        return found

    async def purchase(
        self, identifier: Json, amount: float, order_id: str, *, channel: str = "POS"
    ) -> Json:
        lines = [{"sku": "sku-1", "amount": amount}]
        variables = {"channel": channel, "orderId": order_id, "identifier": identifier}
        receipt: Json = await self.ok(PURCHASE, {"input": {**variables, "lines": lines}})
        return receipt

    async def events(self, *events: Json, key: str = ADMIN_KEY) -> list[Json]:
        batch: Json = await self.ok(EVENTS, {"events": list(events)}, key)
        results: list[Json] = batch["results"]
        return results

    async def adjust(self, profile_id: str, points: int, key: str) -> None:
        await self.ok(ADJUST, {"id": profile_id, "points": points, "key": key})

    async def redeem(self, profile_id: str, reward: str, key: str) -> Json:
        redemption = {"profileId": profile_id, "rewardId": reward, "channel": "POS"}
        result: Json = await self.ok(REDEEM, {"input": {**redemption, "idempotencyKey": key}})
        return result

    async def merge(self, survivor: str, merged: str, reason: str | None = None) -> Json:
        variables = {"survivorId": survivor, "mergedId": merged, "reason": reason}
        result: Json = await self.ok(MERGE, variables)
        return result

    async def history(self, profile_id: str) -> Json:
        found: Json = await self.ok(HISTORY, {"id": profile_id})
        return found

    async def reviews(self, status: str = "OPEN") -> list[Json]:
        queue: Json = await self.ok(REVIEWS, {"status": status})
        return [edge["node"] for edge in queue["edges"]]

    async def search(self, **criteria: Any) -> list[Json]:
        matches: list[Json] = await self.ok(SEARCH, criteria)
        return matches

    async def export(self, profile_id: str) -> Json:
        exported: Json = await self.ok(EXPORT, {"id": profile_id})
        return exported


def ident(type_: str, value: str) -> Json:
    return {"type": type_, "value": value}


def event(event_id: str, *identifiers: Json, channel: str = "MOBILE_APP") -> Json:
    return {
        "eventId": event_id,
        "type": "login",
        "channel": channel,
        "identifiers": list(identifiers),
    }


def ledger(history: Json) -> list[Json]:
    return [edge["node"] for edge in history["history"]["edges"]]


def ledger_sum(history: Json) -> int:
    """What the entries add up to (invariant 2: balance + pending)."""
    return sum(entry["points"] for entry in ledger(history))
