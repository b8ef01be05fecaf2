"""The committed schema.graphql is the schema the service serves."""

from __future__ import annotations

from pathlib import Path

from cdp.settings import load_settings
from graphql_schema.schema import build_schema

COMMITTED = Path(__file__).resolve().parents[2] / "schema.graphql"


def test_committed_schema_matches_the_served_one() -> None:
    served = str(build_schema(load_settings())) + "\n"

    assert COMMITTED.read_text() == served, (
        "schema.graphql is stale; regenerate it with `.venv/bin/cdp schema -o schema.graphql` "
        "and commit the result"
    )
