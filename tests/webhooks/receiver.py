"""A real HTTP receiver on loopback for webhook tests: fails a share of requests, hangs on
some, and records every request it accepted, keyed by Idempotency-Key."""

from __future__ import annotations

import json
import random
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


@dataclass
class Receiver:
    fail_share: float = 0.0
    hang_share: float = 0.0
    hang_seconds: float = 3.0
    seed: int = 7
    accepted: list[tuple[str, dict[str, Any], dict[str, str]]] = field(default_factory=list)
    requests: int = 0

    def __post_init__(self) -> None:
        self._random = random.Random(self.seed)
        self._lock = threading.Lock()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers["Content-Length"]))
                with receiver._lock:
                    receiver.requests += 1
                    roll = receiver._random.random()
                if roll < receiver.hang_share:
                    time.sleep(receiver.hang_seconds)
                    status = 200
                elif roll < receiver.hang_share + receiver.fail_share:
                    status = 503
                else:
                    status = 200
                if status == 200:
                    with receiver._lock:
                        receiver.accepted.append(
                            (self.headers["Idempotency-Key"], json.loads(body), dict(self.headers))
                        )
                try:
                    self.send_response(status)
                    self.end_headers()
                except OSError:
                    pass

            def log_message(self, *args: object) -> None:
                return None

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._server.server_port}/hook"

    def __enter__(self) -> Receiver:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.shutdown()
        self._server.server_close()

    def unique(self) -> dict[str, dict[str, Any]]:
        """What the receiver holds after de-duplication on the idempotency header."""
        with self._lock:
            return {key: payload for key, payload, _ in self.accepted}
