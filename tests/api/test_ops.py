"""What differs between development and production, and the operations endpoints."""

from __future__ import annotations

import httpx

from cdp.loyalty.program import DEMO_PROGRAM

from .helpers import AppFactory, Gql, codes, gql_on

INTROSPECT = '{ __type(name: "Profile") { name } }'


async def test_introspection_works_in_development(gql: Gql) -> None:
    body = await gql(INTROSPECT)

    assert body == {"data": {"__type": {"name": "Profile"}}}


async def test_introspection_is_refused_in_production(app_with: AppFactory) -> None:
    _, http = await app_with(env="production", program_file=DEMO_PROGRAM)

    body = await gql_on(http)(INTROSPECT)

    assert body["data"] is None
    assert codes(body) == ["BAD_USER_INPUT"]
    assert body["errors"][0]["message"] == (
        "GraphQL introspection has been disabled, "
        "but the requested query contained the field '__type'."
    )


async def test_production_still_answers_ordinary_queries(app_with: AppFactory) -> None:
    _, http = await app_with(env="production", program_file=DEMO_PROGRAM)

    body = await gql_on(http)('{ profile(id: "p_x") { id } }')

    assert body == {"data": {"profile": None}}


MISTAKES = [
    ("{ tierz { id } }", None, "Cannot query field 'tierz' on type 'Query'."),
    ('{ profile(ide: "p_x") { id } }', None, "Unknown argument 'ide' on field 'Query.profile'."),
    (
        '{ profile(identifier: {type: EMAI, value: "a"}) { id } }',
        None,
        "Value 'EMAI' does not exist in 'IdentifierType' enum.",
    ),
    (
        'query ($t: IdentifierType!) { profile(identifier: {type: $t, value: "a"}) { id } }',
        {"t": "EMAI"},
        "Variable '$t' has invalid value: Value 'EMAI' does not exist in 'IdentifierType' enum.",
    ),
]


async def test_production_never_suggests_names_from_the_schema(app_with: AppFactory) -> None:
    _, http = await app_with(env="production", program_file=DEMO_PROGRAM)

    for query, variables, message in MISTAKES:
        body = await gql_on(http)(query, variables)

        assert codes(body) == ["BAD_USER_INPUT"]
        assert body["errors"][0]["message"] == message


async def test_development_suggests_names(gql: Gql) -> None:
    for query, variables, message in MISTAKES:
        body = await gql(query, variables)

        assert codes(body) == ["BAD_USER_INPUT"]
        assert body["errors"][0]["message"].startswith(message + " Did you mean ")


async def test_graphiql_is_served_in_development(client: httpx.AsyncClient) -> None:
    response = await client.get("/graphql", headers={"Accept": "text/html"})

    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/html")
    assert "graphiql" in response.text.lower()


async def test_graphiql_is_not_served_in_production(app_with: AppFactory) -> None:
    _, http = await app_with(env="production", program_file=DEMO_PROGRAM)

    response = await http.get("/graphql", headers={"Accept": "text/html"})

    assert response.status_code == 404
    assert "graphiql" not in response.text.lower()


async def test_healthz(client: httpx.AsyncClient) -> None:
    response = await client.get("/healthz")

    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


async def test_readyz_reports_the_store(client: httpx.AsyncClient) -> None:
    response = await client.get("/readyz")

    assert response.status_code == 200
    assert response.json() == {"status": "ready", "store": "ok", "broker": "ok"}


async def test_metrics_are_prometheus_text(client: httpx.AsyncClient) -> None:
    response = await client.get("/metrics")

    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain")
    assert "# TYPE " in response.text


METRICS_TOKEN = "metrics-token-0123456789abcdef"


async def test_metrics_with_a_token_are_for_its_bearer_only(app_with: AppFactory) -> None:
    _, http = await app_with(metrics_token=METRICS_TOKEN)

    anonymous = await http.get("/metrics")
    wrong = await http.get("/metrics", headers={"Authorization": "Bearer metrics-token-guess"})
    non_ascii = await http.get("/metrics", headers={"Authorization": b"Bearer m\xe9trics"})
    right = await http.get("/metrics", headers={"Authorization": f"Bearer {METRICS_TOKEN}"})

    for refused in (anonymous, wrong, non_ascii):
        assert refused.status_code == 401
        assert refused.headers["www-authenticate"] == "Bearer"
        assert refused.json()["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"
        assert "# TYPE " not in refused.text
    assert right.status_code == 200
    assert "# TYPE " in right.text


async def test_metrics_are_refused_in_production_without_a_token(app_with: AppFactory) -> None:
    _, http = await app_with(env="production", program_file=DEMO_PROGRAM)

    response = await http.get("/metrics", headers={"Authorization": "Bearer anything-at-all"})

    assert response.status_code == 403
    assert response.json() == {
        "errors": [
            {
                "message": "/metrics needs CDP_METRICS_TOKEN in production",
                "extensions": {"code": "FORBIDDEN"},
            }
        ]
    }


async def test_metrics_in_production_with_a_token(app_with: AppFactory) -> None:
    _, http = await app_with(
        env="production", program_file=DEMO_PROGRAM, metrics_token=METRICS_TOKEN
    )

    response = await http.get("/metrics", headers={"Authorization": f"Bearer {METRICS_TOKEN}"})

    assert response.status_code == 200
    assert "# TYPE " in response.text


def sample(text: str, name: str, labels: str) -> float:
    """One sample of the Prometheus text, 0 when the series does not exist yet."""
    prefix = f"{name}{{{labels}}} "
    for line in text.splitlines():
        if line.startswith(prefix):
            return float(line.removeprefix(prefix))
    return 0.0


async def test_metrics_count_requests_by_route_and_errors_by_code(
    client: httpx.AsyncClient, gql: Gql
) -> None:
    requests = 'cdp_http_requests_total{method="POST",route="/graphql",status="200"}'
    name, labels = requests.removesuffix("}").split("{")
    before = (await client.get("/metrics")).text

    await gql('{ profile(id: "p_missing") { id } }')
    await gql('{ profile(id: "p_missing") { id } }', key="not-a-key")
    await client.get("/webhooks/../healthz")  # an unknown path: one `other` series

    after = (await client.get("/metrics")).text
    assert sample(after, name, labels) - sample(before, name, labels) == 2
    errors = ("cdp_graphql_errors_total", 'code="UNAUTHENTICATED"')
    assert sample(after, *errors) - sample(before, *errors) == 1
    latency = ("cdp_http_request_seconds_count", 'route="/graphql"')
    assert sample(after, *latency) - sample(before, *latency) == 2
    assert "p_missing" not in after  # ids never become labels
