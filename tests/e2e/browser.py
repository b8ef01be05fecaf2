"""Headless Chromium driven over the Chrome DevTools Protocol, with nothing but websockets.

No driver package: Chromium is started with a debugging port, and the test speaks CDP
(JSON over a WebSocket) to open a page, type, read the DOM and take a screenshot.
"""

from __future__ import annotations

import asyncio
import base64
import itertools
import json
import shutil
import subprocess
import time
from pathlib import Path
from typing import Any

from websockets.asyncio.client import ClientConnection, connect

FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--remote-debugging-port=0",
    "--window-size=900,1000",
]


def chromium_binary() -> str | None:
    return shutil.which("chromium") or shutil.which("chromium-browser")


_CALL_IDS = itertools.count(1)


class Page:
    """One tab (or, with no session, the browser): `evaluate` JavaScript, type text,
    press Enter, take screenshots."""

    def __init__(self, ws: ClientConnection, session_id: str | None) -> None:
        self.ws = ws
        self.session_id = session_id

    async def send(self, method: str, **params: Any) -> dict[str, Any]:
        call_id = next(_CALL_IDS)
        call: dict[str, Any] = {"id": call_id, "method": method, "params": params}
        if self.session_id is not None:
            call["sessionId"] = self.session_id
        await self.ws.send(json.dumps(call))
        while True:  # events and other replies are not ours: skip them
            reply = json.loads(await asyncio.wait_for(self.ws.recv(), 30))
            if reply.get("id") == call_id:
                if "error" in reply:
                    raise RuntimeError(f"{method}: {reply['error']}")
                result: dict[str, Any] = reply["result"]
                return result

    async def evaluate(self, expression: str) -> Any:
        result = await self.send("Runtime.evaluate", expression=expression, returnByValue=True)
        if "exceptionDetails" in result:
            raise RuntimeError(result["exceptionDetails"])
        return result["result"].get("value")

    async def wait_for(self, expression: str, within: float = 10.0) -> Any:
        """Poll `expression` until it is truthy; its value."""
        deadline = time.monotonic() + within
        while True:
            value = await self.evaluate(expression)
            if value:
                return value
            if time.monotonic() > deadline:
                raise AssertionError(f"never true: {expression}")
            await asyncio.sleep(0.05)

    async def type_and_enter(self, selector: str, text: str) -> None:
        """Focus a field and type into it as a barcode scanner would, then Enter."""
        await self.evaluate(f"document.querySelector({json.dumps(selector)}).focus()")
        await self.send("Input.insertText", text=text)
        for kind in ("keyDown", "keyUp"):
            await self.send(
                "Input.dispatchKeyEvent",
                type=kind,
                key="Enter",
                code="Enter",
                windowsVirtualKeyCode=13,
                text="\r" if kind == "keyDown" else "",
            )

    async def screenshot(self) -> bytes:
        """The page as a PNG."""
        shot = await self.send("Page.captureScreenshot", format="png")
        return base64.b64decode(shot["data"])


class Browser:
    def __init__(self, profile_dir: Path) -> None:
        binary = chromium_binary()
        if binary is None:
            raise RuntimeError("chromium is not installed (apt-get install -y chromium)")
        self.profile_dir = profile_dir
        self.process = subprocess.Popen(
            [binary, *FLAGS, f"--user-data-dir={profile_dir}", "about:blank"],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        self.ws: ClientConnection | None = None

    def _endpoint(self) -> str:
        """Chromium writes its debugging port and path here once it listens."""
        marker = self.profile_dir / "DevToolsActivePort"
        deadline = time.monotonic() + 30
        while not marker.exists() or len(marker.read_text().splitlines()) < 2:
            if self.process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError("chromium did not start")
            time.sleep(0.05)
        port, path = marker.read_text().splitlines()[:2]
        return f"ws://127.0.0.1:{port}{path}"

    async def open(self, url: str) -> Page:
        self.ws = await connect(self._endpoint(), max_size=None, compression=None)
        browser = Page(self.ws, session_id=None)
        target = await browser.send("Target.createTarget", url="about:blank")
        attached = await browser.send(
            "Target.attachToTarget", targetId=target["targetId"], flatten=True
        )
        page = Page(self.ws, attached["sessionId"])
        await page.send("Page.enable")
        await page.send("Page.navigate", url=url)
        await page.wait_for("document.readyState === 'complete'")
        return page

    async def close(self) -> None:
        if self.ws is not None:
            await self.ws.close()
        self.process.terminate()
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
