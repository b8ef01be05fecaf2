"""Customer tokens: HS256 JWTs from the brand's identity provider, `sub` = app user id.

A valid token speaks for the profile holding that APP_USER_ID, and for nothing else.
"""

from __future__ import annotations

import jwt

from cdp.auth.model import Caller
from cdp.channel import Channel
from cdp.errors import Unauthenticated
from cdp.identity.model import IdentifierType
from cdp.identity.service import RawIdentifier, find_profiles, normalize
from cdp.runtime import Runtime


class TokenExpired(Unauthenticated):
    """The customer token's `exp` has passed (a WebSocket holding it closes with 4401)."""


def looks_like_jwt(token: str) -> bool:
    return token.count(".") == 2 and not token.startswith("cdp_")


async def authenticate_customer(rt: Runtime, token: str) -> Caller:
    secret = rt.settings.customer_token_secret
    if secret is None:
        raise Unauthenticated("customer tokens are not enabled on this service")
    try:
        claims = jwt.decode(
            token, secret, algorithms=["HS256"], options={"require": ["exp", "sub"]}
        )
    except jwt.ExpiredSignatureError:
        raise TokenExpired("the customer token has expired") from None
    except jwt.InvalidTokenError:
        raise Unauthenticated("the customer token is not valid") from None
    subject = str(claims["sub"])
    key = normalize(rt, RawIdentifier(IdentifierType.APP_USER_ID, subject))
    member = (await find_profiles(rt.store, [key]))[0]
    return Caller(
        key_id=f"customer:{subject}",
        name="customer",
        scopes=frozenset(),
        channel=Channel.MOBILE_APP,
        customer_profile_id=member.id if member else None,
        is_customer=True,
        expires_at=float(claims["exp"]),
    )
