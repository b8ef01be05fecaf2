"""Document limits (depth, tokens, aliases): a refused document runs no resolver at all."""

from __future__ import annotations

from graphql.language import Lexer, Source, TokenKind

from cdp.auth.service import list_api_keys
from cdp.channel import Channel
from cdp.identity.service import create_profile, get_profile
from cdp.runtime import Runtime

from .helpers import AppFactory, Gql, ProfileFactory, codes, gql_on


def token_count(document: str) -> int:
    """Tokens as the parser's limit counts them (start and end of file excluded)."""
    lexer = Lexer(Source(document))
    count = 0
    while lexer.advance().kind is not TokenKind.EOF:
        count += 1
    return count


def link_device(profile_id: str, selection: str) -> str:
    return (
        f'mutation {{ linkIdentifier(profileId: "{profile_id}", '
        f'identifier: {{type: DEVICE_ID, value: "limit-test"}}) {{ {selection} }} }}'
    )


def padded_to(tokens: int, head: str, tail: str) -> str:
    """`head` + repeated `id` + `tail`, exactly `tokens` tokens long."""
    fixed = token_count(head + tail)
    return head + " id" * (tokens - fixed) + tail


async def test_query_deeper_than_max_depth_is_refused_before_any_resolver(
    app_with: AppFactory,
) -> None:
    # given a service allowing depth 2 (root fields are depth 0)
    rt, http = await app_with(max_query_depth=2)
    gql = gql_on(http)
    profile = await create_profile(rt, channel=Channel.POS)

    # when a mutation selects a field at depth 3: linkIdentifier > loyalty > tier > id
    body = await gql(link_device(profile.id, "loyalty { tier { id } }"))

    # then the document is refused and the mutation never ran
    assert body["data"] is None
    assert codes(body) == ["BAD_USER_INPUT"]
    assert body["errors"][0]["message"] == "'anonymous' exceeds maximum operation depth of 2"
    stored = await get_profile(rt.store, profile.id)
    assert stored is not None
    assert stored.version == 1
    assert stored.identifiers == ()


async def test_query_at_max_depth_runs(app_with: AppFactory) -> None:
    rt, http = await app_with(max_query_depth=2)
    profile = await create_profile(rt, channel=Channel.POS)

    # linkIdentifier > loyalty > balance: depth 2
    body = await gql_on(http)(link_device(profile.id, "loyalty { balance } version"))

    assert body == {"data": {"linkIdentifier": {"loyalty": {"balance": 0}, "version": 2}}}


async def test_document_over_max_tokens_is_refused_before_any_resolver(
    rt: Runtime, gql: Gql, make_profile: ProfileFactory
) -> None:
    profile = await make_profile()
    limit = rt.settings.max_query_tokens
    head = link_device(profile.id, "id").removesuffix(" id } }")
    document = padded_to(limit + 1, head, " } }")
    assert token_count(document) == limit + 1

    body = await gql(document)

    assert body["data"] is None
    assert codes(body) == ["BAD_USER_INPUT"]
    assert body["errors"][0]["message"] == (
        f"Syntax Error: Document contains more than {limit} tokens. Parsing aborted."
    )
    stored = await get_profile(rt.store, profile.id)
    assert stored is not None
    assert stored.version == 1


async def test_document_of_exactly_max_tokens_runs(app_with: AppFactory) -> None:
    # A small limit: thousands of repeated fields would trip graphql-core's own
    # overlapping-fields budget ("Validation aborted.") before the token limit matters.
    _, http = await app_with(max_query_tokens=50)
    document = padded_to(50, "{ tiers {", " } }")
    assert token_count(document) == 50

    accepted = await gql_on(http)(document)
    refused = await gql_on(http)(padded_to(51, "{ tiers {", " } }"))

    assert "errors" not in accepted
    assert [tier["id"] for tier in accepted["data"]["tiers"]] == ["member", "silver", "gold"]
    assert refused["data"] is None
    assert codes(refused) == ["BAD_USER_INPUT"]


async def test_more_aliases_than_max_is_refused_before_any_resolver(rt: Runtime, gql: Gql) -> None:
    limit = rt.settings.max_aliases
    fields = " ".join(
        f'k{i}: createApiKey(name: "alias {i}", scopes: ["pos"]) {{ id }}' for i in range(limit + 1)
    )

    body = await gql(f"mutation {{ {fields} }}")

    assert body["data"] is None
    assert codes(body) == ["BAD_USER_INPUT"]
    assert body["errors"][0]["message"] == f"{limit + 1} aliases found. Allowed: {limit}"
    assert await list_api_keys(rt) == []


async def test_max_aliases_exactly_runs(rt: Runtime, gql: Gql) -> None:
    limit = rt.settings.max_aliases
    fields = " ".join(f"t{i}: tiers {{ id }}" for i in range(limit))

    body = await gql(f"{{ {fields} }}")

    assert "errors" not in body
    assert len(body["data"]) == limit


async def test_syntax_error_is_bad_user_input(gql: Gql) -> None:
    body = await gql("{ tiers { id }")

    assert body["data"] is None
    assert codes(body) == ["BAD_USER_INPUT"]
    assert body["errors"][0]["message"] == "Syntax Error: Expected Name, found <EOF>."


async def test_validation_error_is_bad_user_input(gql: Gql) -> None:
    body = await gql("{ tiers { id } noSuchField }")

    assert body["data"] is None
    assert codes(body) == ["BAD_USER_INPUT"]
    assert body["errors"][0]["message"] == "Cannot query field 'noSuchField' on type 'Query'."


def profile_ids(count: int) -> str:
    return ", ".join(f'"p_{n}"' for n in range(count))


async def test_list_sizes_multiplied_past_max_cost_are_refused_before_any_resolver(
    gql: Gql,
) -> None:
    # 30 aliases x profiles(10 ids) x history(first: 100): 30,000 ledger entries asked for
    # node 2, edges 3, history 100 x 4, profiles 10 x 401: 4,010 an alias
    fields = " ".join(
        f"a{n}: profiles(ids: [{profile_ids(10)}]) "
        "{ history(first: 100) { edges { node { points } } } }"
        for n in range(30)
    )

    body = await gql(f"query Everything {{ {fields} }}")

    assert body["data"] is None
    assert codes(body) == ["BAD_USER_INPUT"]
    assert body["errors"][0]["message"] == (
        "'Everything' costs 120300, over the limit of 20000: "
        "ask for fewer items (first, limit, ids) or fewer fields"
    )


async def test_a_query_costing_exactly_max_cost_runs(app_with: AppFactory) -> None:
    _, http = await app_with(max_query_cost=20)

    accepted = await gql_on(http)(f"{{ profiles(ids: [{profile_ids(10)}]) {{ id }} }}")
    refused = await gql_on(http)(f"{{ profiles(ids: [{profile_ids(11)}]) {{ id }} }}")

    assert accepted == {"data": {"profiles": [None] * 10}}
    assert codes(refused) == ["BAD_USER_INPUT"]
    assert refused["errors"][0]["message"].startswith("'anonymous' costs 22, over the limit of 20")


async def test_a_size_given_by_variable_counts_as_the_largest_list_allowed(
    app_with: AppFactory,
) -> None:
    # profile 1 x (history 100 x (edges 1 x (node 1 + points 1) + 1) + 1)
    _, http = await app_with(max_query_cost=400)
    query = (
        'query Page($n: Int) { profile(id: "p_x") '
        "{ history(first: $n) { edges { node { points } } } } }"
    )

    body = await gql_on(http)(query, {"n": 1})

    assert codes(body) == ["BAD_USER_INPUT"]
    assert body["errors"][0]["message"].startswith("'Page' costs 401, over the limit of 400")


async def test_a_mutation_over_max_cost_changes_nothing(app_with: AppFactory) -> None:
    rt, http = await app_with(max_query_cost=10)
    fields = " ".join(
        f'k{n}: createApiKey(name: "cost {n}", scopes: ["pos"]) {{ id }}' for n in range(6)
    )

    body = await gql_on(http)(f"mutation {{ {fields} }}")

    assert codes(body) == ["BAD_USER_INPUT"]
    assert await list_api_keys(rt) == []


async def test_fragments_and_defaults_cost_what_they_stand_for(app_with: AppFactory) -> None:
    # history without `first` counts its default, 20: profile 1 x (20 x (edges 3 + 1) + 1)
    _, http = await app_with(max_query_cost=80)
    inline = '{ profile(id: "p_x") { history { edges { node { points } } } } }'
    spread = (
        'query Spread { profile(id: "p_x") { ...Entries } } '
        "fragment Entries on Profile { ... on Profile { history { edges { node { points } } } } }"
    )

    bodies = [await gql_on(http)(inline), await gql_on(http)(spread)]

    assert [codes(body) for body in bodies] == [["BAD_USER_INPUT"], ["BAD_USER_INPUT"]]
    assert bodies[0]["errors"][0]["message"].startswith("'anonymous' costs 81, over the limit")
    assert bodies[1]["errors"][0]["message"].startswith("'Spread' costs 81, over the limit")
