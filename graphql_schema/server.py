"""`cdp serve`: uvicorn, with a shutdown that ends within CDP_SHUTDOWN_TIMEOUT_SECONDS.

On SIGTERM (or Ctrl+C) uvicorn stops accepting, closes every WebSocket (1001, going
away: `ws_protocol`), waits for open requests and sockets, then runs the app's
shutdown (background loops cancelled, broker and store closed). Half the timeout goes
to the connections (uvicorn's `timeout_graceful_shutdown`, after which it cancels
what still runs), the rest to the app. Whatever still holds the process when the whole
timeout has passed (a thread that does not return, a task that will not be
cancelled) is given up on: the process exits anyway, as it would if it were killed.
Every acknowledged write is committed by then; what was in flight was not answered.
"""

from __future__ import annotations

import os
import threading
from types import FrameType

import structlog
import uvicorn

from cdp.settings import Settings
from graphql_schema.ws_protocol import WS_OPTIONS

log = structlog.get_logger(__name__)
EXIT_SHUTDOWN_TIMEOUT = 70  # EX_SOFTWARE: the shutdown did not finish in time


class BoundedServer(uvicorn.Server):
    """uvicorn's server, whose first exit signal also starts the shutdown deadline."""

    def __init__(self, config: uvicorn.Config, shutdown_timeout: float) -> None:
        super().__init__(config)
        self.shutdown_timeout = shutdown_timeout
        self._deadline: threading.Timer | None = None

    def handle_exit(self, sig: int, frame: FrameType | None) -> None:
        super().handle_exit(sig, frame)
        if self._deadline is None:
            # A thread, not a task: it must fire even when the event loop is stuck.
            self._deadline = threading.Timer(self.shutdown_timeout, self._give_up)
            self._deadline.daemon = True
            self._deadline.start()

    def _give_up(self) -> None:
        log.error("shutdown_timeout_exceeded", seconds=self.shutdown_timeout)
        os._exit(EXIT_SHUTDOWN_TIMEOUT)


def serve(settings: Settings, host: str, port: int) -> None:
    config = uvicorn.Config(
        "graphql_schema.app:create_app",
        factory=True,
        host=host,
        port=port,
        log_level="warning",
        # uvicorn takes whole seconds here
        timeout_graceful_shutdown=max(1, int(settings.shutdown_timeout_seconds / 2)),
        **WS_OPTIONS,
    )
    BoundedServer(config, settings.shutdown_timeout_seconds).run()
