"""Pieces every loyalty use case shares: request fingerprints and checked keys."""

from __future__ import annotations

import hashlib
import json
from typing import Any

from cdp.errors import BadInput

MAX_KEY_LENGTH = 200
# Who asks when the service is called in-process (the CLI, the demo loader, jobs).
OPERATOR = "operator"


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


def replay_allowed(stored_by: str | None, requested_by: str) -> bool:
    """Whether a stored result may answer a replay from `requested_by`: an idempotency key
    belongs to whoever used it first (results stored before callers were recorded, None,
    answer anyone, as they always did)."""
    return stored_by is None or stored_by == requested_by
