"""The match model in use, at the size of the store it scores against.

A model's prior depends on how many records the store holds (MatchModel.at_size).
Counting them at every resolution would cost more than the resolution, and the count
moves slowly, so each store's is read at most every COUNT_SECONDS.
"""

from __future__ import annotations

import time
from weakref import WeakKeyDictionary

from cdp.identity.match_model import MatchModel, model_of
from cdp.identity.profile_repository import KEYED, count_profiles
from cdp.settings import Settings
from cdp.store.port import Store

COUNT_SECONDS = 60.0

_counted: WeakKeyDictionary[Store, tuple[float, int]] = WeakKeyDictionary()


async def model_in_use(store: Store, settings: Settings) -> MatchModel:
    """CDP_MATCH_MODEL_FILE's model (or the packaged one) for `store`'s size."""
    return model_of(settings).at_size(await record_count(store))


async def record_count(store: Store) -> int:
    """The profiles `store` holds that carry a record (merged ones included: each is a
    record a survivor is compared through; the records `cdp identity train` counts), as
    counted at most COUNT_SECONDS ago."""
    now = time.monotonic()
    counted = _counted.get(store)
    if counted is None or now - counted[0] >= COUNT_SECONDS:
        counted = (now, await count_profiles(store, KEYED))
        _counted[store] = counted
    return counted[1]
