"""The served schema's executor: graphql-core's plain one, with what Strawberry adds."""

from __future__ import annotations

import strawberry
from graphql.execution.incremental import IncrementalExecutor
from strawberry.scalars import JSON

from graphql_schema.plain_executor import PlainExecutor
from graphql_schema.schema import build_schema
from tests.support.runtime import settings_for


@strawberry.type
class Query:
    @strawberry.field
    def extensions(self, info: strawberry.Info) -> JSON:
        return info.input_extensions


async def test_resolvers_see_the_requests_extensions() -> None:
    schema = strawberry.Schema(Query, execution_context_class=PlainExecutor)
    result = await schema.execute("{ extensions }", operation_extensions={"trace": "t-1"})
    assert result.errors is None
    assert result.data == {"extensions": {"trace": "t-1"}}


def test_the_served_schema_carries_no_incremental_state() -> None:
    executor = build_schema(settings_for("sqlite:///:memory:")).execution_context_class
    assert issubclass(executor, PlainExecutor)
    assert not issubclass(executor, IncrementalExecutor)
