"""GraphiQL works offline: every file it loads comes from this service, byte for byte what
its integrity hashes name, and in development its headers editor holds the admin key."""

from __future__ import annotations

import base64
import hashlib
import json
import re

import httpx

from cdp.loyalty.program import DEMO_PROGRAM
from graphql_schema.graphiql import offline_graphiql_page

from .helpers import ADMIN_KEY, AppFactory

# <script src=...> and <link href=...> with their integrity attribute, in either order.
ASSET = re.compile(r"<(?:script|link)\b[^>]*?>", re.DOTALL)
URL = re.compile(r"""\b(?:src|href)="([^"]+)\"""")
INTEGRITY = re.compile(r"""\bintegrity="sha384-([^"]+)\"""")


async def graphiql_page(http: httpx.AsyncClient) -> str:
    response = await http.get("/graphql", headers={"Accept": "text/html"})
    assert response.status_code == 200
    return response.text


def assets_of(page: str) -> list[tuple[str, str]]:
    """(url, sha384 in base64) for every script and stylesheet the page loads."""
    found = []
    for tag in ASSET.findall(page):
        url, integrity = URL.search(tag), INTEGRITY.search(tag)
        if url and not url.group(1).startswith("data:"):
            assert integrity, f"no integrity hash: {tag}"
            found.append((url.group(1), integrity.group(1)))
    return found


async def test_graphiql_loads_every_file_from_this_service(client: httpx.AsyncClient) -> None:
    page = await graphiql_page(client)
    assets = assets_of(page)

    served = {}
    for url, _ in assets:
        response = await client.get(url)
        served[url] = (response.status_code, hashlib.sha384(response.content).digest())

    assert len(assets) == 7  # React, ReactDOM, js-cookie, GraphiQL and its explorer: js + css
    assert all(url.startswith("/graphiql/") for url, _ in assets)
    assert "unpkg.com" not in page
    assert {url: served[url] for url, _ in assets} == {
        url: (200, base64.b64decode(digest)) for url, digest in assets
    }


async def test_graphiql_fills_in_the_admin_key_in_development(client: httpx.AsyncClient) -> None:
    page = await graphiql_page(client)

    editor = json.dumps(json.dumps({"Authorization": f"Bearer {ADMIN_KEY}"}, indent=2))
    assert f"React.useState(parameters.headers || {editor})" in page


def test_a_header_value_cannot_close_the_page_script() -> None:
    page = offline_graphiql_page({"Authorization": "</script><script>alert(1)</script>"})

    assert "alert(1)</script>" not in page
    assert "\\u003c/script>" in page


async def test_graphiql_files_are_not_served_in_production(app_with: AppFactory) -> None:
    _, http = await app_with(env="production", program_file=DEMO_PROGRAM)

    response = await http.get("/graphiql/graphiql.min.js")

    assert response.status_code == 404
