"""Turns committed updates into broker messages, one topic per profile."""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

import structlog

from cdp.broker.port import Broker, BrokerUnavailable
from cdp.clock import to_iso
from cdp.updates import ProfileUpdate

log = structlog.get_logger(__name__)


def profile_topic(profile_id: str) -> str:
    return f"profile:{profile_id}"


def encode_update(update: ProfileUpdate) -> str:
    return json.dumps(
        {
            "kind": update.kind.value,
            "version": update.version,
            "profile": update.profile.to_doc(),
            "at": to_iso(update.at),
            "entry": update.entry.to_doc() if update.entry else None,
            "tier_changed": update.tier_changed,
            "rewards_unlocked": list(update.rewards_unlocked),
        }
    )


async def publish_updates(broker: Broker, events: Sequence[Any]) -> None:
    """Best effort: the change is committed already, so a broker outage only costs pushes."""
    for event in events:
        if not isinstance(event, ProfileUpdate):
            continue
        try:
            await broker.publish(profile_topic(event.profile.id), encode_update(event))
        except BrokerUnavailable:
            log.warning("publish_dropped", topic="profile", reason="broker unavailable")
