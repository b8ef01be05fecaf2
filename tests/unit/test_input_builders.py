"""Input builders: every input value comes out as Strawberry's own conversion makes it."""

from __future__ import annotations

from typing import Any

import pytest
from graphql import OperationDefinitionNode, parse
from graphql.execution.values import get_variable_values
from strawberry.types.arguments import convert_argument
from strawberry.types.base import StrawberryObjectDefinition

from cdp.settings import load_settings
from graphql_schema.input_builders import InputBuilder
from graphql_schema.schema import build_schema

LINES = [
    {"sku": "LATTE-M", "category": "coffee", "quantity": 2, "amount": 9.0},
    {"category": "outerwear", "amount": 129.99},  # sku omitted, quantity defaults to 1
    {"sku": "BAG-01", "category": None, "quantity": None, "amount": 1.5},
]
IDENTIFIER = {"type": "EMAIL", "value": "ada@example.com"}
CASES = [
    (
        "PurchaseInput",
        {
            "channel": "POS",
            "orderId": "o-1",
            "identifier": IDENTIFIER,
            "lines": LINES,
            "storeId": "store-042",
            "registerId": None,
            "occurredAt": "2026-11-30T10:00:00+00:00",
        },
    ),
    (
        "PurchaseInput",
        {"channel": "ECOMMERCE", "orderId": "o-2", "identifier": IDENTIFIER, "lines": []},
    ),
    ("PointsQuoteInput", {"channel": "MOBILE_APP", "lines": LINES}),
    ("PointsQuoteInput", {"channel": "MOBILE_APP", "lines": LINES, "identifier": None}),
    ("ReturnInput", {"channel": "POS", "orderId": "o-1", "returnId": "r-1", "lines": LINES[:1]}),
    (
        "RedeemInput",
        {"profileId": "p_1", "rewardId": "coffee", "channel": "KIOSK", "idempotencyKey": "k"},
    ),
    (
        "EnrollInput",
        {
            "channel": "ECOMMERCE",
            "profile": {
                "firstName": "Ada",
                "birthDate": "1990-12-10",
                "attributes": {"likes": ["tea", {"hot": True}]},
            },
            "identifiers": [IDENTIFIER, {"type": "PHONE", "value": "+1 415 555 0100"}],
        },
    ),
    ("EnrollInput", {"channel": "ECOMMERCE", "profile": {}, "identifiers": None}),
    ("AllocateCardInput", {"channel": "POS"}),
    (
        "EventInput",
        {
            "eventId": "e-1",
            "type": "page_view",
            "channel": "ECOMMERCE",
            "identifiers": [IDENTIFIER],
            "properties": {"path": "/shoes"},
        },
    ),
]


def coerced(schema: Any, type_name: str, value: dict[str, Any]) -> Any:
    """The value as graphql-core hands it to Strawberry: a variable of the input type."""
    document = parse(f"query Q($v: {type_name}!) {{ __typename }}")
    operation = document.definitions[0]
    assert isinstance(operation, OperationDefinitionNode)
    variables = get_variable_values(
        schema._schema, operation.variable_definitions or (), {"v": value}
    )
    assert not isinstance(variables, list), variables
    return variables.coerced["v"]


def input_definitions(schema: Any) -> dict[str, StrawberryObjectDefinition]:
    return {
        concrete.definition.name: concrete.definition
        for concrete in schema.schema_converter.type_map.values()
        if isinstance(concrete.definition, StrawberryObjectDefinition)
        and concrete.definition.is_input
    }


def test_every_input_type_of_the_schema_is_built_from_a_plan() -> None:
    schema = build_schema(load_settings())

    built = {
        name: isinstance(d.from_input, InputBuilder)
        for name, d in input_definitions(schema).items()
    }

    assert built == dict.fromkeys(built, True)
    assert {name for name, _ in CASES} | {
        "IdentifierInput",
        "LineItemInput",
        "ProfileInput",
    } == set(built)


@pytest.mark.parametrize(("type_name", "value"), CASES)
def test_a_built_input_equals_strawberrys_conversion(
    type_name: str, value: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    schema = build_schema(load_settings())
    definitions = input_definitions(schema)
    cls = definitions[type_name].origin
    registry = schema.schema_converter.scalar_registry
    given = coerced(schema, type_name, value)

    built = convert_argument(given, cls, registry, schema.config)
    for definition in definitions.values():
        monkeypatch.setattr(definition, "from_input", None)
    expected = convert_argument(given, cls, registry, schema.config)

    assert built == expected
    assert repr(built) == repr(expected)  # the same classes all the way down
