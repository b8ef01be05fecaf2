"""HMAC-SHA256 signatures over a timestamp and the raw body, both directions.

Header: `X-CDP-Signature: t=<unix seconds>,v1=<hex hmac of "<t>.<body>">`. The timestamp
inside the signed text is what makes a replayed old request detectable.
"""

from __future__ import annotations

import hashlib
import hmac

SIGNATURE_HEADER = "X-CDP-Signature"


def sign(secret: str, body: bytes, timestamp: int) -> str:
    digest = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256)
    return f"t={timestamp},v1={digest.hexdigest()}"


class BadSignature(Exception):
    """Missing, malformed, wrong, or outside the tolerance window."""


def verify(secret: str, body: bytes, header: str | None, now: int, tolerance: int) -> None:
    if not header:
        raise BadSignature("missing signature")
    if not header.isascii():  # a signature is hex and digits; compare_digest takes no other
        raise BadSignature("malformed signature")
    parts = dict(p.split("=", 1) for p in header.split(",") if "=" in p)
    try:
        timestamp = int(parts["t"])
        given = parts["v1"]
    except (KeyError, ValueError):
        raise BadSignature("malformed signature") from None
    if abs(now - timestamp) > tolerance:
        raise BadSignature("timestamp outside the tolerance window")
    expected = sign(secret, body, timestamp).split("v1=", 1)[1]
    if not hmac.compare_digest(expected, given):
        raise BadSignature("signature does not match")
