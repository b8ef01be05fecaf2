"""Checks on arguments the schema types cannot express."""

from __future__ import annotations

from collections.abc import Sized

from cdp.errors import BadInput

MAX_LIST_ARGUMENT = 100


def capped(name: str, values: Sized, limit: int = MAX_LIST_ARGUMENT) -> None:
    if len(values) > limit:
        raise BadInput(f"{name} takes at most {limit} items")
