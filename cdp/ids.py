"""Identifiers for stored things: a readable prefix and a random, URL-safe body."""

from __future__ import annotations

import secrets


def new_id(prefix: str) -> str:
    return f"{prefix}_{secrets.token_hex(10)}"
