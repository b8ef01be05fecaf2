"""`cdp demo load`: the members `make run` shows a new developer, loaded through the real
rules, served over GraphQL, and never twice."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from cdp.cli import app
from cdp.demo import DEMO_MEMBERS, demo_card
from cdp.enrollment.service import luhn_digit
from graphql_schema.app import create_app

from .helpers import ADMIN_KEY, TestClient, api_settings

BALANCE = """
query ($card: String!) {
  profile(identifier: {type: LOYALTY_CARD, value: $card}) {
    firstName status loyalty { balance pendingPoints tier { id } }
    history(first: 50) { edges { node { type points } } }
  }
}
"""


@pytest.fixture
def db(tmp_path: Path) -> Path:
    return tmp_path / "demo.db"


def load(db: Path, **env: str) -> str:
    runner = CliRunner(env={"CDP_STORE_URL": f"sqlite:///{db}", "CDP_ADMIN_KEY": ADMIN_KEY, **env})
    result = runner.invoke(app, ["demo", "load"])
    assert result.exit_code == 0, result.output
    return result.stdout


def member(db: Path, number: int) -> dict[str, object]:
    with TestClient(create_app(settings=api_settings(db))) as client:
        response = client.post(
            "/graphql",
            json={"query": BALANCE, "variables": {"card": demo_card(number)}},
            headers={"Authorization": f"Bearer {ADMIN_KEY}"},
        )
    body = response.json()
    assert "errors" not in body, body
    found: dict[str, object] = body["data"]["profile"]
    return found


def test_demo_cards_carry_a_valid_check_digit() -> None:
    for number in range(1, len(DEMO_MEMBERS) + 1):
        card = demo_card(number)
        assert card[-1] == luhn_digit(card[:-1])


def test_demo_load_prints_where_to_try_it_with_the_demo_key(db: Path) -> None:
    printed = load(db)

    assert "Ada Lovelace" in printed
    assert f"/demo/kiosk?key={ADMIN_KEY}" in printed
    assert f"Authorization: Bearer {ADMIN_KEY}" in printed
    assert "/graphql" in printed


def test_demo_members_follow_the_program_rules(db: Path) -> None:
    load(db)

    ada = member(db, 1)
    # Demo program: 100 enrollment + 50 completion bonus, plus the 1000-point opening
    # adjustment; the purchase is pending for 14 days: a 1000.00 coat under the 2x
    # outerwear promotion (2000) and 9.00 of coffee at the 2x coffee multiplier (18).
    assert ada["status"] == "ENROLLED"
    assert ada["loyalty"] == {"balance": 1150, "pendingPoints": 2018, "tier": {"id": "gold"}}


def test_loading_twice_adds_nothing(db: Path) -> None:
    load(db)
    first = [member(db, n) for n in range(1, len(DEMO_MEMBERS) + 1)]

    load(db)

    assert [member(db, n) for n in range(1, len(DEMO_MEMBERS) + 1)] == first


def test_demo_load_is_refused_in_production(db: Path, tmp_path: Path) -> None:
    program = Path(__file__).parents[2] / "cdp" / "loyalty" / "demo_program.toml"
    runner = CliRunner(
        env={
            "CDP_STORE_URL": f"sqlite:///{db}",
            "CDP_ENV": "production",
            "CDP_PROGRAM_FILE": str(program),
            "CDP_CUSTOMER_TOKEN_SECRET": "x" * 32,
        }
    )
    result = runner.invoke(app, ["demo", "load"])

    assert result.exit_code == 1
    assert "FORBIDDEN" in result.output
