"""Turns committed updates into broker messages: one topic per profile, and receipts
per store and per store + register."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import structlog

from cdp.broker.port import Broker, BrokerUnavailable
from cdp.loyalty.model import Receipt
from cdp.realtime.messages import (
    encode_receipt,
    encode_update,
    profile_topic,
    receipt_topics,
)
from cdp.updates import ProfileUpdate

log = structlog.get_logger(__name__)


def messages(
    events: Sequence[Any], listened: Callable[[str], bool] = lambda topic: True
) -> list[tuple[str, str]]:
    """(topic, message) for every event a unit of work recorded, in recorded order, for
    the topics someone may listen to.

    A receipt carries its member's change saved by the same unit of work (the last update
    recorded for that profile), so a receipt showing balance and tier needs no store read.
    """
    saved = {e.profile.id: e for e in events if isinstance(e, ProfileUpdate)}
    out: list[tuple[str, str]] = []
    for event in events:
        if isinstance(event, ProfileUpdate):
            topic = profile_topic(event.profile.id)
            if listened(topic):
                out.append((topic, encode_update(event)))
        elif isinstance(event, Receipt):
            topics = [t for t in receipt_topics(event) if listened(t)]
            if topics:
                message = encode_receipt(event, saved.get(event.profile_id))
                out.extend((topic, message) for topic in topics)
    return out


async def publish_updates(broker: Broker, events: Sequence[Any]) -> None:
    """Best effort: the change is committed already, so a broker outage only costs pushes."""
    try:
        outgoing = messages(events, broker.listened)
    except Exception:
        log.exception("publish_encode_failed")
        return
    for topic, message in outgoing:
        try:
            await broker.publish(topic, message)
        except BrokerUnavailable:
            log.warning("publish_dropped", topic=topic.split(":", 1)[0], reason="broker down")
            return  # the rest would fail the same way; the reader is reconnecting
        except Exception:
            log.exception("publish_failed", topic=topic.split(":", 1)[0])
