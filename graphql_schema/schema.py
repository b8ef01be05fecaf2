"""Assembles the root types and the extensions into the served schema."""

from __future__ import annotations

import weakref
from collections.abc import AsyncGenerator, Iterable, Iterator
from functools import partial
from typing import Any

import strawberry
import structlog
from graphql import ASTValidationRule, GraphQLError
from graphql import ExecutionResult as GraphQLExecutionResult
from graphql.type.definition import GraphQLResolveInfoHelpers
from graphql.validation import NoSchemaIntrospectionCustomRule
from strawberry.extensions import MaxAliasesLimiter, QueryDepthLimiter, SchemaExtension
from strawberry.extensions.runner import SchemaExtensionsRunner
from strawberry.scalars import JSON
from strawberry.schema.schema import DEFAULT_ALLOWED_OPERATION_TYPES
from strawberry.types import ExecutionContext
from strawberry.types import ExecutionResult as StrawberryExecutionResult
from strawberry.types.graphql import OperationType

from cdp.settings import Settings
from graphql_schema.auth import ApiKeyCreated
from graphql_schema.cost import query_cost_limit
from graphql_schema.documents import DocumentCache, PreparedDocuments
from graphql_schema.errors import ErrorCodes, error_code
from graphql_schema.extension_runner import LeanExtensionsRunner
from graphql_schema.identity import (
    EnrollPayload,
    EventBatchResult,
    ProfileMatch,
    ReviewConnection,
    ReviewItem,
)
from graphql_schema.input_builders import use_input_builders
from graphql_schema.input_guard import PlainLiterals, PlainVariables
from graphql_schema.loyalty import LedgerEntry, PointsQuote, Receipt, Redemption, Reward, Tier
from graphql_schema.metrics import GRAPHQL_ERRORS
from graphql_schema.profiles import Profile
from graphql_schema.realtime import ProfileUpdate
from graphql_schema.shared_events import SharedEventExecutor
from graphql_schema.webhooks import (
    SyncHealth,
    WebhookDelivery,
    WebhookEndpoint,
    WebhookEndpointCreated,
)
from resolvers import auth, identity, loyalty, profiles, realtime, webhooks
from resolvers.permissions import profile_field

log = structlog.get_logger(__name__)
DOCUMENT_CACHE_SIZE = 1024


@strawberry.type
class Query:
    profile: Profile | None = profile_field(resolver=profiles.profile)
    profiles: list[Profile | None] = profile_field(resolver=profiles.profiles)
    me: Profile | None = profile_field(resolver=loyalty.me)
    search_profiles: list[ProfileMatch] = strawberry.field(resolver=identity.search_profiles)
    tiers: list[Tier] = strawberry.field(resolver=loyalty.tiers)
    rewards: list[Reward] = strawberry.field(resolver=loyalty.rewards)
    points_quote: PointsQuote = strawberry.field(resolver=loyalty.points_quote)
    receipt: Receipt | None = strawberry.field(resolver=loyalty.receipt)
    review_queue: ReviewConnection = strawberry.field(resolver=identity.review_queue)
    export_profile: JSON = strawberry.field(resolver=identity.export_profile)
    sync_health: SyncHealth = strawberry.field(resolver=webhooks.sync_health)
    webhook_deliveries: list[WebhookDelivery] = strawberry.field(
        resolver=webhooks.webhook_deliveries
    )


@strawberry.type
class Mutation:
    enroll: EnrollPayload = strawberry.field(resolver=identity.enroll)
    allocate_card: Profile = profile_field(resolver=identity.allocate_card)
    update_profile: Profile = profile_field(resolver=identity.update_profile)
    link_identifier: Profile = profile_field(resolver=profiles.link_identifier)
    record_purchase: Receipt = strawberry.field(resolver=loyalty.record_purchase)
    record_return: Receipt = strawberry.field(resolver=loyalty.record_return)
    redeem_reward: Redemption = strawberry.field(resolver=loyalty.redeem_reward)
    void_redemption: Redemption = strawberry.field(resolver=loyalty.void_redemption)
    adjust_points: LedgerEntry = strawberry.field(resolver=loyalty.adjust_points)
    record_events: EventBatchResult = strawberry.field(resolver=identity.record_events)
    merge_profiles: Profile = profile_field(resolver=identity.merge_profiles)
    unmerge_profile: Profile = profile_field(resolver=identity.unmerge_profile)
    resolve_review: ReviewItem = strawberry.field(resolver=identity.resolve_review)
    forget_profile: Profile = profile_field(resolver=identity.forget_profile)
    register_webhook: WebhookEndpointCreated = strawberry.field(resolver=webhooks.register_webhook)
    disable_webhook: WebhookEndpoint = strawberry.field(resolver=webhooks.disable_webhook)
    redeliver_webhook: WebhookDelivery = strawberry.field(resolver=webhooks.redeliver_webhook)
    create_api_key: ApiKeyCreated = strawberry.field(resolver=auth.create_api_key)
    revoke_api_key: bool = strawberry.field(resolver=auth.revoke_api_key)


@strawberry.type
class Subscription:
    profile_updates: AsyncGenerator[ProfileUpdate, None] = strawberry.subscription(
        resolver=realtime.profile_updates
    )
    receipts: AsyncGenerator[Receipt, None] = strawberry.subscription(resolver=realtime.receipts)


class CodedErrors(ErrorCodes):
    """`ErrorCodes`, minus MaskErrors' per-request runtime Protocol isinstance check on the
    result (tens of microseconds each time); which errors get mapped is unchanged."""

    def on_operation(self) -> Iterator[None]:
        self._stream_result_processed = False
        yield
        if self._stream_result_processed:
            return
        result = self.execution_context.result
        if isinstance(result, GraphQLExecutionResult | StrawberryExecutionResult):
            if result.errors:
                result.errors = self._process_errors(result.errors)
        elif initial_result := getattr(result, "initial_result", None):
            self._process_result(initial_result)


class CollectableExecutor(SharedEventExecutor):
    """The executor, without the reference cycle graphql-core 3.3 builds into each one.

    Its `async_helpers` hold methods bound to the executor itself, so the executor and
    everything it reaches (the context, the request, loaders, results: ~100 objects a
    request) could only be freed by the cyclic garbage collector, whose passes then took
    about a sixth of a lookup's time under load. Helpers that reach the executor weakly
    let reference counting free a request as soon as it is done. They are only called
    while the executor runs, so it is always alive when they are.
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        executor = weakref.ref(self)

        def gather(values: Any) -> Any:
            return _alive(executor).gather_async_work(values)

        def track(values: Any) -> None:
            _alive(executor).track_async_work(values)

        self.async_helpers = GraphQLResolveInfoHelpers(gather=gather, track=track)


def _alive(executor: weakref.ref[CollectableExecutor]) -> CollectableExecutor:
    found = executor()
    if found is None:
        raise RuntimeError("async work handed to an executor that has finished")
    return found


class CdpSchema(strawberry.Schema):
    def create_extensions_runner(
        self, execution_context: ExecutionContext, extensions: list[SchemaExtension]
    ) -> SchemaExtensionsRunner:
        return LeanExtensionsRunner(execution_context=execution_context, extensions=extensions)

    async def execute(
        self,
        query: str | None,
        variable_values: dict[str, Any] | None = None,
        context_value: Any | None = None,
        root_value: Any | None = None,
        operation_name: str | None = None,
        allowed_operation_types: Iterable[OperationType] | None = None,
        operation_extensions: dict[str, Any] | None = None,
    ) -> StrawberryExecutionResult:
        """Never a subscription: `execute` gives one result, and a subscription streams
        (over WebSocket, through `subscribe`). Over HTTP one is refused, coded, not run."""
        allowed = set(allowed_operation_types or DEFAULT_ALLOWED_OPERATION_TYPES)
        return await super().execute(
            query,
            variable_values,
            context_value,
            root_value,
            operation_name,
            allowed - {OperationType.SUBSCRIPTION},
            operation_extensions,
        )

    def process_errors(
        self, errors: list[GraphQLError], execution_context: ExecutionContext | None = None
    ) -> None:
        """Log codes and paths only: messages can quote input, and input can be personal data."""
        for error in errors:
            code = error_code(error)
            GRAPHQL_ERRORS.labels(code).inc()
            log.info("graphql_error", code=code, path=error.path)


def document_rules(settings: Settings) -> list[type[ASTValidationRule]]:
    """The limits, as validation rules built once: a rule class made per request (what
    the limiter extensions do) would defeat the document cache."""
    rules = [
        # Built through the extensions only to take their rule, so limits stay theirs.
        QueryDepthLimiter(max_depth=settings.max_query_depth).validation_rules[0],
        MaxAliasesLimiter(max_alias_count=settings.max_aliases).validation_rules[0],
        query_cost_limit(settings.max_query_cost),
        PlainLiterals,
    ]
    if settings.production:
        rules.append(NoSchemaIntrospectionCustomRule)  # what DisableIntrospection adds
    return rules


def build_schema(settings: Settings) -> strawberry.Schema:
    extensions: list[Any] = [
        partial(CodedErrors, hide_suggestions=settings.production),
        partial(
            PreparedDocuments,
            cache=DocumentCache(DOCUMENT_CACHE_SIZE),
            max_tokens=settings.max_query_tokens,
            rules=document_rules(settings),
        ),
        PlainVariables,
    ]
    checked: list[type[SchemaExtension]] = extensions
    schema = CdpSchema(
        query=Query,
        mutation=Mutation,
        subscription=Subscription,
        extensions=checked,
        execution_context_class=CollectableExecutor,
    )
    use_input_builders(schema)
    return schema
