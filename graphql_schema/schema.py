"""Assembles the root types and the extensions into the served schema."""

from __future__ import annotations

from functools import partial
from typing import Any

import strawberry
import structlog
from graphql import GraphQLError
from strawberry.extensions import (
    DisableIntrospection,
    MaxAliasesLimiter,
    MaxTokensLimiter,
    QueryDepthLimiter,
    SchemaExtension,
    ValidationCache,
)
from strawberry.scalars import JSON
from strawberry.types import ExecutionContext

from cdp.settings import Settings
from graphql_schema.auth import ApiKeyCreated
from graphql_schema.errors import CodedParserCache, ErrorCodes, error_code
from graphql_schema.identity import (
    EnrollPayload,
    EventBatchResult,
    ProfileMatch,
    ReviewConnection,
    ReviewItem,
)
from graphql_schema.loyalty import LedgerEntry, PointsQuote, Receipt, Redemption, Reward, Tier
from graphql_schema.profiles import Profile
from graphql_schema.webhooks import (
    SyncHealth,
    WebhookDelivery,
    WebhookEndpoint,
    WebhookEndpointCreated,
)
from resolvers import auth, identity, loyalty, profiles, webhooks

log = structlog.get_logger(__name__)
DOCUMENT_CACHE_SIZE = 1024


@strawberry.type
class Query:
    profile: Profile | None = strawberry.field(resolver=profiles.profile)
    profiles: list[Profile | None] = strawberry.field(resolver=profiles.profiles)
    me: Profile | None = strawberry.field(resolver=loyalty.me)
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
    allocate_card: Profile = strawberry.field(resolver=identity.allocate_card)
    update_profile: Profile = strawberry.field(resolver=identity.update_profile)
    link_identifier: Profile = strawberry.field(resolver=profiles.link_identifier)
    record_purchase: Receipt = strawberry.field(resolver=loyalty.record_purchase)
    record_return: Receipt = strawberry.field(resolver=loyalty.record_return)
    redeem_reward: Redemption = strawberry.field(resolver=loyalty.redeem_reward)
    void_redemption: Redemption = strawberry.field(resolver=loyalty.void_redemption)
    adjust_points: LedgerEntry = strawberry.field(resolver=loyalty.adjust_points)
    record_events: EventBatchResult = strawberry.field(resolver=identity.record_events)
    merge_profiles: Profile = strawberry.field(resolver=identity.merge_profiles)
    unmerge_profile: Profile = strawberry.field(resolver=identity.unmerge_profile)
    resolve_review: ReviewItem = strawberry.field(resolver=identity.resolve_review)
    forget_profile: Profile = strawberry.field(resolver=identity.forget_profile)
    register_webhook: WebhookEndpointCreated = strawberry.field(resolver=webhooks.register_webhook)
    disable_webhook: WebhookEndpoint = strawberry.field(resolver=webhooks.disable_webhook)
    redeliver_webhook: WebhookDelivery = strawberry.field(resolver=webhooks.redeliver_webhook)
    create_api_key: ApiKeyCreated = strawberry.field(resolver=auth.create_api_key)
    revoke_api_key: bool = strawberry.field(resolver=auth.revoke_api_key)


class CdpSchema(strawberry.Schema):
    def process_errors(
        self, errors: list[GraphQLError], execution_context: ExecutionContext | None = None
    ) -> None:
        """Log codes and paths only: messages can quote input, and input can be personal data."""
        for error in errors:
            log.info("graphql_error", code=error_code(error), path=error.path)


def build_schema(settings: Settings) -> strawberry.Schema:
    extensions: list[Any] = [
        ErrorCodes,
        partial(MaxTokensLimiter, max_token_count=settings.max_query_tokens),
        partial(CodedParserCache, maxsize=DOCUMENT_CACHE_SIZE),
        partial(QueryDepthLimiter, max_depth=settings.max_query_depth),
        partial(MaxAliasesLimiter, max_alias_count=settings.max_aliases),
        partial(ValidationCache, maxsize=DOCUMENT_CACHE_SIZE),
    ]
    if settings.production:
        extensions.append(DisableIntrospection)
    checked: list[type[SchemaExtension]] = extensions
    return CdpSchema(query=Query, mutation=Mutation, extensions=checked)
