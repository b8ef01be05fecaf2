"""Demo members for a developer's first run: a few customers with history on every channel.

Loaded through the same use cases a till or an import would call, so the demo shows the
real rules at work (bonuses, promotions, tiers, pending points), and idempotent: every
write is keyed (import resolution, order ids, adjustment keys), so loading twice adds
nothing. Refused in production, where members come from real channels.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from cdp.channel import Channel
from cdp.enrollment.service import import_member, luhn_digit
from cdp.errors import Forbidden
from cdp.identity.model import IdentifierType, PersonalData, Profile
from cdp.identity.service import RawIdentifier, get_profile
from cdp.loyalty.adjustments import adjust_points
from cdp.loyalty.model import LineItem
from cdp.loyalty.purchases import Purchase, record_purchase
from cdp.runtime import Runtime

DEMO_STORE = "store-1"
DEMO_REGISTER = "till-1"


def demo_card(number: int) -> str:
    """A fixed card number with a valid check digit, like the ones `allocateCard` hands out."""
    body = f"6037000{number:08d}"
    return body + luhn_digit(body)


@dataclass(frozen=True, slots=True)
class DemoMember:
    personal: PersonalData
    card: str
    opening_points: int  # an adjustment, so the demo has rewards to redeem at once
    basket: tuple[LineItem, ...]  # one purchase at the demo till; amounts are line totals


DEMO_MEMBERS = (
    DemoMember(
        PersonalData(
            first_name="Ada",
            last_name="Lovelace",
            email="ada@example.com",
            phone="+14155550101",
            postal_code="94107",
            birth_date=date(1985, 12, 10),
        ),
        card=demo_card(1),
        opening_points=1000,
        basket=(LineItem("COAT-1", "outerwear", 1, 1000.0), LineItem("LATTE", "coffee", 2, 9.0)),
    ),
    DemoMember(
        PersonalData(
            first_name="Grace",
            last_name="Hopper",
            email="grace@example.com",
            phone="+14155550102",
            postal_code="10001",
        ),
        card=demo_card(2),
        opening_points=400,
        basket=(LineItem("PARKA-1", "outerwear", 1, 300.0),),
    ),
    DemoMember(
        PersonalData(first_name="Alan", last_name="Turing", email="alan@example.com"),
        card=demo_card(3),
        opening_points=0,
        basket=(LineItem("BAG", "reusable-bag", 1, 2.0), LineItem("LATTE", "coffee", 1, 4.5)),
    ),
)


async def load_demo(rt: Runtime) -> list[Profile]:
    """The demo members, as they stand after loading (created, or found again)."""
    if rt.settings.production:
        raise Forbidden("the demo data is for development only (CDP_ENV=development)")
    loaded = []
    for number, member in enumerate(DEMO_MEMBERS, start=1):
        card = RawIdentifier(IdentifierType.LOYALTY_CARD, member.card)
        enrolled = await import_member(rt, personal=member.personal, identifiers=[card])
        profile_id = enrolled.profile.id
        if member.opening_points:
            await adjust_points(
                rt,
                profile_id=profile_id,
                points=member.opening_points,
                reason="demo opening balance",
                idempotency_key=f"demo-opening-{number}",
                channel=Channel.ADMIN,
            )
        await record_purchase(
            rt,
            Purchase(
                channel=Channel.POS,
                order_id=f"demo-order-{number}",
                identifier=card,
                lines=list(member.basket),
                store_id=DEMO_STORE,
                register_id=DEMO_REGISTER,
            ),
        )
        profile = await get_profile(rt.store, profile_id)
        assert profile is not None, "a demo member was just written"
        loaded.append(profile)
    return loaded
