"""Pieces every loyalty use case shares: request fingerprints and checked keys."""

from __future__ import annotations

import hashlib
import json
from typing import Any

from cdp.errors import BadInput

MAX_KEY_LENGTH = 200


def fingerprint(payload: Any) -> str:
    """A stable digest of a request, to tell a replay from a different request on one key."""
    canonical = json.dumps(payload, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(canonical.encode()).hexdigest()


def checked_key(name: str, value: str) -> str:
    """An idempotency or external id: trimmed, 1 to 200 characters."""
    key = value.strip()
    if not 0 < len(key) <= MAX_KEY_LENGTH:
        raise BadInput(f"{name} must be 1 to {MAX_KEY_LENGTH} characters")
    return key
