"""The loyalty operations as GraphQL documents, and a driver that calls them over the
real ASGI app like a till or an app would."""

from __future__ import annotations

import itertools
from datetime import datetime
from typing import Any

from tests.api.helpers import ADMIN_KEY, Gql, Json

RECEIPT_FIELDS = """
    orderId channel storeId registerId pointsEarned bonusPoints pendingPoints balanceAfter
    tier { id } tierChanged rewardsUnlocked { id } createdAt profile { id status }
"""
ACCOUNT_FIELDS = """
    balance pendingPoints lifetimePoints qualifyingPoints tier { id } nextTier { id }
    pointsToNextTier tierProgress expiringPoints { points expiresAt } canRedeem
"""
REDEMPTION_FIELDS = "id reward { id cost } points code status channel createdAt"
ENTRY_FIELDS = "id type points balanceAfter channel reason orderId availableAt expiresAt"

PURCHASE = f"""
mutation ($input: PurchaseInput!) {{ recordPurchase(input: $input) {{ {RECEIPT_FIELDS} }} }}
"""
RETURN = f"""
mutation ($input: ReturnInput!) {{ recordReturn(input: $input) {{ {RECEIPT_FIELDS} }} }}
"""
REDEEM = f"""
mutation ($input: RedeemInput!) {{ redeemReward(input: $input) {{ {REDEMPTION_FIELDS} }} }}
"""
VOID = f"""
mutation ($id: ID!, $reason: String) {{
  voidRedemption(id: $id, reason: $reason) {{ {REDEMPTION_FIELDS} }}
}}
"""
ADJUST = f"""
mutation ($profileId: ID!, $points: Int!, $reason: String!, $key: String!) {{
  adjustPoints(profileId: $profileId, points: $points, reason: $reason, idempotencyKey: $key) {{
    {ENTRY_FIELDS}
  }}
}}
"""
ENROLL = """
mutation ($input: EnrollInput!) { enroll(input: $input) { created profile { id status } } }
"""
ACCOUNT = f"""
query ($id: ID!) {{
  profile(id: $id) {{ status loyalty {{ {ACCOUNT_FIELDS} }} availableRewards {{ id }} }}
}}
"""
HISTORY = f"""
query ($id: ID!, $first: Int, $after: String, $types: [LedgerEntryType!]) {{
  profile(id: $id) {{
    history(first: $first, after: $after, types: $types) {{
      edges {{ cursor node {{ {ENTRY_FIELDS} }} }}
      pageInfo {{ hasNextPage endCursor }}
    }}
  }}
}}
"""
REDEMPTIONS = f"""
query ($id: ID!, $first: Int, $after: String) {{
  profile(id: $id) {{
    redemptions(first: $first, after: $after) {{
      edges {{ cursor node {{ {REDEMPTION_FIELDS} }} }}
      pageInfo {{ hasNextPage endCursor }}
    }}
  }}
}}
"""


def ok(body: Json) -> Any:
    """The one field a successful response holds; fails showing the errors otherwise."""
    assert "errors" not in body, body["errors"]
    (value,) = body["data"].values()
    return value


def line(
    amount: float, category: str = "general", *, sku: str | None = None, quantity: int = 1
) -> Json:
    return {"sku": sku, "category": category, "quantity": quantity, "amount": amount}


def card_id(card: str) -> Json:
    return {"type": "LOYALTY_CARD", "value": card}


def iso(moment: datetime) -> str:
    return moment.isoformat()


class Shop:
    """The loyalty operations over GraphQL, as tills and apps call them.

    Every method returns the whole response body, so a test can look at its errors;
    `ok(body)` unwraps a success. Order ids, return ids and idempotency keys are drawn
    fresh unless given.
    """

    def __init__(self, gql: Gql) -> None:
        self.gql = gql
        self.ids = itertools.count(1)

    def _given_or_next(self, given: str | None, prefix: str) -> str:
        return f"{prefix}-{next(self.ids)}" if given is None else given

    async def purchase(
        self,
        card: str,
        *lines: Json,
        order_id: str | None = None,
        channel: str = "POS",
        occurred_at: datetime | None = None,
        key: str | None = ADMIN_KEY,
        **extra: Any,
    ) -> Json:
        purchase = {
            "channel": channel,
            "orderId": self._given_or_next(order_id, "order"),
            "identifier": card_id(card),
            "lines": list(lines),
            "occurredAt": iso(occurred_at) if occurred_at else None,
            **extra,
        }
        return await self.gql(PURCHASE, {"input": purchase}, key=key)

    async def give_back(
        self,
        order_id: str,
        *lines: Json,
        return_id: str | None = None,
        channel: str = "POS",
        occurred_at: datetime | None = None,
    ) -> Json:
        returned = {
            "channel": channel,
            "orderId": order_id,
            "returnId": self._given_or_next(return_id, "return"),
            "lines": list(lines),
            "occurredAt": iso(occurred_at) if occurred_at else None,
        }
        return await self.gql(RETURN, {"input": returned})

    async def enroll(
        self,
        card: str,
        *others: Json,
        complete: bool = False,
        key: str | None = ADMIN_KEY,
        **profile: Any,
    ) -> Json:
        """Enroll the holder of `card` (and `others` identifiers) with the required fields
        filled in; `complete` adds the postal code and birth date of the completion bonus."""
        n = next(self.ids)
        fields = {
            "firstName": "Ada",
            "lastName": f"Member{n}",
            "email": f"member{n}@example.com",
            "phone": f"+1202555{100 + n % 100:04d}",
            **({"postalCode": "10001", "birthDate": "1990-05-17"} if complete else {}),
            **profile,
        }
        variables = {
            "input": {"channel": "POS", "profile": fields, "identifiers": [card_id(card), *others]}
        }
        return await self.gql(ENROLL, variables, key=key)

    async def member(self, card: str, *others: Json, **profile: Any) -> str:
        """The id of a newly ENROLLED member holding `card` (balance: the enrollment bonus)."""
        enrolled = ok(await self.enroll(card, *others, **profile))
        assert enrolled["profile"]["status"] == "ENROLLED"
        return str(enrolled["profile"]["id"])

    async def redeem(
        self,
        profile_id: str,
        reward_id: str,
        *,
        idempotency_key: str | None = None,
        channel: str = "POS",
        key: str | None = ADMIN_KEY,
    ) -> Json:
        redeem = {
            "profileId": profile_id,
            "rewardId": reward_id,
            "channel": channel,
            "idempotencyKey": self._given_or_next(idempotency_key, "redeem"),
        }
        return await self.gql(REDEEM, {"input": redeem}, key=key)

    async def void(
        self, redemption_id: str, reason: str | None = None, *, key: str | None = ADMIN_KEY
    ) -> Json:
        return await self.gql(VOID, {"id": redemption_id, "reason": reason}, key=key)

    async def adjust(
        self,
        profile_id: str,
        points: int,
        *,
        reason: str = "goodwill",
        idempotency_key: str | None = None,
        key: str | None = ADMIN_KEY,
    ) -> Json:
        variables = {
            "profileId": profile_id,
            "points": points,
            "reason": reason,
            "key": self._given_or_next(idempotency_key, "adjust"),
        }
        return await self.gql(ADJUST, variables, key=key)

    async def account(self, profile_id: str) -> Json:
        """The profile's status, `loyalty` and `availableRewards` (ids)."""
        profile: Json = ok(await self.gql(ACCOUNT, {"id": profile_id}))
        return profile

    async def balance(self, profile_id: str) -> tuple[int, int]:
        """(balance, pendingPoints) as the API reports them."""
        loyalty = (await self.account(profile_id))["loyalty"]
        return loyalty["balance"], loyalty["pendingPoints"]

    async def history(self, profile_id: str, **page: Any) -> Json:
        connection: Json = ok(await self.gql(HISTORY, {"id": profile_id, **page}))["history"]
        return connection
