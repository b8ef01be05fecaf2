"""Identity tests: GraphQL over the real ASGI app on both stores, with a clock they move.

`rt` is the shared `runtime` (SQLite and MongoDB) with a movable clock, so lots, expiry
dates and "older profile survives" are known to the test. The HTTP client and key
factory are the API tests' own fixtures, imported rather than copied.
"""

from __future__ import annotations

from typing import Any

import pytest

from cdp.runtime import Runtime
from tests.api import conftest as api_fixtures
from tests.api.helpers import Gql
from tests.realtime.support import MovableClock

from .support import Api, Configure

# The API tests' HTTP client, GraphQL caller and key factory, registered here as well.
client = api_fixtures.client
gql = api_fixtures.gql
make_key = api_fixtures.make_key


@pytest.fixture
def clock() -> MovableClock:
    return MovableClock()


@pytest.fixture
def rt(runtime: Runtime, clock: MovableClock) -> Runtime:
    """The shared runtime (each store) on the test's clock."""
    runtime.clock = clock
    return runtime


@pytest.fixture
def configure(rt: Runtime) -> Configure:
    """`configure(identity_denylist=...)`: change settings for the rest of the test."""

    def change(**overrides: Any) -> None:
        rt.settings = rt.settings.model_copy(update=overrides)

    return change


@pytest.fixture
def api(gql: Gql) -> Api:
    return Api(gql)
