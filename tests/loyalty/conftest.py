"""Loyalty tests run through the real ASGI app on both stores, on a clock they move.

`rt` is the shared `runtime` (SQLite and MongoDB) with three things swapped in: a
movable clock starting at `START`, the `program` fixture (the demo program, or a variant
a test names with `parametrize("program", [...], indirect=True)`), and customer tokens
enabled.
"""

from __future__ import annotations

import pytest

from cdp.loyalty.program import DEMO_PROGRAM, Program, load_program
from cdp.runtime import Runtime
from tests.api.conftest import client, gql, make_key
from tests.api.helpers import Gql
from tests.realtime.support import TOKEN_SECRET, MovableClock

from .shop import Shop
from .support import START

__all__ = ["client", "gql", "make_key"]  # fixtures shared with tests/api


@pytest.fixture
def clock() -> MovableClock:
    clock = MovableClock()
    clock.moment = START
    return clock


@pytest.fixture
def program(request: pytest.FixtureRequest) -> Program:
    """The demo program, or a variant given by `parametrize("program", ..., indirect=True)`."""
    variant: Program | None = getattr(request, "param", None)
    return variant or load_program(DEMO_PROGRAM)


@pytest.fixture
def rt(runtime: Runtime, clock: MovableClock, program: Program) -> Runtime:
    runtime.clock = clock
    runtime.program = program
    runtime.settings = runtime.settings.model_copy(update={"customer_token_secret": TOKEN_SECRET})
    return runtime


@pytest.fixture
def shop(gql: Gql) -> Shop:
    return Shop(gql)
