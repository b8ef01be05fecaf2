"""GraphiQL in a real browser with no way out to the internet: it renders from the files
this service ships and runs a query with the admin key it was given."""

from __future__ import annotations

from pathlib import Path
from urllib.parse import quote

from .browser import Browser
from .processes import ServeProcess

QUERY = '{ profile(id: "p_nobody") { id } }'


async def test_graphiql_runs_a_query_offline_with_the_key_filled_in(
    app: ServeProcess, browser: Browser, tmp_path: Path
) -> None:
    page = await browser.open(f"{app.url}/graphql?q={quote(QUERY)}")
    await page.wait_for("!!document.querySelector('.graphiql-execute-button')", within=30)
    await page.evaluate("document.querySelector('.graphiql-execute-button').click()")
    await page.wait_for("document.querySelector('.result-window').innerText.includes('data')")
    result = await page.evaluate("document.querySelector('.result-window').innerText")
    loaded = await page.evaluate(
        "performance.getEntriesByType('resource').map(r => new URL(r.name).origin)"
    )
    (tmp_path / "graphiql.png").write_bytes(await page.screenshot())

    assert '"profile": null' in result
    assert "UNAUTHENTICATED" not in result
    assert set(loaded) == {app.url}
