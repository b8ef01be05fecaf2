"""Customer tokens (HS256 JWT from the brand's identity provider, sub = app user id):
the app reads `me` and redeems for that member only; everything else is FORBIDDEN."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import jwt
import pytest

from cdp.runtime import Runtime
from tests.api.helpers import codes
from tests.realtime.support import TOKEN_SECRET

from .books import ledger
from .shop import ACCOUNT_FIELDS, Shop, line, ok
from .support import customer_token

CARD, OTHER_CARD = "6037000000000009", "6037000000000010"
APP_USER = {"type": "APP_USER_ID", "value": "app-user-1"}
PROFILE = "query ($id: ID!) { profile(id: $id) { id } }"
ME = f"{{ me {{ id status loyalty {{ {ACCOUNT_FIELDS} }} }} }}"


async def test_me_is_the_member_holding_the_tokens_app_user_id(shop: Shop) -> None:
    profile_id = await shop.member(CARD, APP_USER)

    me = ok(await shop.gql(ME, key=customer_token("app-user-1")))
    nobody = ok(await shop.gql(ME, key=customer_token("app-user-unknown")))

    assert (me["id"], me["status"], me["loyalty"]["balance"]) == (profile_id, "ENROLLED", 100)
    assert nobody is None


@pytest.mark.parametrize(
    "token",
    [
        customer_token("app-user-1", expires_in=timedelta(seconds=-1)),
        jwt.encode(
            {"sub": "app-user-1", "exp": datetime.now(UTC) + timedelta(hours=1)},
            "another-secret-0123456789abcdef0123",
            algorithm="HS256",
        ),
        jwt.encode({"sub": "app-user-1"}, TOKEN_SECRET, algorithm="HS256"),
    ],
    ids=["expired", "wrong-secret", "no-exp"],
)
async def test_a_token_that_is_expired_forged_or_without_exp_is_refused(
    shop: Shop, token: str
) -> None:
    await shop.member(CARD, APP_USER)

    assert codes(await shop.gql(ME, key=token)) == ["UNAUTHENTICATED"]


async def test_a_customer_redeems_for_themselves_only(rt: Runtime, shop: Shop) -> None:
    own = await shop.member(CARD, APP_USER)
    other = await shop.member(OTHER_CARD)
    for profile_id in (own, other):
        ok(await shop.adjust(profile_id, 100))  # 200 each
    token = customer_token("app-user-1")

    mine = await shop.redeem(own, "coffee", channel="MOBILE_APP", key=token)
    theirs = await shop.redeem(other, "coffee", channel="MOBILE_APP", key=token)

    assert ok(mine)["status"] == "ISSUED"
    assert codes(theirs) == ["FORBIDDEN"]
    assert await shop.balance(own) == (50, 0)
    assert await shop.balance(other) == (200, 0)
    assert len(await ledger(rt, other)) == 2


async def test_a_customer_token_can_do_nothing_else(shop: Shop) -> None:
    profile_id = await shop.member(CARD, APP_USER)
    ok(await shop.adjust(profile_id, 50))
    token = customer_token("app-user-1")
    redemption = ok(await shop.redeem(profile_id, "coffee", channel="MOBILE_APP", key=token))

    refused = [
        await shop.purchase(CARD, line(10.00), key=token),
        await shop.adjust(profile_id, 10, key=token),
        await shop.void(redemption["id"], key=token),
        await shop.gql(PROFILE, {"id": profile_id}, key=token),
    ]

    assert [codes(body) for body in refused] == [["FORBIDDEN"]] * 4
    assert await shop.balance(profile_id) == (0, 0)


async def test_a_token_whose_user_has_no_profile_cannot_redeem(shop: Shop) -> None:
    profile_id = await shop.member(CARD)

    refused = await shop.redeem(profile_id, "coffee", key=customer_token("app-user-2"))

    assert codes(refused) == ["FORBIDDEN"]


async def test_me_needs_a_customer_token(shop: Shop) -> None:
    assert codes(await shop.gql(ME)) == ["FORBIDDEN"]
