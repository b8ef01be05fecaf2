"""GraphiQL served from this package, so it works offline and behind a strict network.

Strawberry's GraphiQL page loads React, GraphiQL and its explorer plugin from a CDN. We
serve the same page with each CDN address replaced by the same file shipped in
`static/graphiql/` (identical bytes: the page's integrity hashes still hold), and in
development with the Authorization header filled in, so a developer's first query works.

The page is Strawberry's (`render_graphql_ide` is its documented hook); should an upgrade
change the CDN addresses, `offline_graphiql_page` refuses to serve a page that would
still reach out, and the tests fail.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from pathlib import Path

from starlette.routing import Mount
from starlette.staticfiles import StaticFiles
from strawberry.http.ides import get_graphql_ide_html

ASSETS_PATH = "/graphiql"
ASSETS_DIR = Path(__file__).parent / "static" / "graphiql"
# Each CDN address in Strawberry's page -> the file in ASSETS_DIR with the same bytes.
CDN_FILES = {
    "https://unpkg.com/react@18.2.0/umd/react.production.min.js": "react.production.min.js",
    "https://unpkg.com/react-dom@18.2.0/umd/react-dom.production.min.js": (
        "react-dom.production.min.js"
    ),
    "https://unpkg.com/js-cookie@3.0.5/dist/js.cookie.min.js": "js.cookie.min.js",
    "https://unpkg.com/graphiql@3.8.3/graphiql.min.css": "graphiql.min.css",
    "https://unpkg.com/@graphiql/plugin-explorer@1.0.2/dist/style.css": "plugin-explorer.css",
    "https://unpkg.com/graphiql@3.8.3/graphiql.min.js": "graphiql.min.js",
    "https://unpkg.com/@graphiql/plugin-explorer@1.0.2/dist/index.umd.js": (
        "plugin-explorer.umd.js"
    ),
}
# Where the page takes its headers editor's first contents (from a shared link's URL).
HEADERS_STATE = "React.useState(parameters.headers)"
_EXTERNAL = re.compile(r"""(?:src|href)\s*=\s*["']https?://""")


class GraphiQLPageChanged(RuntimeError):
    """Strawberry's page no longer has what this module rewrites."""


def offline_graphiql_page(headers: Mapping[str, str] | None = None) -> str:
    """Strawberry's GraphiQL page on local assets, its headers editor holding `headers`."""
    page = get_graphql_ide_html(graphql_ide="graphiql")
    for url, name in CDN_FILES.items():
        if url not in page:
            raise GraphiQLPageChanged(f"{url} is not in Strawberry's GraphiQL page")
        page = page.replace(url, f"{ASSETS_PATH}/{name}")
    if _EXTERNAL.search(page):
        raise GraphiQLPageChanged("Strawberry's GraphiQL page loads an unknown address")
    if headers:
        if HEADERS_STATE not in page:
            raise GraphiQLPageChanged("Strawberry's GraphiQL page keeps its headers elsewhere")
        # json.dumps twice: a JS string literal holding the editor's JSON text, with
        # "<" escaped so no value can close the script element.
        text = json.dumps(json.dumps(dict(headers), indent=2)).replace("<", "\\u003c")
        page = page.replace(HEADERS_STATE, f"React.useState(parameters.headers || {text})")
    return page


def graphiql_assets() -> Mount:
    """The vendored files, at ASSETS_PATH."""
    return Mount(ASSETS_PATH, app=StaticFiles(directory=ASSETS_DIR), name="graphiql")
