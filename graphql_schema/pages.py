"""Development-only demo surfaces: a kiosk page and a digital-receipt page.

Each is a static page that speaks graphql-transport-ws from the browser. The API key
travels in the page URL (?key=...), which is fine for a demo on a developer's machine
and nowhere else: the app serves these routes only when CDP_ENV=development.
"""

from __future__ import annotations

from pathlib import Path

from starlette.requests import Request
from starlette.responses import FileResponse, Response
from starlette.routing import Route

STATIC = Path(__file__).parent / "static"
# The key is in the URL: never send it on as a Referer, never keep the page in a cache.
HEADERS = {
    "Cache-Control": "no-store",
    "Referrer-Policy": "no-referrer",
    "X-Content-Type-Options": "nosniff",
    "Content-Security-Policy": (
        "default-src 'self'; connect-src 'self' ws: wss:; style-src 'self' 'unsafe-inline'"
    ),
}
PAGES = {
    "kiosk": "kiosk.html",
    "kiosk.js": "kiosk.js",
    "receipts": "receipts.html",
    "receipts.js": "receipts.js",
    "live.js": "live.js",
}


async def demo_page(request: Request) -> Response:
    name = PAGES.get(request.path_params["page"])
    if name is None:
        return Response("not found", status_code=404)
    media = "text/javascript" if name.endswith(".js") else "text/html"
    return FileResponse(STATIC / name, media_type=media, headers=HEADERS)


def demo_routes() -> list[Route]:
    return [Route("/demo/{page}", demo_page)]
