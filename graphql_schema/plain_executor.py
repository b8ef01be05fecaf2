"""Strawberry's executor on graphql-core's plain executor, not its incremental one.

Strawberry builds its executor on `IncrementalExecutor`, which only `@defer` / `@stream`
need, and this schema has neither (graphql-core's `execute` refuses a schema that has
them; its `subscribe` runs the plain executor by default). The incremental state, two
maps, four lists and six more attributes (which take the instance dict past the 30 keys
CPython shares between instances: 1.6 KB instead of 0.3 KB), is about 2 KB per
executor, and an idle subscription keeps its executor for life.
"""

from __future__ import annotations

from typing import Any

from graphql import GraphQLField, GraphQLObjectType, GraphQLResolveInfo
from graphql.execution.executor_throwing_on_incremental import ExecutorThrowingOnIncremental
from graphql.language import FieldNode
from graphql.pyutils import Path
from strawberry.schema.schema import StrawberryGraphQLCoreExecutionContext


class PlainExecutor(ExecutorThrowingOnIncremental):
    """What Strawberry's executor adds to graphql-core's: the request's `extensions`,
    which Strawberry passes in and resolvers read as `info.input_extensions`."""

    def __init__(
        self, *args: Any, operation_extensions: dict[str, Any] | None = None, **kwargs: Any
    ) -> None:
        super().__init__(*args, **kwargs)
        self.operation_extensions = operation_extensions

    def build_resolve_info(
        self,
        field_def: GraphQLField,
        field_nodes: list[FieldNode],
        parent_type: GraphQLObjectType,
        path: Path,
    ) -> GraphQLResolveInfo[Any]:
        # Strawberry's own, which reads only attributes this executor has too.
        build = StrawberryGraphQLCoreExecutionContext.build_resolve_info
        return build(self, field_def, field_nodes, parent_type, path)  # type: ignore[arg-type]
