"""The one place domain errors become the contract's `extensions.code`.

A `DomainError` keeps its message and gets its code. A document that does not parse or
validate, or arguments that do not coerce, are BAD_USER_INPUT. Anything else is
unexpected: the client sees "Internal error." with code INTERNAL, the log gets the rest.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import Any

import structlog
from graphql import GraphQLError
from strawberry.extensions import MaskErrors, ParserCache
from strawberry.schema.exceptions import CannotGetOperationTypeError, InvalidOperationTypeError

from cdp.errors import DomainError
from cdp.store.port import StoreUnavailable

log = structlog.get_logger(__name__)
SUGGESTION = " Did you mean "  # how graphql-core's `did_you_mean` starts, always last


def _coded(error: GraphQLError, message: str, code: str) -> GraphQLError:
    extensions: dict[str, Any] = {"code": code}
    return GraphQLError(
        message,
        nodes=error.nodes,
        source=error.source,
        positions=error.positions,
        path=error.path,
        extensions=extensions,
    )


def error_code(error: GraphQLError) -> str:
    original = error.original_error
    if isinstance(original, DomainError):
        return original.code
    if isinstance(original, StoreUnavailable):
        return "UNAVAILABLE"
    # A query sent where only subscriptions run (legacy graphql-ws), or an unknown
    # operationName: the caller's mistake, not ours.
    if original is None or isinstance(
        original, InvalidOperationTypeError | CannotGetOperationTypeError
    ):
        return "BAD_USER_INPUT"
    # A variable that does not coerce ("ten" for a Float, an unknown enum value): graphql-core
    # keeps the scalar's own GraphQLError as the original, and no field has run (no path).
    if isinstance(original, GraphQLError) and error.path is None:
        return "BAD_USER_INPUT"
    return "INTERNAL"


class ErrorCodes(MaskErrors):
    """Maps every error in a result to a coded, safe one.

    With `hide_suggestions` (production), a refused document or variable loses the
    "Did you mean ...?" graphql-core appends, which names fields, arguments, types and
    enum values the caller did not ask for (introspection is off there). Strawberry's
    `disable_field_suggestions` covers only unknown fields; this covers every message,
    validation and variable coercion alike, in the one place all errors pass.
    """

    def __init__(self, *, hide_suggestions: bool = False) -> None:
        super().__init__()
        self.hide_suggestions = hide_suggestions

    def _process_errors(self, errors: list[GraphQLError]) -> list[GraphQLError]:
        return [self._map(error) for error in errors]

    def _map(self, error: GraphQLError) -> GraphQLError:
        code = error_code(error)
        original = error.original_error
        if isinstance(original, DomainError):
            return _coded(error, original.message, code)
        if code == "BAD_USER_INPUT":
            message = error.message
            if self.hide_suggestions:
                message = message.split(SUGGESTION, 1)[0]
            return _coded(error, message, code)
        if code == "UNAVAILABLE":
            return _coded(error, "The store is unavailable; retry shortly.", code)
        log.error(
            "unexpected_error",
            path=error.path,
            exc_info=(type(original), original, original.__traceback__) if original else None,
        )
        return _coded(error, "Internal error.", code)


class CodedParserCache(ParserCache):
    """ParserCache whose syntax errors (and token-limit refusals) still get a code.

    Strawberry runs `on_parse` outside its error handling: a GraphQLError raised there
    skips every extension, so the client got it without `extensions.code` (and the legacy
    graphql-ws handler crashed). Leaving the document unset on failure makes Strawberry
    parse again where errors are handled and pass through `ErrorCodes`.
    """

    def on_parse(self) -> Iterator[None]:
        context = self.execution_context
        with contextlib.suppress(GraphQLError):
            context.graphql_document = self.cached_parse_document(
                context.query, **context.parse_options
            )
        yield
