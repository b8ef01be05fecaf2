"""Documents parsed and validated once per query text, limits included.

Strawberry's `ParserCache` and `ValidationCache` cached less than they seemed to here:
`QueryDepthLimiter` and `MaxAliasesLimiter` build a new validation rule class for every
request (every extension instance makes its own), so `ValidationCache`'s key, which
holds the rules, never matched, and every request validated its document again (about
three quarters of a lookup's time). Its key also hashes the whole parsed document, node
by node, on every request.

`PreparedDocuments` does the parse, the token limit and the validation (the spec's
rules, the depth and alias limits, no introspection in production) as one extension,
keyed by the query text and the validation rules in force, in one bounded LRU shared
by every request of the schema. A cache hit costs a dict lookup. A document that does
not parse is never cached and is left unset, so Strawberry parses it again where its
errors are handled and pass through `ErrorCodes` (what `CodedParserCache` did).
"""

from __future__ import annotations

import contextlib
from collections import OrderedDict
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from threading import Lock

from graphql import ASTValidationRule, DocumentNode, GraphQLError, parse
from strawberry.extensions import SchemaExtension
from strawberry.schema.schema import validate_document

DEFAULT_MAXSIZE = 1024

_Key = tuple[str, tuple[type[ASTValidationRule], ...]]


@dataclass(frozen=True, slots=True)
class Prepared:
    document: DocumentNode
    errors: list[GraphQLError]


class DocumentCache:
    """Bounded LRU of prepared documents, keyed by query text and validation rules."""

    def __init__(self, maxsize: int = DEFAULT_MAXSIZE) -> None:
        self.maxsize = maxsize
        self._entries: OrderedDict[_Key, Prepared] = OrderedDict()
        self._lock = Lock()  # the sync execution path may run in other threads

    def get(self, key: _Key) -> Prepared | None:
        entry = self._entries.get(key)
        if entry is not None:
            # Evicted by another thread in between: the entry is still a valid answer.
            with contextlib.suppress(KeyError):
                self._entries.move_to_end(key)
        return entry

    def put(self, key: _Key, entry: Prepared) -> None:
        with self._lock:
            self._entries[key] = entry
            self._entries.move_to_end(key)
            while len(self._entries) > self.maxsize:
                self._entries.popitem(last=False)

    def __len__(self) -> int:
        return len(self._entries)


class PreparedDocuments(SchemaExtension):
    """Parse (token limit applied) and validate (limits added) once per query text.

    Build one `DocumentCache` per schema and pass a factory:
    `partial(PreparedDocuments, cache=cache, max_tokens=..., rules=[...])`.
    """

    def __init__(
        self,
        *,
        cache: DocumentCache,
        max_tokens: int,
        rules: Sequence[type[ASTValidationRule]] = (),
    ) -> None:
        self.cache = cache
        self.max_tokens = max_tokens
        self.rules = tuple(rules)
        self._key: _Key | None = None
        self._prepared: Prepared | None = None

    def on_parse(self) -> Iterator[None]:
        context = self.execution_context
        # Also applies when Strawberry parses a failed document again for its errors.
        context.parse_options["max_tokens"] = self.max_tokens
        query = context.query
        if query is not None and context.graphql_document is None:
            rules = context.validation_rules + self.rules
            self._key = (query, rules)
            prepared = self.cache.get(self._key)
            if prepared is not None:
                self._prepared = prepared
                context.graphql_document = prepared.document
            else:
                # Left unset on failure: parsed again where errors are handled.
                with contextlib.suppress(GraphQLError):
                    context.graphql_document = parse(query, **context.parse_options)
        yield

    def on_validate(self) -> Iterator[None]:
        context = self.execution_context
        prepared = self._prepared
        if prepared is None and context.graphql_document is not None:
            rules = self._key[1] if self._key else context.validation_rules + self.rules
            errors = validate_document(context.schema._schema, context.graphql_document, rules)
            prepared = Prepared(context.graphql_document, errors)
            if self._key is not None and context.graphql_document is not None:
                self.cache.put(self._key, prepared)
        if prepared is not None:
            context.pre_execution_errors = prepared.errors
        yield
