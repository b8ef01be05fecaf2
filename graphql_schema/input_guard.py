"""Every string a request sends, in the document or in its variables, is plain text
(`cdp.text`): no NUL, other control characters or bidirectional-formatting characters
in a name, an email, a reason, a key name or any other field; and no JSON value nested
deeper than `cdp.text.MAX_NESTING`.

The document's literals are checked by a validation rule (so once per document, cached
with it); the variables, which change with each request, as execution starts. Either
way the request is refused with BAD_USER_INPUT before any resolver runs. A subscription's
variables are checked by the WebSocket handlers (graphql_schema/websocket.py) as it
starts: Strawberry's subscribe path has no execution hook to refuse it from.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from graphql import (
    ExecutionResult,
    GraphQLError,
    ListValueNode,
    ObjectValueNode,
    StringValueNode,
    ValidationRule,
)
from strawberry.extensions import SchemaExtension

from cdp.errors import BadInput
from cdp.text import MAX_NESTING, require_plain_value, unsafe_character


class PlainLiterals(ValidationRule):
    """String literals are plain text; list and object literals nest at most MAX_NESTING."""

    def __init__(self, context: Any) -> None:
        super().__init__(context)
        self.nesting = 0

    def enter_string_value(self, node: StringValueNode, *_: Any) -> None:
        character = unsafe_character(node.value)
        if character is not None:
            message = f"a string contains {character}, a control or bidirectional character"
            self.report_error(GraphQLError(message, node))

    def enter_list_value(self, node: ListValueNode, *_: Any) -> None:
        self._deeper(node)

    def enter_object_value(self, node: ObjectValueNode, *_: Any) -> None:
        self._deeper(node)

    def leave_list_value(self, *_: Any) -> None:
        self.nesting -= 1

    def leave_object_value(self, *_: Any) -> None:
        self.nesting -= 1

    def _deeper(self, node: ListValueNode | ObjectValueNode) -> None:
        self.nesting += 1
        if self.nesting == MAX_NESTING + 1:  # reported once, where it first goes too deep
            message = f"a value nests deeper than {MAX_NESTING} levels"
            self.report_error(GraphQLError(message, node))


def require_plain_variables(variables: Mapping[str, object]) -> None:
    """BadInput naming the first variable that is not plain (see the module docstring)."""
    for name, value in variables.items():
        require_plain_value(f"variable ${name}", value)


class PlainVariables(SchemaExtension):
    """The variables, as the operation starts executing: a refusal is set as the
    operation's result, which Strawberry then returns instead of executing (its
    documented way for an extension to answer in place of execution)."""

    def on_execute(self) -> Iterator[None]:
        context = self.execution_context
        if context.variables:
            try:
                require_plain_variables(context.variables)
            except BadInput as refused:
                error = GraphQLError(refused.message, original_error=refused)
                context.result = ExecutionResult(data=None, errors=[error])
        yield
