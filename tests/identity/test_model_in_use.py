"""The match model meets each store at its size (MatchModel.at_size), the store's
count read at most every COUNT_SECONDS: a count per resolution would cost more than it."""

from __future__ import annotations

import pytest

from cdp.channel import Channel
from cdp.identity import model_in_use as in_use
from cdp.identity.match_model import model_of
from cdp.identity.model import PersonalData
from cdp.identity.service import create_profile
from cdp.runtime import Runtime


async def test_the_count_is_read_again_only_once_its_time_is_up(
    rt: Runtime, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(in_use, "COUNT_SECONDS", 0.0)
    before = await in_use.record_count(rt.store)
    monkeypatch.setattr(in_use, "COUNT_SECONDS", 3600.0)
    await create_profile(rt, channel=Channel.POS, personal=PersonalData("Ada", "Lovelace"))

    assert await in_use.record_count(rt.store) == before  # counted moments ago
    monkeypatch.setattr(in_use, "COUNT_SECONDS", 0.0)
    assert await in_use.record_count(rt.store) == before + 1


async def test_the_model_in_use_is_the_configured_one_at_the_stores_size(
    rt: Runtime, monkeypatch: pytest.MonkeyPatch
) -> None:
    packaged = model_of(rt.settings)
    trained = packaged.trained["records"]

    async def counted(store: object) -> int:
        return sizes.pop(0)

    sizes = [trained // 2, trained * 10]
    monkeypatch.setattr(in_use, "record_count", counted)

    assert await in_use.model_in_use(rt.store, rt.settings) is packaged
    larger = await in_use.model_in_use(rt.store, rt.settings)
    assert larger.prior == pytest.approx(packaged.prior / 10, rel=0.05)
